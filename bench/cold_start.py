"""Cold start per function: a fresh process imports the handler module and makes its first AWS client.

Next to it, the floor: a fresh process that imports boto3 and makes one DynamoDB client. Both are
timed the same way (wall time of the whole process, interpreter start included), alternating runs
so machine noise hits both alike. Reports the median of N runs and the ratio to the floor.

Also, so that no cost moved to the first request is hidden: "import + first request handled" (the
handler answers one sample event from events/ against a moto server on loopback, with tracing on as
in Lambda), next to its own floor (boto3 + client + one GetItem against the same server).
``--breakdown``: where a handler's import time goes beyond the floor (``python -X importtime``,
self time summed per package).

``--lambda``: cold start from the layer as Lambda loads it (python3.13, not the development virtualenv): the
functions' code from .aws-sam/build, the layer built twice from shared/requirements.lock for this machine's
architecture (x86_64 wheels; the arm64 layer's native libraries cannot load here), both read-only:
"before" as the python3.13 BuildMethod built it (every package, boto3/botocore and pyOpenSSL on /opt/python,
no .pyc) and "after" as shared/Makefile builds it (runtime-provided packages left out, pyOpenSSL in
apple-deps, unchecked-hash .pyc). The floor is the runtime's own boto3: the lock's boto3 set installed
apart and precompiled, last on the path, as /var/lang/lib/python3.13/site-packages is on Lambda. Each process's
CPU time (wait4) is recorded next to its wall time; on a loaded machine the CPU ratios are the ones to read.

Usage: python -m bench.cold_start [--runs 15] [--no-first-request] [--breakdown] [--json PATH]
       python -m bench.cold_start --lambda [--runs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from local_stack.template import FunctionSpec, function_specs, load_template  # noqa: E402

FLOOR = "import boto3; boto3.client('dynamodb')"
# What Lambda does at cold start: import the handler module; then the first request makes its client.
HANDLER = "import {module}; from orders.dal.dynamo import dynamodb_client; dynamodb_client()"
FLOOR_REQUEST = (
    "import boto3; boto3.client('dynamodb').get_item(TableName='CatalogTable', Key={'sku': {'S': 'coins-500'}})"
)
FIRST_REQUEST = """
import json, sys
import {module} as handler_module
class Context:
    function_name = {name!r}
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + {name!r}
    aws_request_id = "bench"
    log_group_name = log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 10000
try:
    handler_module.lambda_handler(json.load(open({event!r})), Context())
except Exception as exc:  # still a request handled (e.g. a workflow task for a refund that is not there)
    print("handler raised", type(exc).__name__, file=sys.stderr)
