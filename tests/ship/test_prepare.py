"""prepare: the spec validated and rendered afresh, a stale generated/ refused, one value for what follows."""
from __future__ import annotations

import hashlib

import pytest

from blueprint import cli
from blueprint.errors import UserError
from blueprint.ship.prepare import prepare, sha256_text


def test_stale_generated_is_refused_with_what_to_run(project):
    (project / "envs" / "dev.yaml").write_text((project / "envs" / "dev.yaml").read_text()
                                               + "table:\n  read_capacity: 7\n")
    with pytest.raises(UserError) as err:
        prepare(project, "dev", with_package=False)
    assert "generated/ is stale for dev" in str(err.value)
    assert "generated/dev/template.yaml" in str(err.value) and "make render" in str(err.value)


def test_a_hand_edited_template_is_refused(project):
    path = project / "generated" / "dev" / "template.yaml"
    path.write_text(path.read_text().replace("ReadCapacityUnits: 5", "ReadCapacityUnits: 6"))
    with pytest.raises(UserError, match="generated/ is stale for dev: generated/dev/template.yaml"):
        prepare(project, "dev", with_package=False)


def test_prepare_gives_settings_tags_and_the_template_hash(project):
    assert cli.main(["--root", str(project), "render"]) == 0  # as this checkout's templates render it
    prepared = prepare(project, "dev", with_package=False)
    text = (project / "generated" / "dev" / "template.yaml").read_text()
    assert prepared.stack_name == "items-dev" and prepared.template_sha256 == sha256_text(text)
    assert prepared.template_text == text and prepared.template["Resources"]["Table"]["Type"] == "AWS::DynamoDB::Table"
    assert prepared.tags["Environment"] == "development" and prepared.settings.region == "us-east-1"
    assert prepared.building is None
    assert set(prepared.spec_files) == {"blueprint.yaml", "envs/dev.yaml"}  # the files the spec came from
    assert prepared.spec_files["envs/dev.yaml"] == hashlib.sha256((project / "envs" / "dev.yaml").read_bytes()).hexdigest()
    with pytest.raises(UserError, match="without its package"):
        prepared.package()
    boot = prepare(project, "dev", bootstrap=True)
    assert boot.stack_name == "blueprint-bootstrap" and boot.tags == {"ManagedBy": "blueprint"}
    assert boot.template_file == "generated/bootstrap/template.yaml" and boot.building is None
