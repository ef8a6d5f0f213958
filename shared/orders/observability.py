"""The one Logger / Metrics / Tracer of the service.

Names come from the standard Powertools variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE), set per function in template.yaml.

The Tracer patches botocore (every AWS call) and httplib (every other outgoing HTTP call:
requests, urllib and the payment SDKs all go through http.client) instead of X-Ray's
``patch_all``, which imports every supported library it finds installed (requests, sqlite3, ...)
at cold start whether the function uses it or not.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

TRACED_MODULES = ("botocore", "httplib")

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=TRACED_MODULES)

# Every function imports this module: the SnapStart before-snapshot hook is registered once, here.
import orders.snapstart  # noqa: E402, F401
