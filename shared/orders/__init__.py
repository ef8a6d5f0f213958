"""Order-management domain package, shipped as the Lambda layer (imported as ``orders``)."""
