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


def _service_statements() -> list[dict]:
    (policy,) = RESOURCES["CloudFormationServiceRole"]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def test_the_service_role_changes_and_passes_only_the_roles_the_stacks_create():
    """An IAM action on * would let a change set's template take over any role of the account (an
    administrator's), or pass one to a function: both are limited to <service>-<env>-* roles."""
    for statement in _service_statements():
        names = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if names == ["iam:CreateServiceLinkedRole"]:  # AWS's own role for DynamoDB auto scaling, and no other
            assert statement["Resource"]["Fn::Sub"].endswith(
                ":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable")
            assert statement["Condition"] == {"StringEquals": {
                "iam:AWSServiceName": "dynamodb.application-autoscaling.amazonaws.com"}}
            continue
        if any(a.startswith("iam:") for a in names):
            assert all(a.startswith("iam:") for a in names), statement["Sid"]
            assert statement["Resource"] == [
                {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/*-{env}-*"}
                for env in ("dev", "prod", "staging")], statement["Sid"]
            assert not {"iam:AttachRolePolicy", "iam:DetachRolePolicy"} & set(names)  # no managed policy is attached


# The services CloudFormation calls for each resource type the templates can create (any spec switch on).
NEEDS = {"AWS::Cognito::UserPool": "cognito-idp:CreateUserPool", "AWS::Cognito::UserPoolClient":
         "cognito-idp:CreateUserPoolClient", "AWS::Cognito::UserPoolDomain": "cognito-idp:CreateUserPoolDomain",
         "AWS::Cognito::UserPoolResourceServer": "cognito-idp:CreateResourceServer",
         "AWS::CertificateManager::Certificate": "acm:RequestCertificate",
         "AWS::Route53::RecordSet": "route53:ChangeResourceRecordSets",
         "AWS::WAFv2::LoggingConfiguration": "wafv2:PutLoggingConfiguration",
         "AWS::ApiGateway::DomainName": "apigateway:POST", "AWS::WAFv2::WebACL": "wafv2:CreateWebACL"}


def test_the_service_role_can_create_every_resource_type_of_the_templates():
    granted = set().union(*(actions({"Statement": [s]}) for s in _service_statements()))
    kinds = set()
    for template in (ROOT / "templates").glob("*.yaml.j2"):
        if template.name not in ("account.yaml.j2", "bootstrap.yaml.j2"):
            kinds |= {line.split("Type:", 1)[1].strip() for line in template.read_text().splitlines()
                      if line.strip().startswith("Type: AWS::")}
    services = {k.split("::")[1].lower() for k in kinds}
    prefixes = {a.split(":")[0] for a in granted}
    known = {"applicationautoscaling": "application-autoscaling", "cognito": "cognito-idp",
             "certificatemanager": "acm", "cloudwatch": "cloudwatch"}
    assert {known.get(s, s) for s in services} <= prefixes
    assert all(NEEDS[k] in granted for k in NEEDS if k in kinds)


def test_no_job_can_replace_an_artifact_and_a_pull_request_cannot_write_a_release():
    """Packages and templates are put once (If-None-Match), so a pull request's job cannot swap the zip a
    reviewed change set names; release manifests are the deploy roles' alone, each its own environment's."""
    review = RESOURCES["ReviewPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    puts = [s for s in review if "s3:PutObject" in actions({"Statement": [s]})]
    assert len(puts) == 1 and puts[0]["Condition"] == {"Null": {"s3:if-none-match": "false"}}
    assert all(r["Fn::Sub"].endswith(("/handler/*", "/templates/*")) for r in puts[0]["Resource"])
    for env in ("dev", "staging", "prod"):
        (inline,) = RESOURCES[f"DeployRole{env.capitalize()}"]["Properties"]["Policies"]
        (release,) = [s for s in inline["PolicyDocument"]["Statement"] if s["Action"] == "s3:PutObject"]
        assert release["Resource"]["Fn::Sub"].endswith(f"/releases/*/{env}.json")


def test_the_service_role_gives_a_role_rights_only_with_the_bootstrap_stacks_boundary_on_it():
    """CreateRole, PutRolePolicy and PutRolePermissionsBoundary hold only with the boundary named, so a reviewed
    template cannot make a stack role beyond it; nothing takes a boundary off or attaches a managed policy."""
    granting = {"iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"}
    never = {"iam:DeleteRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:CreatePolicy",
             "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"}
    seen = set()
    for statement in _service_statements():
        names = {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
        assert not names & never, statement["Sid"]
        if names & granting:
            assert names <= granting, statement["Sid"]  # nothing unconditioned shares the statement
            assert statement["Condition"] == {"ArnLike": {"iam:PermissionsBoundary": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/blueprint-stack-boundary-*"}}}
            seen |= names
    assert seen == granting


# What the provider schemas' read and delete handlers list that no stack of ours makes them call, and why.
NOT_CALLED = {
    "amplify:": "the WAF is associated with an API Gateway stage only", "appsync:": "idem",
    "apprunner:": "idem", "bedrock-agentcore:": "idem", "elasticloadbalancing:": "idem",
    "ec2:AssociateVerifiedAccessInstanceWebAcl": "idem", "ec2:DisassociateVerifiedAccessInstanceWebAcl": "idem",
    "ec2:GetVerifiedAccessInstanceWebAcl": "idem", "cognito-idp:AssociateWebACL": "idem",
    "cognito-idp:DisassociateWebACL": "idem", "cognito-idp:GetWebACLForResource": "idem",
    "vpc-lattice:": "the DynamoDB endpoint is a gateway endpoint, in no service network",
    "vpce:AllowMultiRegion": "the endpoint serves its own region only",
    "iam:DeleteGroupPolicy": "the stacks' policies are on roles only", "iam:DeleteUserPolicy": "idem",
    "iam:DetachRolePolicy": "no managed policy is attached to a stack role (the service role may attach none)",
}


def test_the_service_role_grants_every_read_and_delete_the_resource_handlers_make(tmp_path_factory):
    """CloudFormation reads each resource (updates, drift detection) and deletes it with the calls its provider
    schema's read and delete handlers list: an AccessDenied there shows only on a real account."""
    import fnmatch

    from blueprint.cfn import schemas
    from tests.render.auth_specs import every_template

    granted = set().union(*(actions({"Statement": [s]}) for s in _service_statements()))
    kinds = {r["Type"] for doc in every_template(tmp_path_factory).values() for r in doc["Resources"].values()}
    missing = {}
    for kind in sorted(kinds):
        handlers = (schemas.provider_schema(kind) or {}).get("handlers", {})
        needed = {p for h in ("read", "delete") for p in handlers.get(h, {}).get("permissions", [])}
        left = sorted(p for p in needed if not any(p.startswith(x) if x.endswith(":") else p == x for x in NOT_CALLED)
                      and not any(fnmatch.fnmatchcase(p.lower(), g.lower()) for g in granted))
        if left:
            missing[kind] = left
    assert not missing, missing


def test_an_account_that_has_githubs_provider_already_passes_its_arn_and_gets_no_second_one():
    """IAM allows one OIDC provider per URL in an account: a second CreateOpenIDConnectProvider fails
    (EntityAlreadyExists), so the stack takes the existing provider's ARN instead of creating one."""
    import re

    params = TEMPLATE["Parameters"]["ExistingGitHubOidcProviderArn"]
    assert params["Default"] == ""
    pattern = re.compile(params["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch(
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")
    assert not pattern.fullmatch("arn:aws:iam::123456789012:oidc-provider/example.com")
    assert TEMPLATE["Conditions"]["CreateGitHubOidcProvider"] == {
        "Fn::Equals": [{"Ref": "ExistingGitHubOidcProviderArn"}, ""]}
    assert RESOURCES["GitHubOidcProvider"]["Condition"] == "CreateGitHubOidcProvider"
    either = {"Fn::If": ["CreateGitHubOidcProvider", {"Ref": "GitHubOidcProvider"},
                         {"Ref": "ExistingGitHubOidcProviderArn"}]}
    trusting = [r for r in RESOURCES.values() if r["Type"] == "AWS::IAM::Role"
                and "AssumeRoleWithWebIdentity" in str(r["Properties"]["AssumeRolePolicyDocument"])]
    assert len(trusting) == 4  # the change-set role and the three deploy roles
    for role in trusting:
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"]["Federated"] == either
    assert TEMPLATE["Outputs"]["GitHubOidcProviderArn"]["Value"] == either
