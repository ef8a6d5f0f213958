"""Template security checks: cfn-lint with the serverless rules, and checkov on the SAM translation.

Every finding is either fixed in template.yaml or suppressed there, on the resource, with its
reason (``Metadata: cfn-lint: config: ignore_checks`` / ``Metadata: checkov: skip: [{id, comment}]``).
Resources SAM generates (roles, stages, permissions) inherit the checkov skips of the resource
they come from, so a suppression is written once, next to what it is about.
Exit status 1 on any finding. Usage: python tools/security.py [--checkov PATH] [--cfn-lint PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.translate_template import translate  # noqa: E402


def with_inherited_skips(source: dict[str, Any], translated: dict[str, Any]) -> dict[str, Any]:
    """Copy each SAM resource's checkov skips onto the resources generated from it (same id prefix)."""
    skips = {
        name: resource["Metadata"]["checkov"]
        for name, resource in source["Resources"].items()
        if "checkov" in (resource.get("Metadata") or {})
    }
    for name, resource in translated["Resources"].items():
        if name in source["Resources"]:
            continue
        owner = max((s for s in skips if name.startswith(s)), key=len, default=None)
        if owner is not None:
            resource.setdefault("Metadata", {})["checkov"] = skips[owner]
    return translated


def run_cfn_lint(cfn_lint: str, template: Path) -> list[str]:
    result = subprocess.run(  # noqa: S603 - fixed argv, our own tools
        [cfn_lint, "--append-rules", "cfn_lint_serverless.rules", "--", str(template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14):
        raise SystemExit(f"cfn-lint failed to run:\n{result.stderr}")
    return [line for line in result.stdout.splitlines() if line and not line.startswith(str(template.name))]


def run_checkov(checkov: str, translated: Path) -> tuple[list[str], int]:
    result = subprocess.run(  # noqa: S603 - fixed argv, our own tools
        [checkov, "-f", str(translated), "--framework", "cloudformation", "-o", "json", "--quiet", "--compact"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise SystemExit(f"checkov failed to run:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}") from exc
    if isinstance(report, list):  # one report per framework
        report = next((r for r in report if r.get("check_type") == "cloudformation"), {})
    results = report.get("results", {})
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}" for check in results.get("failed_checks", [])
    ]
    return failed, int(report.get("summary", {}).get("skipped", len(results.get("skipped_checks", []))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--checkov", default=str(ROOT / ".venv-tools" / "bin" / "checkov"))
    parser.add_argument("--cfn-lint", default=str(Path(sys.executable).parent / "cfn-lint"))
    parser.add_argument("--out", default="build/template.checkov.json")
    args = parser.parse_args()

    from local_stack.template import load_template

    template = ROOT / args.template
    source = load_template(template)
    translated = with_inherited_skips(source, json.loads(json.dumps(translate(template))))
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(translated, indent=1, sort_keys=True))

    lint = run_cfn_lint(args.cfn_lint, template)
    print(f"cfn-lint (serverless rules) on {args.template}: {len([x for x in lint if x[:1] in 'EWI'])} finding(s)")
    for line in lint:
        print(f"  {line}")
    failed, skipped = run_checkov(args.checkov, out)
    print(f"checkov on the SAM translation: {len(failed)} finding(s), {skipped} suppressed with a reason")
    for line in failed:
        print(f"  {line}")
    return 1 if lint or failed else 0


if __name__ == "__main__":
    sys.exit(main())
