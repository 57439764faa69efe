"""`blueprint rollout` on the embedded local AWS: one package digest promoted dev -> staging -> prod.

Real boto3 over HTTP to the local AWS; the failure in staging is a real one: a log group the stack
creates exists already, so CloudFormation fails the resource and rolls the stack back.
"""
from __future__ import annotations

import json

import pytest

from blueprint import scratch
from blueprint.local import process as local
from blueprint.rollout import manifest
from tests.integration.conftest import ROOT, Project

pytestmark = pytest.mark.integration

ROLLOUT = """\
waves:
  - name: dev
    environments: [dev]
  - name: staging
    environments: [staging]
    gate: {alarms_quiet_minutes: 0}
  - name: prod
    environments: [prod]
    max_parallel: 1
    gate: {alarms_quiet_minutes: 0, approval: true}
"""


def _project(tmp_path_factory: pytest.TempPathFactory, name: str) -> Project:
    root = scratch.copy_project(ROOT, tmp_path_factory.mktemp(name))
    (root / "rollout.yaml").write_text(ROLLOUT)
    project = Project(root, "local")
    assert project.run("render").code == 0
    boot = project.run("bootstrap", "--env", "dev")
    assert boot.code == 0, boot.text
    return project


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    project = _project(tmp_path_factory, "rollout")
    run = project.run("rollout", "--service-role", "blueprint-cloudformation")
    yield project, run
    local.stop(project.root / ".blueprint")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    project = _project(tmp_path_factory, "broken")
    project.client("logs").create_log_group(logGroupName="/aws/lambda/items-staging-api")
    run = project.run("rollout")
    yield project, run
    local.stop(project.root / ".blueprint")


def _code_key(project: Project, stack: str) -> str | None:
    found = project.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in found.get("Parameters", [])}.get("CodeKey")


def _stacks(project: Project) -> set[str]:
    listed = project.client("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"] for s in listed if s["StackStatus"] != "DELETE_COMPLETE"}


def _digest(run) -> str:
    return run.out.split("package handler/", 1)[1].split(".zip", 1)[0]


def test_one_digest_reaches_dev_then_staging_then_prod(released):
    project, run = released
    assert run.code == 0, run.text
    digest = _digest(run)
    keys = {env: _code_key(project, f"items-{env}") for env in ("dev", "staging", "prod")}
    assert set(keys.values()) == {f"handler/{digest}.zip"}
    order = [run.out.index(f"wave {w}: executing") for w in ("dev", "staging", "prod")]
    assert order == sorted(order)
    assert run.out.count("rollout: package handler/") == 1  # built once


def test_every_stack_acts_with_the_service_role_of_its_account(released):
    project, run = released
    assert run.code == 0, run.text
    account = project.client("sts").get_caller_identity()["Account"]
    for env in ("dev", "staging", "prod"):
        stack = project.client("cloudformation").describe_stacks(StackName=f"items-{env}")["Stacks"][0]
        assert stack.get("RoleARN") == f"arn:aws:iam::{account}:role/blueprint-cloudformation", env


def test_the_manifest_is_in_the_state_folder_and_the_artifacts_bucket(released):
    project, run = released
    digest = _digest(run)
    data = json.loads(manifest.path(project.root, "local", digest).read_text())
    assert data["digest"] == digest and data["code_key"] == f"handler/{digest}.zip"
    assert {env: (e["outcome"], e["healthy"], e["wave"]) for env, e in data["environments"].items()} == {
        "dev": ("deployed", True, "dev"), "staging": ("deployed", True, "staging"), "prod": ("deployed", True, "prod")}
    template = (project.root / "generated" / "prod" / "template.yaml").read_text()
    assert data["environments"]["prod"]["template_sha256"] == manifest_sha(template)
    assert data["runs"][-1]["outcome"] == "succeeded" and data["runs"][-1]["by"]
    s3 = project.client("s3")
    bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("blueprint-artifacts-")][0]
    for env in ("dev", "staging", "prod"):  # each environment's own object, with its entry alone
        remote = json.loads(s3.get_object(Bucket=bucket, Key=f"releases/{digest}/{env}.json")["Body"].read())
        assert remote["environments"] == {env: data["environments"][env]}
        assert remote["digest"] == digest and remote["runs"]


def manifest_sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_a_second_rollout_of_the_same_digest_changes_nothing(released):
    project, _ = released
    again = project.run("rollout")
    assert again.code == 0, again.text
    assert "executing nothing (no changes)" in again.out


