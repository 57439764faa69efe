"""The layout change (stages as packages, the VTL as a YAML block) changed generated/ only in form.

The digests are of each template as main rendered it just before (commit d4609b1), parsed back and
with the Deployment's hash suffix taken out (the hash covers the template's text, so its form).
A change of what the templates deploy makes this fail on purpose: update the digests in the same
commit, and say in it what changed.

Changed since: the DynamoDB gateway endpoint (and, in prod, the two scalable targets) carry the
tags, as every taggable resource must (R9); the endpoint also got its Name tag like the other
network resources.
"""
from __future__ import annotations

import hashlib
import json
import re

import pytest

from blueprint.cfn import loader
from tests.conftest import ROOT

BEFORE = {
    "bootstrap": "fd2bc280d165da1aad13edf504b18c36bae93176fe82b052eb4b80cec3857995",
    "dev": "431f41991d5fe1628053daf915bebd46adb2b8307278585acbeaccff17ef1766",
    "prod": "96c66a7803b756c4f463e900143b4eeba468318e071a87553a228e0814d0b89c",
    "staging": "64578d0a07eede32288e12039f867f6a7bfd1bec3ad7bc04e599ada59b0da5db",
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
