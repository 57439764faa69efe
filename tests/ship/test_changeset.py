"""Creating change sets: capabilities, unique names, and the empty change set recognised as no changes."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from blueprint.ship import changeset


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