"""
# Non-API functions: the event a first request would carry.
SAMPLE_EVENTS: dict[str, Any] = {
    "SchedulerFunction": {"job": "ticket-breaches"},
    "RefundWorkerFunction": {"action": "open", "refund_id": "rf_00000000000000000000000000000000_000000000000"},
}
FLOOR_NAME = "floor (boto3 + DynamoDB client)"
# What every API handler needs before any project code: the floor, pydantic, Logger/Metrics/Tracer as
# orders.observability makes them, and a REST resolver with request validation.
FRAMEWORK = (
    FLOOR + "; import pydantic; from aws_lambda_powertools import Logger, Metrics, Tracer; Logger(); Metrics(); "
    "Tracer(patch_modules=('botocore', 'httplib')); "
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver; "
    "import aws_lambda_powertools.event_handler.openapi.params; APIGatewayRestResolver(enable_validation=True)"
)
FRAMEWORK_NAME = "framework only (Powertools REST resolver + validation, Logger/Metrics/Tracer, pydantic)"


def environment(
    code_uri: Path, function_name: str | None = None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHON", "AWS_", "LAMBDA_", "_X_"))}
    if function_name:
        # What the Lambda runtime sets; the X-Ray SDK, for one, takes a lighter path when it sees it.
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(code_uri),
                "AWS_LAMBDA_FUNCTION_NAME": function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                "_HANDLER": "app.lambda_handler",
                "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
            }
        )
    env.update(
        {
            # Lambda's layout: the function's code and the layer (/opt/python) on the path.
            "PYTHONPATH": os.pathsep.join([str(code_uri), str(ROOT / "shared")]),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "OrderManagement",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "PYTHONDONTWRITEBYTECODE": "",
            **(extra or {}),
        }
    )
    return env


def time_once(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return (time.perf_counter() - start) * 1000


def sample_event(spec: FunctionSpec, folder: Path) -> Path:
    """A cheap request of the function: a GET route's event where it has one, else its first event."""
    if spec.logical_id in SAMPLE_EVENTS:
        path = folder / f"{spec.logical_id}.json"
        path.write_text(json.dumps(SAMPLE_EVENTS[spec.logical_id]))
        return path
    name = Path(spec.code_uri).name
    candidates = sorted(
        p for p in (ROOT / "events").glob(name + "*.json") if p.stem == name or p.stem.startswith(name + "_")
    )
    if not candidates:
        raise LookupError(f"no sample event for {spec.logical_id}")
    gets = [p for p in candidates if json.loads(p.read_text()).get("httpMethod") == "GET"]
    chosen = (gets or candidates)[0]
    event = json.loads(chosen.read_text())
    claims = (event.get("requestContext") or {}).get("authorizer", {}).get("claims")
    if claims is not None and not claims.get("cognito:groups"):
        # A staff route answers 403 before touching DynamoDB: give the caller the roles, so the request works.
        claims["cognito:groups"] = "ops,reviewer,support"
        chosen = folder / f"{spec.logical_id}.json"
        chosen.write_text(json.dumps(event))
    return chosen


@contextmanager
def moto_server() -> Iterator[tuple[str, dict[str, str]]]:
    """moto on loopback with the template's tables and the seed catalog; yields (endpoint, refs)."""
    import boto3
    import requests
    from moto.server import ThreadedMotoServer

    from local_stack.resources import base_refs, load_seed, seed_catalog
    from local_stack.stack import free_port
    from local_stack.template import create_tables, resources

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106
        )
        template = load_template()
        create_tables(ddb, template, {name: name for name in resources(template, "AWS::DynamoDB::Table")})
        seed_catalog(ddb, "CatalogTable", load_seed())
        yield endpoint, base_refs(template)
    finally:
        # moto's backends are process-wide: leave nothing behind for the next benchmark in this process.
        requests.post(f"{endpoint}/moto-api/reset", timeout=30)
        server.stop()


def breakdown(spec: FunctionSpec) -> dict[str, float]:
    """Self import time (ms) per package of what the handler imports beyond the floor, one -X importtime run."""
    module = spec.handler.rpartition(".")[0]
    code = f"{FLOOR}; import sys; print('--- floor done', file=sys.stderr); {HANDLER.format(module=module)}"
    env = environment(ROOT / spec.code_uri, spec.logical_id)
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-X", "importtime", "-c", code], env=env, check=True, capture_output=True, text=True
    ).stderr
    groups: Counter[str] = Counter()
    for line in out.split("--- floor done", 1)[1].splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        name = name.strip()
        depth = 3 if name.startswith(("orders.", "aws_lambda_powertools.")) else 1
        groups[".".join(name.split(".")[:depth])] += int(self_us)
    return {name: round(us / 1000, 1) for name, us in groups.most_common(15)}


