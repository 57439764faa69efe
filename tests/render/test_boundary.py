"""The stacks' roles' permissions boundary: defined by the bootstrap stack of each region, carried by every role of
every environment (every spec switch on), and wide enough for every action those roles are given."""
from __future__ import annotations

import hashlib
import json

import pytest

from blueprint.cfn import loader
from blueprint.render.bootstrap_contract import BOOTSTRAP_VERSION, BOUNDARY_ARN
from tests.conftest import ROOT
from tests.render.auth_specs import every_template

BOOTSTRAP = loader.loads((ROOT / "generated" / "bootstrap" / "template.yaml").read_text())
BOUNDARY = BOOTSTRAP["Resources"]["StackRoleBoundary"]["Properties"]
# The boundary as BOOTSTRAP_VERSION defines it: change the boundary, raise the version (deploys then ask for a
# new bootstrap first, as a stack relying on a wider boundary would fail at run time under the old one).
BOUNDARY_DIGEST = {2: "91a644ad358bcca6b9b3801ad9b759e9db575fc2da16a41ceb1e0dcbadb26ccb"}


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    return every_template(tmp_path_factory)


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _role_actions(doc: dict, role_id: str) -> set[str]:
    """Every action the template gives the role: its inline policies and the AWS::IAM::Policy resources on it."""
    resources = doc["Resources"]
    documents = [p["PolicyDocument"] for p in resources[role_id]["Properties"].get("Policies", [])]
    documents += [r["Properties"]["PolicyDocument"] for r in resources.values()
                  if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]]
    return {a for d in documents for s in d["Statement"] if s["Effect"] == "Allow" for a in _list(s["Action"])}


def test_every_role_of_every_environment_carries_the_regions_boundary(templates):
    for name, doc in templates.items():
        roles = {lid for lid, r in doc["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
        assert "FunctionRole" in roles, name
        for lid in roles:
            assert doc["Resources"][lid]["Properties"].get("PermissionsBoundary") == {"Fn::Sub": BOUNDARY_ARN}, (name, lid)
        # Nothing else that holds rights: no user, and no managed policy a role could be given.
        assert not {r["Type"] for r in doc["Resources"].values()} & {"AWS::IAM::User", "AWS::IAM::ManagedPolicy"}


def test_the_boundary_allows_every_action_the_stacks_roles_are_given(templates):
    allowed = {a.lower() for s in BOUNDARY["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
               for a in _list(s["Action"])}
    assert all("*" not in a for a in allowed)  # named actions only: a service's new action is not let in by a pattern
    for name, doc in templates.items():
        for lid, resource in doc["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role":  # IAM reads action names without regard to case
                missing = {a for a in _role_actions(doc, lid) if a.lower() not in allowed}
                assert not missing, f"{name} {lid}: add {sorted(missing)} to the boundary (and raise BOOTSTRAP_VERSION)"


def test_the_boundary_keeps_to_this_account_and_region_and_never_reaches_iam_or_sts():
    for statement in BOUNDARY["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not any(a.split(":")[0] in ("iam", "sts", "organizations") for a in _list(statement["Action"]))
        for resource in _list(statement["Resource"]):
            assert resource == "*" or resource["Fn::Sub"].startswith(
                "arn:${AWS::Partition}:") and ":${AWS::Region}:${AWS::AccountId}:" in resource["Fn::Sub"]
    assert BOUNDARY["ManagedPolicyName"] == {"Fn::Sub": "blueprint-stack-boundary-${AWS::Region}"}
    assert BOUNDARY_ARN.endswith(":policy/blueprint-stack-boundary-${AWS::Region}")


def test_a_changed_boundary_raises_the_bootstrap_version():
    digest = hashlib.sha256(json.dumps(BOUNDARY["PolicyDocument"], sort_keys=True).encode()).hexdigest()
    assert BOUNDARY_DIGEST.get(BOOTSTRAP_VERSION) == digest, (
        f"the boundary changed: raise BOOTSTRAP_VERSION and pin {digest} for it here")
    assert BOOTSTRAP["Outputs"]["BootstrapVersion"]["Value"] == str(BOOTSTRAP_VERSION)
