"""The bootstrap StackSet's requests: what AWS checks and the local AWS does not (moto keeps no Capabilities)."""
from __future__ import annotations

from botocore.stub import ANY

from blueprint.rollout import stackset
from tests.conftest import ROOT
from tests.ship.stubs import stubbed

BODY = (ROOT / "generated" / "bootstrap" / "template.yaml").read_text()


def test_the_stackset_asks_for_named_iam_as_the_bootstrap_templates_named_boundary_policy_needs():
    cfn, stub = stubbed()
    stub.add_client_error("describe_stack_set", "StackSetNotFoundException", "not found")
    stub.add_response("create_stack_set", {"StackSetId": "blueprint-bootstrap:1"}, {
        "StackSetName": "blueprint-bootstrap", "TemplateBody": BODY, "CallAs": "SELF",
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"], "Tags": ANY, "PermissionModel": "SERVICE_MANAGED",
        "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": True},
        "ManagedExecution": {"Active": True}, "Description": ANY})
    assert stackset.upsert(cfn, "blueprint-bootstrap", BODY, "SELF") == ""
    stub.assert_no_pending_responses()
