"""Adapters to DynamoDB. The only modules that know table layouts and the boto3 API."""
