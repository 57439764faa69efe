"""The account stack (generated/account/): GitHub's OIDC provider, a change-set role that cannot execute, a deploy
role per environment trusted by that GitHub environment only, and CloudFormation's service role; no admin."""
from __future__ import annotations

from blueprint.cfn import loader
from tests.conftest import ROOT

TEMPLATE = loader.loads((ROOT / "generated" / "account" / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]


def actions(policy: dict) -> set[str]:
    found = set()
    for statement in policy["Statement"]:
        value = statement["Action"]
        found.update([value] if isinstance(value, str) else value)
    return found


def subject(role: dict) -> object:
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]


def test_the_change_set_role_is_the_pull_requests_and_never_executes():
    role = RESOURCES["ChangeSetRole"]
    assert subject(role) == {"Fn::Sub": "repo:${GitHubRepository}:pull_request"}
    review = actions(RESOURCES["ReviewPolicy"]["Properties"]["PolicyDocument"])
    assert "cloudformation:CreateChangeSet" in review and "cloudformation:DescribeChangeSet" in review
    assert not any("Execute" in a for a in review)
    assert "Policies" not in role["Properties"]


def test_each_environment_has_a_deploy_role_trusted_by_its_github_environment_only():
    for env in ("dev", "staging", "prod"):
        role = RESOURCES[f"DeployRole{env.capitalize()}"]
        assert role["Properties"]["RoleName"] == f"blueprint-deploy-{env}"
        assert subject(role) == {"Fn::Sub": f"repo:${{GitHubRepository}}:environment:{env}"}
        (inline,) = role["Properties"]["Policies"]
        execute = inline["PolicyDocument"]["Statement"][0]
        assert "cloudformation:ExecuteChangeSet" in execute["Action"]
        assert execute["Resource"] == {
            "Fn::Sub": f"arn:${{AWS::Partition}}:cloudformation:*:${{AWS::AccountId}}:stack/*-{env}/*"}


def test_no_role_is_an_admin_and_the_service_role_is_passed_to_cloudformation_only():
    everything = set()
    for resource in RESOURCES.values():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []):
            everything |= actions(policy["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            everything |= actions(props["PolicyDocument"])
        assert "AdministratorAccess" not in str(props.get("ManagedPolicyArns", ""))
    assert "*" not in everything and not any(a.endswith(":*") for a in everything)
    passing = [s for s in RESOURCES["ReviewPolicy"]["Properties"]["PolicyDocument"]["Statement"]
               if s["Action"] == "iam:PassRole"]
    assert passing[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
    assert RESOURCES["GitHubOidcProvider"]["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