def run(
    runs: int = 15, first_request: bool = True, with_breakdown: bool = False, only: list[str] | None = None
) -> dict[str, Any]:
    specs = {k: v for k, v in function_specs(load_template()).items() if not only or k in only}
    cases: dict[str, tuple[str, dict[str, str]]] = {
        FLOOR_NAME: (FLOOR, environment(ROOT)),
        FRAMEWORK_NAME: (FRAMEWORK, environment(ROOT, "FrameworkOnly")),
    }
    for spec in specs.values():
        module = spec.handler.rpartition(".")[0]
        cases[spec.logical_id] = (HANDLER.format(module=module), environment(ROOT / spec.code_uri, spec.logical_id))
    with tempfile.TemporaryDirectory() as folder, _maybe_moto(first_request) as server:
        if server is not None:
            from local_stack.runtime import LambdaRuntime

            endpoint, refs = server
            runtime = LambdaRuntime(refs)
            extra = {"AWS_ENDPOINT_URL": endpoint}
            cases["floor + first GetItem"] = (FLOOR_REQUEST, environment(ROOT, extra=extra))
            for spec in specs.values():
                module = spec.handler.rpartition(".")[0]
                event = sample_event(spec, Path(folder))
                code = FIRST_REQUEST.format(module=module, name=spec.logical_id, event=str(event))
                env = environment(
                    ROOT / spec.code_uri, spec.logical_id, {**runtime.environment(spec.logical_id), **extra}
                )
                cases[f"{spec.logical_id} + first request"] = (code, env)
        for code, env in cases.values():  # warm the OS file cache and .pyc files once
            time_once(code, env)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        load: list[float] = []
        for _ in range(runs):
            load.append(os.getloadavg()[0])
            for name, (code, env) in cases.items():
                samples[name].append(time_once(code, env))

    def floor_of(name: str) -> float:
        base = (
            "floor + first GetItem" if name.endswith("first request") or name == "floor + first GetItem" else FLOOR_NAME
        )
        return statistics.median(samples[base])

    results = {
        name: {
            "median_ms": round(statistics.median(v), 1),
            "ratio_to_floor": round(statistics.median(v) / floor_of(name), 3),
            "min_ms": round(min(v), 1),
            "max_ms": round(max(v), 1),
        }
        for name, v in samples.items()
    }
    out: dict[str, Any] = {
        "runs": runs,
        "python": sys.version.split()[0],
        "load_average_during": [round(min(load), 2), round(max(load), 2)],
        "target_ratio": 1.25,
        "results": results,
    }
    if with_breakdown:
        out["breakdown_ms"] = {spec.logical_id: breakdown(spec) for spec in specs.values()}
    return out


# --- as Lambda loads it ------------------------------------------------------------------------------------
LAMBDA_DIR = ROOT / "build" / "bench" / "lambda"
LOCK = ROOT / "shared" / "requirements.lock"
# What the python3.13 runtime ships in /var/lang/lib/python3.13/site-packages (boto3 and its dependencies).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
PLATFORM = "x86_64-manylinux_2_28"
UV = ROOT / ".venv" / "bin" / "uv"


