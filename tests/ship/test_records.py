"""The review record: written per target, read back as it was, and refused clearly when it is anything else."""
from __future__ import annotations

import dataclasses
import json

import pytest

from blueprint.errors import UserError
from blueprint.ship import records
from blueprint.state import env_state_dir
from tests.ship.stubs import record


def test_missing_record_says_to_review_first(tmp_path):
    with pytest.raises(UserError, match=r"no reviewed change set for dev .*run `make changeset ENV=dev`"):
        records.read_record(tmp_path, "aws", "dev")


def test_a_record_reads_back_as_written_and_state_is_kept_per_target(tmp_path):
    assert env_state_dir(tmp_path, "aws", "dev") == tmp_path / ".blueprint" / "aws" / "dev"
    assert env_state_dir(tmp_path, "local", "dev") == tmp_path / ".blueprint" / "local" / "dev"
    on_aws = record(target="aws", change_set_name="reviewed-on-aws")
    records.write_record(tmp_path, "dev", on_aws)
    records.write_record(tmp_path, "dev", record())
    assert records.read_record(tmp_path, "aws", "dev") == on_aws
    assert records.read_record(tmp_path, "local", "dev").change_set_name == "bp-1"
    with pytest.raises(UserError):
        env_state_dir(tmp_path, "moon", "dev")


def test_take_record_removes_it_and_returns_what_it_held(tmp_path):
    records.write_record(tmp_path, "dev", record())
    assert records.take_record(tmp_path, "local", "dev") == record()
    assert records.take_record(tmp_path, "local", "dev") is None


@pytest.mark.parametrize("content, said", [
    ("[]", "not a review record (it holds list)"),
    ('{"change_set_id": "x"}', "missing change_set_name"),
    ("{", "not valid JSON"),
])
def test_a_record_that_is_not_one_is_named_with_what_to_do(tmp_path, content, said):
    path = env_state_dir(tmp_path, "local", "dev") / "changeset.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(UserError) as err:
        records.read_record(tmp_path, "local", "dev")
    assert said in str(err.value) and str(path) in str(err.value) and "make changeset ENV=dev" in str(err.value)


def test_a_record_with_a_wrong_value_type_is_refused(tmp_path):
    records.write_record(tmp_path, "dev", record())
    path = env_state_dir(tmp_path, "local", "dev") / "changeset.json"
    data = json.loads(path.read_text())
    data["create"] = "yes"
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match='create is "yes"'):
        records.read_record(tmp_path, "local", "dev")
    data["create"], data["settings"] = False, {"stack_name": "x"}
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"\(settings\): not the file render writes"):
        records.read_record(tmp_path, "local", "dev")


def test_outputs_are_kept_beside_the_record_and_forgotten_with_it(tmp_path):
    records.write_record(tmp_path, "dev", dataclasses.replace(record()))
    path = records.write_outputs(tmp_path, "local", "dev", {"TableName": "t"})
    assert json.loads(path.read_text()) == {"TableName": "t"}
    records.forget(tmp_path, "local", "dev")
    assert not path.exists() and records.take_record(tmp_path, "local", "dev") is None


@pytest.mark.parametrize("action", ["read", "take", "write"])
def test_a_directory_in_place_of_the_record_is_named_with_what_to_do(tmp_path, action):
    path = env_state_dir(tmp_path, "local", "dev") / "changeset.json"
    path.mkdir(parents=True)
    with pytest.raises(UserError) as err:
        {"read": lambda: records.read_record(tmp_path, "local", "dev"),
         "take": lambda: records.take_record(tmp_path, "local", "dev"),
         "write": lambda: records.write_record(tmp_path, "dev", record())}[action]()
    message = str(err.value)
    assert f"{path} is a directory" in message and f"rm -r {path}" in message
    assert "make changeset ENV=dev TARGET=local" in message


def test_an_unreadable_record_is_named_with_what_to_do(tmp_path, monkeypatch):
    path = env_state_dir(tmp_path, "local", "dev") / "changeset.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(UserError, match=r"is not text \(not UTF-8\), so not a review record: delete it"):
        records.read_record(tmp_path, "local", "dev")
    records.write_record(tmp_path, "dev", record())

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "read_text", denied)
    with pytest.raises(UserError) as err:
        records.read_record(tmp_path, "local", "dev")
    assert f"{path} cannot be read (Permission denied): fix its permissions or remove it" in str(err.value)


def test_a_record_without_the_spec_digests_is_refused(tmp_path):
    records.write_record(tmp_path, "dev", record())
    path = env_state_dir(tmp_path, "local", "dev") / "changeset.json"
    data = json.loads(path.read_text())
    assert data["spec_files"] == {"blueprint.yaml": "2" * 64, "envs/dev.yaml": "3" * 64}
    data["spec_files"] = {"envs/dev.yaml": 3}
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match="spec_files is"):
        records.read_record(tmp_path, "local", "dev")
    del data["spec_files"]
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match="missing spec_files"):
        records.read_record(tmp_path, "local", "dev")
