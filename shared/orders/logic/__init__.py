"""Domain logic: rules and orchestration, no HTTP and no direct AWS calls."""
