"""The one Logger / Metrics / Tracer of the service.

Names come from the standard Powertools variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE), set per function in template.yaml.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()
