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
