"""E9102: an API Gateway Deployment depends on every method and gateway response of its API.

A deployment is a snapshot of the REST API taken when CloudFormation creates it. If it does not
wait for a method or a gateway response, CloudFormation may create it first (or in parallel), and
the stage serves the old definition until some later deployment: gateway responses then ship
without their CORS headers (aws-cdk#10963, fixed in the CDK by this dependency and by hashing the
responses into the deployment's logical id). See docs/real-account.md, item 3.
"""
from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

WAITED_FOR = ("AWS::ApiGateway::Method", "AWS::ApiGateway::GatewayResponse")


def _ref(value):
    """The logical id a `Ref` names, else None."""
    return value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None


class DeploymentWaitsForApi(CloudFormationLintRule):
    """A Deployment whose DependsOn misses a Method or GatewayResponse of the same RestApi."""

    id = "E9102"
    shortdesc = "Deployments depend on every method and gateway response of their API"
    description = ("A Deployment that does not DependsOn a Method or GatewayResponse of its RestApi may "
                   "snapshot the API without it")
    source_url = "https://github.com/aws/aws-cdk/issues/10963"
    tags = ["resources", "apigateway", "blueprint"]

    def match(self, cfn):
        matches = []
        resources = {lid: r for lid, r in cfn.get_resources().items() if isinstance(r, dict)}
        for lid, deployment in resources.items():
            if deployment.get("Type") != "AWS::ApiGateway::Deployment":
                continue
            api = _ref(deployment.get("Properties", {}).get("RestApiId"))
            depends = deployment.get("DependsOn", [])
            depends = {depends} if isinstance(depends, str) else set(depends)
            missing = sorted(other for other, r in resources.items()
                             if r.get("Type") in WAITED_FOR and api is not None
                             and _ref(r.get("Properties", {}).get("RestApiId")) == api and other not in depends)
            if missing:
                matches.append(RuleMatch(["Resources", lid, "DependsOn"], (
                    f"{lid} does not wait for {', '.join(missing)}: the deployment may snapshot {api} "
                    "without them; add them to its DependsOn")))
        return matches
