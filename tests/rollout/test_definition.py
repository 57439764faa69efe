"""rollout.yaml is read like the spec: every problem at once, each at its file and line, exit 2."""
from __future__ import annotations

import shutil

import pytest

from blueprint import cli
from blueprint.errors import UserError
from blueprint.rollout import definition
from tests.conftest import ROOT


@pytest.fixture
def rollout_project(project):
    shutil.copy(ROOT / "rollout.yaml", project / "rollout.yaml")
    return project


def problems(project, text: str) -> list[str]:
    (project / "rollout.yaml").write_text(text)
    with pytest.raises(UserError) as caught:
        definition.load_rollout(project)
    assert caught.value.exit_code == 2
    return str(caught.value).splitlines()


def test_the_project_rollout_is_dev_then_staging_then_prod():
    rollout = definition.load_rollout(ROOT)
    assert [w.name for w in rollout.waves] == ["dev", "staging", "prod"]
    prod = rollout.wave("prod")
    assert prod.approval and prod.alarms_quiet_minutes == 10 and prod.max_parallel == 1
    assert rollout.before(prod).name == "staging" and rollout.before(rollout.waves[0]) is None
    assert rollout.wave("dev").max_parallel == definition.DEFAULT_PARALLEL


def test_schema_problems_name_the_line_the_key_and_what_is_allowed(rollout_project):
    found = problems(rollout_project, "waves:\n  - name: dev\n    environments: [dev]\n    max_parallel: 0\n"
                                      "    gaet: {}\n  - environments: []\n")
    assert found == [
        "rollout.yaml:4: waves[0].max_parallel: 0 is below the floor of 1 (allowed: an integer from 1 to 20)",
        "rollout.yaml:5: waves[0].gaet: unknown key 'gaet' (did you mean 'gate'? allowed here: environments, gate, "
        "max_parallel, name)",
        found[2], found[3],
        "4 problems in rollout.yaml; nothing was done.",
    ]
    assert sorted(found[2:4], key=lambda line: "missing" not in line) == [
        "rollout.yaml:6: waves[1]: missing required key 'name' (The wave's name (1-20 lowercase letters, digits or "
        "hyphens, starting with a letter): a CI job is named after it.)",
        "rollout.yaml:6: waves[1].environments: the list needs at least 1 item(s) (allowed: the environments of the "
        "wave (each a file envs/<env>.yaml, each in one wave only): their change sets are created and reviewed "
        "together, then executed together.)"]


def test_rules_environments_exist_once_gates_in_place_protected_needs_approval(rollout_project):
    found = problems(rollout_project, """\
waves:
  - name: dev
    environments: [dev, qa]
    gate: {alarms_quiet_minutes: 5}
  - name: dev
    environments: [staging, dev]
  - name: last
    environments: [prod]
""")
    assert found == [
        "rollout.yaml:3: waves[0].environments[1]: 'qa' is not an environment (no file envs/qa.yaml; "
        "environments: dev, prod, staging)",
        "rollout.yaml:4: waves[0].gate: the first wave has no wave before it to wait for: remove its gate (a gate "
        "is what a wave waits for from the one before it)",
        "rollout.yaml:5: waves[1].name: 'dev' names wave 0 already (each wave has its own name: a CI job is named "
        "after it)",
        "rollout.yaml:6: waves[1].environments[1]: 'dev' is in wave 'dev' already (an environment is in one wave only)",
        "rollout.yaml:8: waves[2].environments[0]: 'prod' is a protected environment: its wave needs `gate: "
        "{approval: true}` (in CI its GitHub environment then requires a reviewer)",
        "5 problems in rollout.yaml; nothing was done.",
    ]


@pytest.mark.parametrize("text, expected", [
    ("", "rollout.yaml:1: (top level): the file is empty"),
    ("- dev\n", "rollout.yaml:1: (top level): the file holds a list"),
    ("waves: yes\n", "rollout.yaml:1:"),
    ("waves: !!set {a}\n", "rollout.yaml:1:"),
])
def test_yaml_problems_are_the_spec_readers(rollout_project, text, expected):
    assert problems(rollout_project, text)[0].startswith(expected)


def test_a_missing_rollout_file_says_what_to_write(project):
    with pytest.raises(UserError, match="rollout.yaml: file not found: a rollout needs its waves"):
        definition.load_rollout(project)


def test_the_cli_exits_2_without_a_traceback(rollout_project, capsys):
    (rollout_project / "rollout.yaml").write_text("waves:\n  - name: Dev\n    environments: [dev]\n")
    assert cli.main(["--root", str(rollout_project), "rollout", "--target", "local"]) == 2
    err = capsys.readouterr().err
    assert err.startswith('rollout.yaml:2: waves[0].name: "Dev" has the wrong form') and "Traceback" not in err


def test_an_unknown_wave_is_refused(rollout_project):
    rollout = definition.load_rollout(rollout_project)
    with pytest.raises(UserError, match=r"no wave named 'qa' \(waves: dev, staging, prod\)"):
        rollout.wave("qa")


def test_the_schema_is_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(definition.rollout_schema())


def test_a_yaml_error_in_rollout_yaml_is_summed_up_as_rollout_yamls(tmp_path, capsys):

    project = tmp_path / "p"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv*", ".blueprint", "node_modules", ".git"))
    (project / "rollout.yaml").write_text("waves: [\n")
    assert cli.main(["--root", str(project), "ci", "github", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rollout.yaml:") and err.rstrip().endswith("1 problem in rollout.yaml; nothing was done."), err


def test_validate_checks_rollout_yaml_too_where_the_project_has_one(project, capsys):
    assert cli.main(["--root", str(project), "validate"]) == 0  # no rollout.yaml: the spec alone
    assert capsys.readouterr().out == "spec valid: dev, prod, staging\n"
    (project / "rollout.yaml").write_text((ROOT / "rollout.yaml").read_text().replace(
        "alarms_quiet_minutes: 10", "alarms_quiet_minutes: 181"))
    assert cli.main(["--root", str(project), "validate"]) == 2
    assert "rollout.yaml:14: waves[2].gate.alarms_quiet_minutes: 181 is above the ceiling of 180" in capsys.readouterr().err
    (project / "rollout.yaml").write_text((ROOT / "rollout.yaml").read_text())
    assert cli.main(["--root", str(project), "validate"]) == 0
    assert capsys.readouterr().out.endswith("rollout.yaml valid: waves dev -> staging -> prod\n")
