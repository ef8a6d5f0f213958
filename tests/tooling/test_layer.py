"""The Lambda layer: installed from its lock, without the runtime's SDK, with bytecode, pyOpenSSL off the path.

The last tests build the layer with shared/Makefile (the target `sam build` runs) for this machine's architecture
and load it with python3.13 the way Lambda does: they need python3.13 and uv's registry access (or its cache).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local_stack.template import ROOT, load_template, resources
from orders import layer_paths

TEMPLATE = load_template()
SHARED = ROOT / "shared"
LOCK = SHARED / "requirements.lock"
UV = ROOT / ".venv" / "bin" / "uv"


def lock_entries() -> dict[str, tuple[str, set[str], int]]:
    """name → (version, the packages or files that require it, number of hashes), from the lock's annotations."""
    entries: dict[str, tuple[str, set[str], int]] = {}
    name = ""
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace():
            name, version = line.split(" ")[0].split("==")
            entries[name] = (version, set(), 0)
        elif line.strip().startswith("--hash="):
            version, via, hashes = entries[name]
            entries[name] = (version, via, hashes + 1)
        elif line.strip().startswith("# via"):
            entries[name][1].update(part.strip() for part in line.split("# via", 1)[1].split(","))
    return entries


def names_in(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}


RUNTIME_PROVIDED = names_in(SHARED / "runtime-provided.txt")


def test_sam_builds_the_layer_with_its_makefile() -> None:
    ((name, layer),) = resources(TEMPLATE, "AWS::Serverless::LayerVersion").items()
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64" == TEMPLATE["Globals"]["Function"]["Architectures"][0]
    makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert re.search(rf"^build-{name}:", makefile, re.MULTILINE), f"shared/Makefile has no build-{name} target"
    assert "--require-hashes" in makefile and "-r requirements.lock" in makefile
    assert "--invalidation-mode unchecked-hash" in makefile


