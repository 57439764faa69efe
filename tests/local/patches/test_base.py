"""blueprint/local/patches/base.py and the package's registry: importing changes nothing in moto, `apply()`
changes it only through `wrap` and `add_model`, once; one wrapper per attribute; a test file per service."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from blueprint.local import patches
from blueprint.local.patches import base

HERE = Path(__file__).parent

# Run in a child process: apply() in this one would patch the moto that the canaries need plain.
PROBE = textwrap.dedent("""
    import inspect, json, sys
    import moto.cloudformation.parsing as parsing
    from moto.core.base_backend import model_data
    # What the patch modules import from moto, imported first: only what importing blueprint does may count.
    import moto.apigateway.models, moto.applicationautoscaling.models, moto.awslambda.models
    import moto.cloudformation.models, moto.cloudformation.responses, moto.dynamodb.models.table
    import moto.ec2.models, moto.kms.models, moto.sqs.models
    import moto.awslambda.responses, moto.awslambda.urls, moto.moto_api._internal.urls, moto.cloudwatch.responses

    def owners():
        for name, module in list(sys.modules.items()):
            if name.startswith("moto") and module is not None:
                yield (name,), module
                for value in list(vars(module).values()):
                    if isinstance(value, type) and value.__module__ == name:
                        yield (name, value.__qualname__), value

    def snapshot():
        parsing.get_model_map.cache_clear()
        return {"models": dict(parsing.get_model_map()), "data": {k: dict(v) for k, v in model_data.items()},
                "attrs": {key: dict(vars(owner)) for key, owner in owners()}}

    def changed(a, b):
        missing = object()
        return sorted(key + (attr,) for key, before in a["attrs"].items()
                      for attr in set(before) | set(b["attrs"].get(key, before))
                      if b["attrs"].get(key, before).get(attr, missing) is not before.get(attr, missing))

    def key_of(owner):
        return (owner.__name__,) if inspect.ismodule(owner) else (owner.__module__, owner.__qualname__)

    before = snapshot()
    import blueprint.local.patches as patches
    from blueprint.local.patches import base
    imported = snapshot()
    names = patches.apply()
    applied = snapshot()
    again = patches.apply()
    print(json.dumps({
        "import_changed": changed(before, imported),
        "import_models": sorted(set(imported["models"]) ^ set(before["models"])),
        "import_data": imported["data"] != before["data"],
        "names": names, "again": again,
        "apply_changed": changed(before, applied),
        "wrapped": sorted(key_of(owner) + (attr,) for owner, attr in base.WRAPPED),
        "apply_models": sorted(set(applied["models"]) - set(before["models"])),
        "installed": sorted(base.MODELS),
        "again_changed": changed(applied, snapshot()),
    }))
""")


@pytest.fixture(scope="module")
def probe() -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_importing_the_patches_changes_nothing_in_moto(probe):
    assert probe["import_changed"] == []
    assert probe["import_models"] == []
    assert probe["import_data"] is False


def test_apply_installs_every_patch_once(probe):
    assert probe["names"] == [p.name for p in patches.PATCHES]
    assert probe["again"] == probe["names"]
    assert probe["again_changed"] == []


def test_apply_changes_moto_only_through_wrap_and_add_model(probe):
    assert probe["wrapped"] and probe["apply_changed"] == probe["wrapped"]
    assert probe["apply_models"] == probe["installed"]
    assert "AWS::ApiGateway::Stage" in probe["installed"]


class _Owner:
    @classmethod
    def build(cls, x: int) -> str:
        """What the owner builds."""
        return f"{cls.__name__}:{x}"


def test_wrap_keeps_a_classmethod_a_classmethod_and_refuses_a_second_wrapper(monkeypatch):
    monkeypatch.setattr(base, "WRAPPED", {})

    def make(original):
        def build(cls, x):
            return original(cls, x) + "!"
        return build

    base.wrap(_Owner, "build", make)
    assert _Owner.build(1) == "_Owner:1!"
    assert _Owner.build.__doc__ == "What the owner builds."
    with pytest.raises(RuntimeError, match="wrapped already"):
        base.wrap(_Owner, "build", make)


def test_each_patch_says_its_gap_and_belongs_to_its_service_file():
    modules = {m.__name__.rsplit(".", 1)[-1]: m for m in patches.SERVICES}
    names = [p.name for p in patches.PATCHES]
    assert len(names) == len(set(names))
    for p in patches.PATCHES:
        assert p.service in modules and p.install.__module__ == modules[p.service].__name__
        gap = " ".join(p.gap.split())
        assert "moto" in gap and "This patch" in gap, p.name


def test_each_service_file_has_its_test_file_with_a_test_and_a_canary_per_patch():
    for p in patches.PATCHES:
        text = (HERE / f"test_{p.service}.py").read_text(encoding="utf-8")
        assert f"# ---- {p.name}" in text, f"tests/local/patches/test_{p.service}.py has no section for {p.name}"
        section = text.split(f"# ---- {p.name}", 1)[1].split("# ---- ", 1)[0]
        assert "def test_canary_" in section, f"{p.name} has no canary"
        assert any(not t.startswith("canary_") for t in section.split("def test_")[1:]), f"{p.name} has no test"
