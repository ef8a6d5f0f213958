"""Adapters to AWS messaging services (SES, SNS, EventBridge, Cognito). Logic sees only their protocols."""