def test_a_digest_never_deployed_to_staging_is_refused_for_prod(released):
    """Refused too when another environment's object in the bucket claims staging had it: each environment's
    object speaks for that environment alone (prod's deploy role can write prod's object, never staging's)."""
    project, first = released
    before = _code_key(project, "items-prod")
    handler = sorted((project.root / "handler").glob("*.py"))[0]
    text = handler.read_text()
    handler.write_text(text + "\n# a change that was never rolled out\n")
    try:
        run = project.run("rollout", "--wave", "prod")
        digest = _digest(run)
        forged = {"digest": digest, "runs": [], "environments": {
            "staging": {"outcome": "deployed", "healthy": True, "wave": "staging", "at": manifest.now()}}}
        s3 = project.client("s3")
        bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("blueprint-artifacts-")][0]
        s3.put_object(Bucket=bucket, Key=f"releases/{digest}/prod.json", Body=json.dumps(forged).encode())
        again = project.run("rollout", "--wave", "prod")
    finally:
        handler.write_text(text)
    for refused in (run, again):
        assert refused.code == 1, refused.text
        assert "refused: wave prod takes only a package digest that wave staging deployed and found healthy" in refused.err
        assert "staging (never rolled out)" in refused.err
        assert "reviewing prod" not in refused.out
    assert digest != _digest(first)
    assert _code_key(project, "items-prod") == before


def test_a_failure_in_staging_stops_the_rollout_before_prod(broken):
    project, run = broken
    assert run.code == 1, run.text
    assert "rollout stopped at wave staging: staging failed (deploy" in run.err
    assert "not deployed: prod (prod)" in run.err
    assert "wave prod" not in run.out
    assert "items-prod" not in _stacks(project)
    assert _code_key(project, "items-dev") == f"handler/{_digest(run)}.zip"
    data = json.loads(manifest.path(project.root, "local", _digest(run)).read_text())
    assert data["environments"]["staging"]["outcome"] == "failed"
    assert data["runs"][-1]["failed_env"] == "staging"
    assert "prod" not in data["environments"]


def test_the_markdown_review_of_a_deployed_stack(released):
    project, _ = released
    run = project.run("changeset", "--env", "dev", "--output", "markdown")
    assert run.code == 0, run.text
    assert run.out == ("### `items-dev` (us-east-1, local AWS at " + run.out.split("local AWS at ", 1)[1].split(")")[0]
                       + ")\n\nNo changes: the stack already runs this template and package.\n")


def test_reviewed_without_a_recorded_change_set_is_refused(released):
    project, _ = released
    run = project.run("rollout", "--wave", "dev", "--reviewed")
    assert run.code == 2, run.text
    assert "rollout stopped at wave dev: dev failed (review: error: no reviewed change set for dev" in run.err


def test_a_gate_on_a_wave_in_another_account_takes_what_that_waves_own_run_watched(released, monkeypatch):
    """In CI, prod's job holds prod's credentials and cannot read staging's alarms in staging's account: staging's
    run watched them after its deploy (for as long as prod's gate asks) and recorded it, and prod's gate takes that."""
    from blueprint.rollout.command import Release

    project, first = released
    assert "watched for wave prod's gate: staging:" in first.out  # staging's run watched its alarms for prod's gate
    monkeypatch.setattr(Release, "reaches", lambda self, env: env != "staging")
    digest = _digest(first)
    local_copy = manifest.path(project.root, "local", digest)
    artifacts = project.root / "artifacts" / "blueprint-release-staging"  # as CI's prod job downloads them
    artifacts.mkdir(parents=True)
    (artifacts / f"{digest}.json").write_text(local_copy.read_text())
    local_copy.unlink()  # a fresh runner: the artifacts and the buckets are all it has
    run = project.run("rollout", "--wave", "prod", "--manifests", str(project.root / "artifacts"))
    assert run.code == 0, run.text
    assert "gate: staging: " in run.out and "(watched by its own wave's run, " in run.out
    assert json.loads(local_copy.read_text())["runs"][-1]["waves"] == ["prod"]  # this run is recorded

    rollout = project.root / "rollout.yaml"
    rollout.write_text(ROLLOUT.replace("{alarms_quiet_minutes: 0, approval: true}",
                                       "{alarms_quiet_minutes: 5, approval: true}"))
    try:
        longer = project.run("rollout", "--wave", "prod")  # staging's run watched for 0 minutes, not 5
    finally:
        rollout.write_text(ROLLOUT)
    assert longer.code == 1, longer.text
    assert "the gate refused: wave prod needs staging's health alarms quiet for" in longer.err
    assert "`blueprint rollout --wave staging --env staging` with staging's credentials" in longer.err
    assert "reviewing prod" not in longer.out
