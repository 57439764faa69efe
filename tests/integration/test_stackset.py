"""`blueprint bootstrap --stackset`: the bootstrap template as a service-managed StackSet to organizational units,
on the local AWS (whose StackSets are moto's: the calls and their answers, not the accounts' stacks)."""
from __future__ import annotations

import pytest

from blueprint import scratch
from blueprint.local import process as local
from tests.integration.conftest import ROOT, Project

pytestmark = pytest.mark.integration
OU = "ou-abcd-12345678"


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    project = Project(scratch.copy_project(ROOT, tmp_path_factory.mktemp("stackset")), "local")
    assert project.run("render").code == 0
    yield project
    local.stop(project.root / ".blueprint")


def test_the_bootstrap_stackset_is_service_managed_and_deploys_to_the_units(org):
    run = org.run("bootstrap", "--env", "dev", "--stackset", "--ou", OU, "--region", "us-east-1",
                  "--region", "eu-west-1")
    assert run.code == 0, run.text
    assert "created StackSet blueprint-bootstrap (SERVICE_MANAGED" in run.out
    assert "operation" in run.out and "SUCCEEDED" in run.out
    found = org.client("cloudformation").describe_stack_set(StackSetName="blueprint-bootstrap")["StackSet"]
    assert found["PermissionModel"] == "SERVICE_MANAGED"
    # moto keeps no AutoDeployment (what is sent is in blueprint.rollout.stackset.upsert); AWS answers it.
    assert found.get("AutoDeployment", {"Enabled": True, "RetainStacksOnAccountRemoval": True}) == {
        "Enabled": True, "RetainStacksOnAccountRemoval": True}
    assert found["TemplateBody"] == (org.root / "generated" / "bootstrap" / "template.yaml").read_text()
    again = org.run("bootstrap", "--env", "dev", "--stackset", "--ou", OU)
    assert again.code == 0, again.text
    assert "updated StackSet blueprint-bootstrap" in again.out


def test_the_units_are_required_and_checked(org):
    run = org.run("bootstrap", "--env", "dev", "--stackset")
    assert run.code == 2 and "--stackset needs the organizational units" in run.err
    run = org.run("bootstrap", "--env", "dev", "--stackset", "--ou", "finance")
    assert run.code == 2 and "--ou finance: not an organizational unit id" in run.err


def test_a_member_accounts_stackset_made_bootstrap_stack_is_the_one_changesets_use(org):
    """In an account of the units the bootstrap stack is the StackSet's instance, StackSet-blueprint-bootstrap-<id>:
    change sets find its bucket, and `bootstrap` refuses to make a second stack beside it."""
    cfn = org.client("cloudformation")
    name = "StackSet-blueprint-bootstrap-0f3c9a1e-5b7d-4c2a-9e8f-1a2b3c4d5e6f"
    cfn.create_stack(StackName=name, Capabilities=["CAPABILITY_IAM"],
                     TemplateBody=(org.root / "generated" / "bootstrap" / "template.yaml").read_text())
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    (output,) = [o for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
                 if o["OutputKey"] == "ArtifactBucketName"]

    review = org.run("changeset", "--env", "dev")
    assert review.code == 0, review.text
    keys = [o["Key"] for o in org.client("s3").list_objects_v2(Bucket=output["OutputValue"]).get("Contents", [])]
    assert any(k.startswith("handler/") for k in keys), keys  # the package went to the StackSet's bucket

    again = org.run("bootstrap", "--env", "dev")
    assert again.code == 2
    assert f"is bootstrapped by the StackSet blueprint-bootstrap (its stack {name})" in again.err
    assert "blueprint-bootstrap" not in [s["StackName"] for s in cfn.describe_stacks()["Stacks"]]


def test_stackset_options_without_stackset_and_bad_regions_are_refused(org):
    run = org.run("bootstrap", "--env", "dev", "--ou", OU)
    assert run.code == 2 and "--ou only with --stackset" in run.err
    run = org.run("bootstrap", "--env", "dev", "--stackset", "--ou", OU, "--region", "")
    assert run.code == 2 and "--region '': not an AWS region name" in run.err