def python313() -> str:
    """The python3.13 to run: LAMBDA_PYTHON, python3.13 on PATH if it runs, else pyenv's newest 3.13."""
    candidates = [os.environ.get("LAMBDA_PYTHON", ""), "python3.13"]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"), reverse=True)]
    for candidate in filter(None, candidates):
        found = subprocess.run(  # noqa: S603
            [candidate, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=False
        )
        if found.returncode == 0:
            return found.stdout.strip()
    raise LookupError("python3.13 not found (LAMBDA_PYTHON, PATH or pyenv)")


def lock_entries(names: tuple[str, ...]) -> str:
    """The lock's entries (pin and hashes) of these packages, as a requirements file."""
    keep, out = False, []
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace():
            keep = line.split("==")[0] in names
        if keep:
            out.append(line)
    return "\n".join(out) + "\n"


def _install(target: Path, requirements: Path, python: str) -> None:
    subprocess.run(  # noqa: S603
        [
            *(str(UV), "pip", "install", "--quiet", "--python", python, "--python-version", "3.13"),
            *("--python-platform", PLATFORM, "--only-binary", ":all:", "--no-deps", "--require-hashes"),
            *("--target", str(target), "-r", str(requirements)),
        ],
        check=True,
    )


def _writable(folder: Path, writable: bool) -> None:
    """chmod -R u+w / a-w."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


def prepare_lambda(folder: Path = LAMBDA_DIR) -> dict[str, Path]:
    """runtime/, layer-before/, layer-after/ and functions/<LogicalId>/, read-only; returns their paths."""
    python = python313()
    if folder.exists():
        _writable(folder, True)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    runtime, before, after = folder / "runtime", folder / "layer-before", folder / "layer-after"
    # The runtime's boto3: precompiled, as in the runtime's image.
    (folder / "runtime.txt").write_text(lock_entries(RUNTIME_PACKAGES))
    _install(runtime, folder / "runtime.txt", python)
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(runtime)], check=True)  # noqa: S603
    # Before: every locked package on /opt/python, the orders package beside them, no bytecode.
    _install(before / "python", LOCK, python)
    shutil.copytree(ROOT / "shared" / "orders", before / "python" / "orders")
    # After: exactly what `sam build` runs for the layer, for this architecture.
    subprocess.run(  # noqa: S603
        [
            *("make", "-s", "-C", str(ROOT / "shared"), "build-SharedLayer", f"ARTIFACTS_DIR={after}"),
            *(f"UV={UV}", f"LAYER_PYTHON={python}", f"LAYER_PLATFORM={PLATFORM}"),
        ],
        check=True,
    )
    built = ROOT / ".aws-sam" / "build"
    for spec in function_specs(load_template()).values():
        source = built / spec.logical_id if (built / spec.logical_id).is_dir() else ROOT / spec.code_uri
        shutil.copytree(source, folder / "functions" / spec.logical_id)
    for path in folder.rglob("__pycache__"):
        if before in path.parents or (folder / "functions") in path.parents:
            shutil.rmtree(path)  # as shipped: no bytecode beside the sources
    _writable(folder, False)
    return {"python": Path(python), "runtime": runtime, "before": before, "after": after, "root": folder}


def _lambda_env(paths: dict[str, Path], function: str | None, layer: str | None) -> dict[str, str]:
    code = paths["root"] / "functions" / function if function else paths["root"]
    env = environment(code, function or "Floor")
    # Lambda's search path: the function's code, the layer (/opt/python), then the runtime's site-packages.
    entries = [str(code)] if function else []
    entries += [str(paths[layer] / "python")] if layer else []
    env["PYTHONPATH"] = os.pathsep.join([*entries, str(paths["runtime"])])
    # Nothing may write bytecode beside the sources (Lambda's /var/task and /opt are read-only; as root here
    # chmod does not stop writes, so writing is switched off: what is compiled is compiled in every process).
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _time_python(python: Path, code: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one fresh process. CPU time (user + system, from wait4) is what a cold start spends
    importing and unmarshalling; on a shared, loaded machine it varies far less than wall time."""
    start = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603
        [str(python), "-s", "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, code)
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def pyopenssl_import(paths: dict[str, Path], layer: str, function: str, module: str) -> dict[str, Any]:
    """Does the handler's import + first client load OpenSSL? ``python -X importtime``: the cumulative time of
    ``urllib3.contrib.pyopenssl`` (botocore.httpsession's optional import), and whether OpenSSL ended up loaded
    (importtime also lists a failed attempt, so sys.modules says whether it succeeded)."""
    code = HANDLER.format(module=module) + "; import sys; print('OpenSSL' in sys.modules)"
    done = subprocess.run(  # noqa: S603
        [str(paths["python"]), "-s", "-X", "importtime", "-c", code],
        env=_lambda_env(paths, function, layer),
        check=True,
        capture_output=True,
        text=True,
    )
    cumulative = [
        int(parts[1])
        for parts in (line.split("|") for line in done.stderr.splitlines())
        if len(parts) == 3 and parts[2].strip() == "urllib3.contrib.pyopenssl"
    ]
    return {
        "openssl_loaded": done.stdout.strip() == "True",
        "urllib3_contrib_pyopenssl_cumulative_us": cumulative[0] if cumulative else None,
    }


def run_lambda(runs: int = 3, only: list[str] | None = None) -> dict[str, Any]:
    specs = {k: v for k, v in function_specs(load_template()).items() if not only or k in only}
    paths = prepare_lambda()
    cases: dict[str, tuple[str, dict[str, str]]] = {FLOOR_NAME: (FLOOR, _lambda_env(paths, None, None))}
    for layer in ("before", "after"):
        cases[f"{FRAMEWORK_NAME} [{layer}]"] = (FRAMEWORK, _lambda_env(paths, None, layer))
    for spec in specs.values():
        module = spec.handler.rpartition(".")[0]
        for layer in ("before", "after"):
            env = _lambda_env(paths, spec.logical_id, layer)
            cases[f"{spec.logical_id} [{layer}]"] = (HANDLER.format(module=module), env)
    for code, env in cases.values():  # warm the OS file cache once
        _time_python(paths["python"], code, env)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    load: list[float] = []
    for _ in range(runs):
        load.append(os.getloadavg()[0])
        for name, (code, env) in cases.items():
            wall, used = _time_python(paths["python"], code, env)
            samples[name].append(wall)
            cpu[name].append(used)
    floor = statistics.median(samples[FLOOR_NAME])
    floor_cpu = statistics.median(cpu[FLOOR_NAME])
    results = {
        name: {
            "median_ms": round(statistics.median(v), 1),
            "ratio_to_floor": round(statistics.median(v) / floor, 3),
            "min_ms": round(min(v), 1),
            "max_ms": round(max(v), 1),
            "cpu_median_ms": round(statistics.median(cpu[name]), 1),
            "cpu_ratio_to_floor": round(statistics.median(cpu[name]) / floor_cpu, 3),
        }
        for name, v in samples.items()
    }
    first = next(iter(specs.values()))
    module = first.handler.rpartition(".")[0]
    layer_files = {
        layer: {
            "py": sum(1 for _ in (paths[layer] / "python").rglob("*.py")),
            "pyc": sum(1 for _ in (paths[layer] / "python").rglob("*.pyc")),
            "boto3_in_layer": (paths[layer] / "python" / "boto3").exists(),
            first.logical_id: pyopenssl_import(paths, layer, first.logical_id, module),
        }
        for layer in ("before", "after")
    }
    written = list((paths["before"] / "python").rglob("__pycache__"))
    return {
        "runs": runs,
        "python": subprocess.run(  # noqa: S603
            [str(paths["python"]), "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip(),
        "platform": PLATFORM,
        "load_average_during": [round(min(load), 2), round(max(load), 2)],
        "target_ratio": 1.25,
        "layers": layer_files,
        "bytecode_written_into_before_layer": len(written),
        "results": results,
    }


@contextmanager
def _maybe_moto(enabled: bool) -> Iterator[tuple[str, dict[str, str]] | None]:
    if not enabled:
        yield None
        return
    with moto_server() as server:
        yield server


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-first-request", action="store_true")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--only", nargs="+", help="only these functions (logical ids); the floors always run")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--lambda", dest="as_lambda", action="store_true", help="python3.13, built layer, read-only")
    args = parser.parse_args()
    if args.as_lambda:
        out = run_lambda(args.runs, only=args.only)
        print(
            f"cold start as Lambda loads it, median of {args.runs} (Python {out['python']}, load "
            f"{out['load_average_during']}); layers: {out['layers']}"
        )
        print(f"{'case':<44}{'median ms':>10}{'min':>8}{'max':>8}{'x floor':>9}{'CPU ms':>9}{'x floor':>9}")
        for name, r in out["results"].items():
            print(
                f"{name[:43]:<44}{r['median_ms']:>10}{r['min_ms']:>8}{r['max_ms']:>8}{r['ratio_to_floor']:>9}"
                f"{r['cpu_median_ms']:>9}{r['cpu_ratio_to_floor']:>9}"
            )
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(out, indent=2))
        return
    out = run(args.runs, first_request=not args.no_first_request, with_breakdown=args.breakdown, only=args.only)
    print(
        f"cold start, median of {args.runs} fresh processes (Python {out['python']}, load {out['load_average_during']})"
    )
    print(f"{'case':<44}{'median ms':>10}{'min':>8}{'max':>8}{'x floor':>9}")
    for name, r in out["results"].items():
        print(f"{name:<44}{r['median_ms']:>10}{r['min_ms']:>8}{r['max_ms']:>8}{r['ratio_to_floor']:>9}")
    for name, parts in out.get("breakdown_ms", {}).items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in parts.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
