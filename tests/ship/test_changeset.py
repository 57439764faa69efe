"""Creating change sets: capabilities, unique names, and the empty change set recognised as no changes."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from blueprint import cli
from blueprint.ship import changeset
from blueprint.ship.prepare import prepare
from tests.ship.stubs import stack, stubbed


def test_capabilities():
    unnamed = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}}}}
    named = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}}
    assert changeset.capabilities(unnamed) == ["CAPABILITY_IAM"]
    assert changeset.capabilities(named) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


def test_change_set_name_is_unique_within_one_second_and_carries_the_template_hash(monkeypatch):
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)

    monkeypatch.setattr(changeset, "datetime", Frozen)
    names = [changeset.change_set_name("abcdef0123456789") for _ in range(200)]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"bp-20260101120000-abcdef01-[0-9a-f]{8}", name)
        assert re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", name)  # CloudFormation's rule for the name


def test_no_changes_is_recognised():
    assert changeset.is_no_changes({"Status": "FAILED", "StatusReason":
                                    "The submitted information didn't contain changes. Submit different information."})
    assert changeset.is_no_changes({"Status": "FAILED", "StatusReason": "No updates are to be performed."})
    assert not changeset.is_no_changes({"Status": "FAILED", "StatusReason": "Template format error"})


def test_a_create_names_the_environments_stack_under_another_name_and_how_to_delete_it(project, monkeypatch):
    assert cli.main(["--root", str(project), "render"]) == 0
    prepared = prepare(project, "dev", with_package=False)
    old = stack("CREATE_COMPLETE", "legacy-dev", EnableTerminationProtection=True)
    monkeypatch.setattr(changeset, "environment_stacks", lambda cfn, env, tag, name: [old] if
                        (env, tag, name) == ("dev", "development", "items-dev") else [])
    cfn, _ = stubbed(endpoint_url="http://127.0.0.1:5000")
    [found] = changeset.previous_stacks(cfn, prepared, "local")
    where = "--stack-name legacy-dev --region us-east-1 --endpoint-url http://127.0.0.1:5000"
    assert found == {"stack": "legacy-dev", "status": "CREATE_COMPLETE", "region": "us-east-1",
                     "delete_command": f"aws cloudformation delete-stack {where}",
                     "unprotect_command": "aws cloudformation update-termination-protection "
                                          f"--no-enable-termination-protection {where}"}
    note = changeset.previous_note(prepared, found)
    assert note.startswith("NOTE: this change set creates a new stack, items-dev, while legacy-dev (CREATE_COMPLETE)")
    assert "If `service` was renamed, that is this environment's old stack" in note
    assert f"`aws cloudformation delete-stack {where}`" in note and "termination protection" in note
