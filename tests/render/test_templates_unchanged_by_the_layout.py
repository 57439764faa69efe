"""The layout change (stages as packages, the VTL as a YAML block) changed generated/ only in form.

The digests are of each template as main rendered it just before (commit d4609b1), parsed back and
with the Deployment's hash suffix taken out (the hash covers the template's text, so its form).
A change of what the templates deploy makes this fail on purpose: update the digests in the same
commit, and say in it what changed.

Changed since: the DynamoDB gateway endpoint (and, in prod, the two scalable targets) carry the
tags, as every taggable resource must (R9); the endpoint also got its Name tag like the other
network resources. Then what only a real account shows (docs/real-account.md, issue 10): kept resources
are DeletionPolicy RetainExceptOnCreate, the Deployment waits for the gateway responses, the function
sets Lambda's log levels and may describe its subnets, prod's WAF counts the 8 KB body rule and inspects
64 KB, and the bootstrap's API Gateway role trusts the service without an aws:SourceAccount condition.
Then the alarms (issue 11): prod and staging gained the alarms, the health alarm, the topic, its policy
and subscription, the key's CloudWatch statement and the outputs; prod the dashboard. Then cdk-nag in
`make lint`: Metadata.cdk_nag suppressions with their reasons (nothing else changed). Then the permissions
boundary: the bootstrap's StackRoleBoundary policy and BootstrapVersion output, and each stack role's
PermissionsBoundary.
"""
from __future__ import annotations

import hashlib
import json
import re

import pytest

from blueprint.cfn import loader
from tests.conftest import ROOT

BEFORE = {
    "bootstrap": "7cd5081f86b5bacc133e8d449c115b8308dc25771f6118ceb58ab4c222a5457a",
    "dev": "eefcaf4f0cff63837b745431dcae31aecbf3b6c7cce55237702a35586a454e1b",
    "prod": "b5043af8b7bdbbe7e12219a0a915c40e12537889fef142dc46ccc6d63f7cf5a7",
    "staging": "2666b3b3ef54a0393b7e1266f774d8e090523914606f59aacf86d7c070dfe5c5",
}


def normalised_digest(text: str) -> str:
    data = json.dumps(loader.loads(text), sort_keys=True)
    data = re.sub(r"API definition [0-9a-f]{10}", "API definition", data)
    return hashlib.sha256(re.sub(r"Deployment[0-9a-f]{10}", "Deployment", data).encode()).hexdigest()


def test_the_digest_sees_a_changed_value_but_not_a_deployment_suffix():
    text = (ROOT / "generated" / "dev" / "template.yaml").read_text()
    suffix = re.search(r"Deployment([0-9a-f]{10})", text).group(1)
    assert normalised_digest(text.replace(suffix, "0123456789")) == normalised_digest(text)
    assert normalised_digest(text.replace("ReadCapacityUnits: 5", "ReadCapacityUnits: 6")) != normalised_digest(text)


@pytest.mark.parametrize("env", sorted(BEFORE))
def test_each_template_parses_back_to_what_it_was(env):
    assert normalised_digest((ROOT / "generated" / env / "template.yaml").read_text()) == BEFORE[env]
