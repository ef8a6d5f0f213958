"""Template security checks: cfn-lint with the serverless rules, and checkov on the SAM translation.

Every finding is either fixed in template.yaml or suppressed once, with its reason, in the checker's
configuration: .cfnlintrc.yaml (cfn-lint reads it from the repository root) and .checkov.yaml (passed
to checkov here). The template's Fn::ForEach loops are expanded before the translation, as
CloudFormation does. Exit status 1 on any finding.
Usage: python tools/security.py [--checkov PATH] [--cfn-lint PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.translate_template import translate  # noqa: E402

CHECKOV_CONFIG = ROOT / ".checkov.yaml"


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


def skipped_checks(config: Path = CHECKOV_CONFIG) -> list[str]:
    """The checks .checkov.yaml skips (each line ``- CKV_...  # reason``)."""
    return list(yaml.safe_load(config.read_text())["skip-check"])


def run_checkov(checkov: str, translated: Path, config: Path = CHECKOV_CONFIG) -> list[str]:
    argv = [checkov, "--config-file", str(config), "-f", str(translated), "--framework", "cloudformation"]
    result = subprocess.run(  # noqa: S603 - fixed argv, our own tools
        [*argv, "-o", "json", "--quiet", "--compact"],
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
    return [
        f"{check['check_id']} {check['resource']}: {check['check_name']}" for check in results.get("failed_checks", [])
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--checkov", default=str(ROOT / ".venv-tools" / "bin" / "checkov"))
    parser.add_argument("--cfn-lint", default=str(Path(sys.executable).parent / "cfn-lint"))
    parser.add_argument("--out", default="build/template.checkov.json")
    args = parser.parse_args()

    template = ROOT / args.template
    translated = translate(template)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(translated, indent=1, sort_keys=True))

    lint = run_cfn_lint(args.cfn_lint, template)
    print(f"cfn-lint (serverless rules) on {args.template}: {len([x for x in lint if x[:1] in 'EWI'])} finding(s)")
    for line in lint:
        print(f"  {line}")
    failed = run_checkov(args.checkov, out)
    skipped = len(skipped_checks())
    print(f"checkov on the SAM translation: {len(failed)} finding(s); {skipped} checks skipped by .checkov.yaml")
    for line in failed:
        print(f"  {line}")
    return 1 if lint or failed else 0


if __name__ == "__main__":
    sys.exit(main())
