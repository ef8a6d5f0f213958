"""Libraries the layer keeps off the default import path, put on ``sys.path`` only by the code that needs them.

pyOpenSSL: while it is importable, ``botocore.httpsession`` imports ``urllib3.contrib.pyopenssl`` (for its
``orig_util_SSLContext``), which imports ``OpenSSL`` and ``cryptography.x509``: a cost every function would pay
at its first client, Apple or not. Only app-store-server-library needs pyOpenSSL (it checks the x5c chain with
``OpenSSL.crypto``), so the layer installs it in ``/opt/python/apple-deps`` (shared/Makefile) and the Apple
adapter calls :func:`use_apple_deps` before importing the library. In a virtualenv (tests, local stack)
pyOpenSSL is installed normally and the folder does not exist: nothing to do.
"""

from __future__ import annotations

import sys
from pathlib import Path

# /opt/python/orders/layer_paths.py → /opt/python/apple-deps (the name has a hyphen: it is never a module).
APPLE_DEPS = Path(__file__).resolve().parent.parent / "apple-deps"


def use_apple_deps(folder: Path = APPLE_DEPS) -> None:
    """Make pyOpenSSL importable, once, after everything else on the path (it shadows nothing)."""
    entry = str(folder)
    if entry not in sys.path and folder.is_dir():
        sys.path.append(entry)