def test_the_lock_pins_every_direct_requirement_with_hashes() -> None:
    entries = lock_entries()
    for line in (SHARED / "requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, version = re.sub(r"\[.*\]", "", line).split("==")
        key = name.lower().replace("_", "-")
        assert key in entries, f"{name} is not in shared/requirements.lock: run `make lock`"
        assert entries[key][0] == version, f"{name}: lock has {entries[key][0]}, requirements.txt {version}"
    assert all(hashes for _, _, hashes in entries.values())


def test_the_layer_leaves_out_only_the_runtimes_sdk_and_what_only_the_sdk_needs() -> None:
    # Given the lock's dependency graph (each package's "via")
    entries = lock_entries()
    requires: dict[str, set[str]] = {}
    for name, (_, via, _) in entries.items():
        for parent in via:
            requires.setdefault(parent, set()).add(name)
    sdk, todo = set(), ["boto3"]
    while todo:
        name = todo.pop()
        if name not in sdk:
            sdk.add(name)
            todo += requires.get(name, set())
    # Then what the layer leaves out is boto3 and its own dependencies (the runtime has them) ...
    assert sdk >= RUNTIME_PROVIDED, RUNTIME_PROVIDED - sdk
    assert {"boto3", "botocore"} <= RUNTIME_PROVIDED
    # ... and nothing it ships is there only for those (it would shadow the runtime's copy for nothing).
    for name, (_, via, _) in entries.items():
        if name not in RUNTIME_PROVIDED:
            assert via - RUNTIME_PROVIDED, f"{name} is only needed by {via}: add it to shared/runtime-provided.txt"


def test_apple_deps_go_on_the_path_only_when_asked_once_and_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    layer_paths.use_apple_deps(tmp_path / "missing")
    assert str(tmp_path / "missing") not in sys.path
    layer_paths.use_apple_deps(tmp_path)
    layer_paths.use_apple_deps(tmp_path)
    assert sys.path.count(str(tmp_path)) == 1
    assert sys.path[-1] == str(tmp_path)


def test_the_apple_adapter_asks_for_its_deps_before_importing_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    from orders.adapters.payments import apple_adapter
    from orders.config import Config

    calls: list[str] = []
    monkeypatch.setattr(apple_adapter, "use_apple_deps", lambda: calls.append("called"))
    apple_adapter.AppleWebhooks.from_config(Config.model_validate({}))
    assert calls == ["called"]


# --- the built layer, loaded as Lambda loads it ---------------------------------------------------------------
def _python313() -> str:
    spec = importlib.util.spec_from_file_location("bench_cold_start", ROOT / "bench" / "cold_start.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.python313())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """(python3.13, the layer as shared/Makefile builds it for this machine, the runtime's boto3 set)."""
    python = _python313()
    folder = tmp_path_factory.mktemp("layer")
    platform = "aarch64-manylinux_2_28" if os.uname().machine == "aarch64" else "x86_64-manylinux_2_28"
    subprocess.run(
        [
            *("make", "-s", "-C", str(SHARED), "build-SharedLayer", f"ARTIFACTS_DIR={folder / 'layer'}"),
            *(f"UV={UV}", f"LAYER_PYTHON={python}", f"LAYER_PLATFORM={platform}"),
        ],
        check=True,
        capture_output=True,
    )
    # The runtime's boto3 and its dependencies, from the same lock.
    keep, lines = False, []
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace():
            keep = line.split("==")[0] in RUNTIME_PROVIDED | {"jmespath", "urllib3"}
        if keep:
            lines.append(line)
    (folder / "runtime.txt").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [
            *(str(UV), "pip", "install", "--quiet", "--python", python, "--python-version", "3.13"),
            *("--python-platform", platform, "--no-deps", "--require-hashes", "--target", str(folder / "runtime")),
            *("-r", str(folder / "runtime.txt")),
        ],
        check=True,
        capture_output=True,
    )
    return python, folder / "layer" / "python", folder / "runtime"


def test_the_built_layer_ships_bytecode_for_every_module_and_not_the_sdk(built: tuple[str, Path, Path]) -> None:
    _, layer, _ = built
    sources = list(layer.rglob("*.py"))
    assert len(sources) > 1000
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        header = pyc.read_bytes()[:8]
        # PEP 552 flags word: 0b01 = hash-based, check_source bit unset = unchecked (valid on a read-only /opt).
        assert int.from_bytes(header[4:8], "little") == 0b01, pyc
    assert not any((layer / name).exists() for name in ("boto3", "botocore", "s3transfer", "dateutil", "six.py"))
    assert not (layer / "OpenSSL").exists() and (layer / "apple-deps" / "OpenSSL").is_dir()
    assert (layer / "orders" / "__pycache__").is_dir()


APPLE_AFTER_A_CLIENT = """
import json, sys
import boto3
boto3.client("dynamodb", region_name="us-east-1")
loaded_with_the_client = "OpenSSL" in sys.modules
from orders.config import Config
from orders.adapters.payments.apple_adapter import AppleWebhooks
from orders.models.payment import account_token
from tests.apple_chain import notification, shared_chain
config = Config.model_validate({
    "APPLE_BUNDLE_ID": "com.example.orders", "APPLE_APP_APPLE_ID": "1234", "APPLE_ENVIRONMENT": "Sandbox",
    "APPLE_ROOT_CERTIFICATES": shared_chain().root_b64, "APPLE_ONLINE_CHECKS": "false",
})
body = notification(shared_chain(), "ONE_TIME_CHARGE", order_token=account_token("ord_" + "a" * 32))
event = AppleWebhooks.from_config(config).parse({}, body.encode())
print(json.dumps({"with_client": loaded_with_the_client, "openssl": sys.modules["OpenSSL"].__file__,
                  "botocore": sys.modules["botocore"].__file__, "kind": str(event.kind)}))
"""


def test_a_client_does_not_load_pyopenssl_and_the_apple_adapter_still_verifies(built: tuple[str, Path, Path]) -> None:
    # Given python3.13 with the built layer, then the runtime's site-packages, on the path (as on Lambda)
    python, layer, runtime = built
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(layer), str(runtime), str(ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # When a function makes its first client, then verifies an App Store notification
    done = subprocess.run(
        [python, "-s", "-c", APPLE_AFTER_A_CLIENT], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # Then the client came from the runtime's botocore without OpenSSL, and the Apple path found it in apple-deps
    assert out["with_client"] is False
    assert out["botocore"].startswith(str(runtime))
    assert out["openssl"].startswith(str(layer / "apple-deps"))
    assert out["kind"].endswith("SUCCEEDED")
