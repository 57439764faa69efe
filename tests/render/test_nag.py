"""cdk-nag's AwsSolutions pack (issue 14, item 4) on each api.auth mode's template, through CfnInclude
(nag/nag.js, `make nag`): with auth on APIG4 holds, in cognito mode COG4 too, and iam mode
suppresses COG4 with its reason in the methods' Metadata. Skipped where `make nag` has not
installed nag/node_modules (npm)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest

from blueprint.cfn import loader
from blueprint.render.templates import render_environment
from tests.conftest import ROOT
from tests.render.auth_specs import mode_spec

NAG = ROOT / "nag"
pytestmark = pytest.mark.skipif(not (NAG / "node_modules" / "cdk-nag").is_dir() or not shutil.which("node"),
                                reason="run `make nag` once: it installs cdk-nag from nag/package-lock.json")
MODES = ("cognito", "scoped", "pool", "iam")


@cache
def findings() -> dict[str, set[str]]:
    """mode -> the rule ids cdk-nag reports on its template (one node run for all of them: it takes a while)."""
    folder = Path(tempfile.mkdtemp())
    files = {}
    for mode in (*MODES, "none"):
        path = folder / mode / "template.yaml"
        path.parent.mkdir()
        text = (ROOT / "generated" / "dev" / "template.yaml").read_text() if mode == "none" else \
            render_environment(mode_spec(folder / mode, mode))
        path.write_text(text)
        files[str(path)] = mode
    out = subprocess.run(["node", str(NAG / "nag.js"), *files], capture_output=True, text=True, cwd=NAG)
    assert out.returncode in (0, 1), out.stderr
    found: dict[str, set[str]] = {m: set() for m in files.values()}
    for line in out.stdout.splitlines():
        file, _level, _resource, message = line.split(" ", 3)  # nag.js: `<template> <level> <resource> <rule>: ...`
        found[files[file]].add(message.split(":", 1)[0].split("[")[0])
    return found


@pytest.mark.parametrize("mode", MODES)
def test_with_auth_on_apig4_holds(mode):
    assert "AwsSolutions-APIG4" not in findings()[mode]


@pytest.mark.parametrize("mode", ["cognito", "scoped", "pool"])
def test_cognito_mode_holds_cog4(mode):
    assert "AwsSolutions-COG4" not in findings()[mode] and "AwsSolutions-COG3" not in findings()[mode]


def test_iam_mode_suppresses_cog4_with_its_reason_in_the_metadata():
    assert "AwsSolutions-COG4" not in findings()["iam"]
    t = loader.loads(render_environment(mode_spec(Path(tempfile.mkdtemp()), "iam")))
    methods = [r for r in t["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"
               and r["Properties"]["HttpMethod"] != "OPTIONS"]
    for m in methods:
        (rule,) = m["Metadata"]["cdk_nag"]["rules_to_suppress"]
        assert rule["id"] == "AwsSolutions-COG4" and "SigV4" in rule["reason"]


def test_without_auth_both_rules_are_suppressed_with_the_spec_decision_they_stand_for():
    assert not {"AwsSolutions-APIG4", "AwsSolutions-COG4"} & findings()["none"]
    t = loader.loads((ROOT / "generated" / "dev" / "template.yaml").read_text())
    for r in t["Resources"].values():
        if r["Type"] == "AWS::ApiGateway::Method" and r["Properties"]["HttpMethod"] != "OPTIONS":
            rules = {s["id"]: s["reason"] for s in r["Metadata"]["cdk_nag"]["rules_to_suppress"]}
            assert set(rules) == {"AwsSolutions-APIG4", "AwsSolutions-COG4"}
            assert all("api.auth is none" in reason for reason in rules.values())


@pytest.mark.parametrize("mode", [*MODES, "none"])
def test_every_mode_passes_the_whole_pack(mode):
    assert findings()[mode] == set()


def test_every_committed_template_passes_the_whole_pack():
    files = sorted(str(p) for p in (ROOT / "generated").glob("*/template.yaml"))
    out = subprocess.run(["node", str(NAG / "nag.js"), *files], capture_output=True, text=True, cwd=NAG)
    assert out.returncode == 0 and out.stdout == "", out.stdout + out.stderr
