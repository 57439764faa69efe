"""A protected stack gets its policy and termination protection, set only where missing."""
from __future__ import annotations

import dataclasses
import io
import json

from blueprint.ship.protect import protect
from tests.ship.stubs import SETTINGS, STACK_ID, stack, stubbed

POLICY = {"Statement": [{"Effect": "Deny", "Action": "Update:Replace", "Principal": "*",
                         "Resource": "LogicalResourceId/Table"}]}


def test_protect_sets_only_what_is_missing():
    settings = dataclasses.replace(SETTINGS, stack_policy=POLICY, termination_protection=True)
    cfn, stub = stubbed()
    stub.add_response("get_stack_policy", {}, {"StackName": STACK_ID})
    stub.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": json.dumps(POLICY)})
    stub.add_response("update_termination_protection", {"StackId": STACK_ID},
                      {"StackName": STACK_ID, "EnableTerminationProtection": True})
    out = io.StringIO()
    protect(cfn, stack("CREATE_COMPLETE"), settings, "aws", out)
    assert out.getvalue().splitlines() == [
        "stack policy set (refuses Update:Replace and Update:Delete of the table)", "termination protection on"]
    stub.add_response("get_stack_policy", {"StackPolicyBody": json.dumps(POLICY)})
    out = io.StringIO()
    protect(cfn, stack("UPDATE_COMPLETE", EnableTerminationProtection=True), settings, "aws", out)
    assert out.getvalue() == ""  # already protected: no calls that change anything
    stub.assert_no_pending_responses()
    protect(cfn, stack("UPDATE_COMPLETE"), SETTINGS, "aws", out)  # not protected: nothing at all
