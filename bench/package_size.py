"""Package size of each function and of the layer after ``sam build``.

Copies the tracked files (``git archive HEAD`` plus the working tree's changes are NOT included: commit
first) to a temporary folder, runs ``sam build`` there with python3.13 on PATH, then reports for every
artifact under .aws-sam/build its unzipped size and its size zipped (deflate, as ``sam deploy`` uploads
it). Lambda's limits: 50 MB zipped for a direct upload, 250 MB unzipped for a function and all its layers.

    .venv/bin/python -m bench.package_size [--build-dir .aws-sam/build] [--json PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON313 = Path("/root/.pyenv/versions/3.13.0/bin")
SAM = ROOT / ".venv-sam" / "bin" / "sam"
MB = 1024 * 1024
UNZIPPED_LIMIT_MB = 250


def sizes(folder: Path) -> tuple[int, int]:
    """(unzipped bytes, zipped bytes) of a folder."""
    unzipped = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                unzipped += path.stat().st_size
                archive.write(path, path.relative_to(folder))
    return unzipped, buffer.tell()


def build(workdir: Path) -> Path:
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True).stdout  # noqa: S607
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(workdir, filter="data")
    # sam build needs the runtime's python3.13 on PATH (here under pyenv; elsewhere already on PATH).
    env = {**os.environ, "PATH": f"{PYTHON313}{os.pathsep}{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    # The layer's Makefile (shared/Makefile) installs with uv and compiles with python3.13.
    env.update({"UV": str(ROOT / ".venv" / "bin" / "uv"), "LAYER_PYTHON": str(PYTHON313 / "python3.13")})
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    subprocess.run([str(SAM), "build"], cwd=workdir, env=env, check=True, capture_output=True)  # noqa: S603
    return workdir / ".aws-sam" / "build"


def measure(build_dir: Path) -> dict[str, Any]:
    artifacts: dict[str, Any] = {}
    for folder in sorted(p for p in build_dir.iterdir() if p.is_dir()):
        unzipped, zipped = sizes(folder)
        artifacts[folder.name] = {"unzipped_mb": round(unzipped / MB, 3), "zipped_mb": round(zipped / MB, 3)}
    layer = next((v for k, v in artifacts.items() if "Layer" in k), {"unzipped_mb": 0.0})
    largest = {}
    layer_dir = next((p for p in build_dir.iterdir() if "Layer" in p.name), None)
    if layer_dir is not None:
        packages = [p for p in (layer_dir / "python").iterdir() if p.is_dir() and not p.name.endswith("-info")]
        by_size = sorted(((sizes(p)[0], p.name) for p in packages), reverse=True)[:8]
        largest = {name: round(size / MB, 1) for size, name in by_size}
    functions = {k: v for k, v in artifacts.items() if "Layer" not in k}
    worst = max(f["unzipped_mb"] for f in functions.values()) + layer["unzipped_mb"]
    return {
        "artifacts": artifacts,
        "layer_largest_packages_mb": largest,
        "largest_function_plus_layer_unzipped_mb": round(worst, 1),
        "unzipped_limit_mb": UNZIPPED_LIMIT_MB,
        "within_limit": worst < UNZIPPED_LIMIT_MB,
    }


def run(build_dir: Path | None = None) -> dict[str, Any]:
    if build_dir is not None:
        return measure(build_dir)
    workdir = Path(tempfile.mkdtemp(prefix="bench-sam-"))
    try:
        return measure(build(workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--build-dir", type=Path, help="measure an existing .aws-sam/build instead of building")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = run(args.build_dir)
    for name, size in out["artifacts"].items():
        print(f"{name:<28} unzipped {size['unzipped_mb']:>8.3f} MB   zipped {size['zipped_mb']:>8.3f} MB")
    print("layer's largest packages (MB):", out["layer_largest_packages_mb"])
    print(f"largest function + layer: {out['largest_function_plus_layer_unzipped_mb']} MB of {UNZIPPED_LIMIT_MB} MB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
