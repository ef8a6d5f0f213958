"""Extract the Stripe OpenAPI component schemas the contract tests need into a small JSON file.

Usage (from the repository root)::

    python tools/stripe_spec_subset.py --spec spec3.json --commit <sha> \
        [--transcribed tests/contract/stripe/transcribed_af5309c.json] \
        --out tests/contract/stripe/schemas.json

``--spec`` is Stripe's ``openapi/spec3.json`` (public repository stripe/openapi). The named
schemas and every component they reference that is also named (``KEEP``) are copied with
their structure; descriptions and ``x-`` annotations are dropped. A ``$ref`` to a component
outside the subset becomes ``{}`` (any value), and a nullable enum or anyOf gets ``null`` listed
(what OpenAPI 3.0.3 asks for and Stripe's spec leaves to ``nullable``): the contract checks the fields our fakes and
adapters use, not every nested object Stripe defines. ``--transcribed`` schemas (same format)
take precedence over the spec's: they let a newer spec's schemas be used where only part of
it could be read (see tests/contract/stripe/README.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

KEEP = (
    "charge",
    "charge_outcome",
    "dispute",
    "dispute_evidence",
    "dispute_evidence_details",
    "event",
    "notification_event_data",
    "notification_event_request",
    "payment_intent",
    "refund",
)
_REF = "#/components/schemas/"


def _clean(node: Any, keep: frozenset[str]) -> Any:
    if isinstance(node, list):
        return [_clean(item, keep) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        return node if ref.removeprefix(_REF) in keep else {}
    cleaned = {
        key: _clean(value, keep)
        for key, value in node.items()
        if key not in ("description", "_note") and not key.startswith("x-")
    }
    if cleaned.get("nullable") is True and isinstance(cleaned.get("enum"), list) and None not in cleaned["enum"]:
        # OpenAPI 3.0.3 wants a nullable enum to list null; Stripe's spec relies on `nullable` alone.
        cleaned["enum"] = [*cleaned["enum"], None]
    if cleaned.get("nullable") is True and isinstance(cleaned.get("anyOf"), list):
        # Likewise a nullable anyOf: null is one of its alternatives.
        cleaned["anyOf"] = [*cleaned["anyOf"], {"enum": [None]}]
    return cleaned


def subset(spec: dict[str, Any], transcribed: dict[str, Any], keep: tuple[str, ...] = KEEP) -> dict[str, Any]:
    schemas = spec.get("components", {}).get("schemas", {})
    names = frozenset(keep)
    out: dict[str, Any] = {}
    for name in keep:
        source = transcribed.get(name) or schemas.get(name)
        if source is None:
            raise SystemExit(f"schema {name!r} is in neither the spec nor the transcription")
        out[name] = _clean(source, names)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--commit", required=True, help="stripe/openapi commit the spec file comes from")
    parser.add_argument("--transcribed", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    spec = json.loads(args.spec.read_text())
    transcribed = json.loads(args.transcribed.read_text()) if args.transcribed else {}
    schemas = subset(spec, transcribed)
    origin = {
        name: (transcribed.get("_source", "transcribed") if name in transcribed else f"spec3.json@{args.commit}")
        for name in schemas
    }
    document = {
        "openapi": "3.0.0",
        "info": {"spec_version": spec.get("info", {}).get("version"), "source": origin},
        "components": {"schemas": schemas},
    }
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"{args.out}: {len(schemas)} schemas, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
