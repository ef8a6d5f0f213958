"""template.yaml's staff console: a private bucket behind CloudFront with security headers, and its own
Cognito app client for the hosted UI (code + PKCE). Nothing local-only reaches the template."""

from __future__ import annotations

import json
from typing import Any

from local_stack.template import ROOT, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def props(name: str) -> dict[str, Any]:
    return RESOURCES[name]["Properties"]  # type: ignore[no-any-return]


def test_the_console_bucket_is_private_encrypted_owner_enforced_and_tls_only() -> None:
    bucket = props("ConsoleBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in bucket  # never an S3 website endpoint: CloudFront only
    statements = props("ConsoleBucketPolicy")["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in statements)


def test_only_this_distribution_reads_the_bucket_through_origin_access_control() -> None:
    allow = [s for s in props("ConsoleBucketPolicy")["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert len(allow) == 1
    assert allow[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow[0]["Action"] == "s3:GetObject"
    assert "${ConsoleDistribution}" in json.dumps(allow[0]["Condition"]["StringEquals"]["AWS:SourceArn"])
    oac = props("ConsoleOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    origin = props("ConsoleDistribution")["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}


def test_every_response_carries_the_security_headers() -> None:
    config = props("ConsoleDistribution")["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "ConsoleSecurityHeaders"} for b in behaviours)
    assert all(b["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only") for b in behaviours)
    headers = props("ConsoleSecurityHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"][0]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"


def test_the_api_is_served_under_the_console_origin_uncached() -> None:
    config = props("ConsoleDistribution")["DistributionConfig"]
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == {"Fn::Sub": "/${Stage}/*"}
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled: per-caller responses
    assert "POST" in api["AllowedMethods"] and "PATCH" in api["AllowedMethods"]
    origin = next(o for o in config["Origins"] if o["Id"] == api["TargetOriginId"])
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_staff_sign_in_is_the_hosted_ui_with_code_and_pkce() -> None:
    client = props("ConsoleUserPoolClient")
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]  # never the implicit flow
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert "openid" in client["AllowedOAuthScopes"]
    assert client["EnableTokenRevocation"] is True
    assert client["CallbackURLs"] == client["LogoutURLs"]
    assert props("ConsoleUserPoolDomain")["UserPoolId"] == {"Ref": "UserPool"}
    assert {"ConsoleUrls", "ConsoleAuthDomainPrefix"} <= set(TEMPLATE["Parameters"])
    assert {"ConsoleUrl", "ConsoleBucketName", "ConsoleAuthDomain", "ConsoleUserPoolClientId"} <= set(
        TEMPLATE["Outputs"]
    )


def test_the_local_dev_sign_in_never_reaches_the_template() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert "/_local/" not in text and "local-only-not-a-secret-dev-jwt" not in text
