"""Every bad spec input, through the CLI: exit 2, `FILE:LINE: key: what is wrong (what is allowed)`, nothing written.

One case per family the loader, the schema and the rules refuse; each was accepted (or ended in a
traceback, a hang or a silently different value) at the starting point of these checks.
"""
from __future__ import annotations

import os
import re

import pytest

from blueprint import cli
from tests.spec.yaml_cases import billion_laughs

LINE = re.compile(r"^(blueprint\.yaml|envs/dev\.yaml):\d+: \S.*: .+\(.+\)$")
DEV = "environment_tag: development\n"


def snapshot(project) -> dict:
    return {p: p.read_bytes() for p in (project / "generated").rglob("*") if p.is_file()}


def run(project, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--root", str(project), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


# name -> (what envs/dev.yaml adds, what the message says). Before this check each of these was
# accepted, silently changed, refused for a misleading reason, a traceback, or a hang.
BAD = {
    # patterns: Python's `$` let a final newline through
    "block-scalar-service": ("service: |\n  items\n", 'service: "items\\n" has the wrong form'),
    "newline-region": ('region: "us-east-1\\n"\n', 'region: "us-east-1\\n" has the wrong form'),
    "block-tag-value": ("tags:\n  Team: |\n    platform\n", 'tags.Team: "platform\\n" has the wrong form'),
    # numbers
    "nan-rate": ("api:\n  throttle:\n    rate_limit: .nan\n", "rate_limit: .nan is not a finite number"),
    "inf-quota": ("api:\n  quota:\n    limit: .inf\n    period: DAY\n", "limit: .inf is not a finite number"),
    "huge-quota": ("api:\n  quota:\n    limit: 1.0e+29\n    period: DAY\n", "above the ceiling of 2147483647"),
    "int32-quota": ("api:\n  quota:\n    limit: 2147483648\n    period: MONTH\n", "above the ceiling of 2147483647"),
    # YAML itself
    "alias-bomb": (billion_laughs(), "aliases copy in more than 10000 nodes"),
    "recursive-alias": ("x: &x [*x]\n", "a recursive alias"),
    "deep": ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 32 levels"),
    "timestamp-description": ("description: 2024-01-01\ncolour: x\n", "colour: unknown key"),  # the date is text
    "binary": ("description: !!binary aGVsbG8=\n", "the tag !!binary makes a value no spec key takes"),
    "set": ("tags: !!set {a, b}\n", "the tag !!set makes a value no spec key takes"),
    "omap": ("tags: !!omap [a: b]\n", "the tag !!omap makes a value no spec key takes"),
    "custom-tag": ("description: !Sub x\n", "the tag !Sub makes a value no spec key takes"),
    "yes-key": ("tags:\n  yes: x\n", 'tags.yes: YAML reads the key yes as true, not as text (quote it: "yes")'),
    "on-key": ("tags:\n  on: x\n", '(quote it: "on")'),
    "null-key": ("tags:\n  ~: x\n", '(quote it: "~")'),
    "int-key": ("tags:\n  1: x\n", '(quote it: "1")'),
    "yes-value": ("api:\n  caching: yes\n", "api.caching: yes is read as true by YAML 1.1 (this tool) but as text"),
    "octal": ("function:\n  memory_mb: 0400\n", "function.memory_mb: 0400 is read as 256 by YAML 1.1"),
    "sexagesimal": ("function:\n  memory_mb: 4:16\n", "function.memory_mb: 4:16 is read as 256"),
    # AWS's limits
    "long-tag-key": ("tags:\n  " + "k" * 128 + ": v\n", "is not allowed as a key (allowed: a tag key: 1-127"),
    "empty-tag-value": ("tags:\n  Team: ''\n", 'tags.Team: "" has the wrong form'),
    "aws-prefix-any-case": ("tags:\n  AwS:x: v\n", '"AwS:x" is not allowed as a key'),
    "aws-prefix-value": ("tags:\n  Team: aws:x\n", 'tags.Team: "aws:x" has the wrong form'),
    "name-tag": ("tags:\n  Name: x\n", '"Name" is not allowed as a key'),
    "case-only-duplicate": ("tags:\n  owner: x\n", "differs from tags.Owner only in letter case"),
    "too-many-origins": ("api:\n  cors:\n    allow_origins: [" + ", ".join(f"https://a{i}.example.com" for i in range(11)) + "]\n",
                         "the list has 11 items, more than 10"),
    "too-many-routes": ("api:\n  routes:\n" + "".join(f"    - path: /r{i}\n      methods: [GET]\n" for i in range(301)),
                        "api.routes: the list has 301 items, more than 300"),
    "too-many-resources": ("api:\n  routes:\n" + "".join(f"    - path: /r{i}/x\n      methods: [GET]\n" for i in range(151)),
                           "more than its 300 per API"),
    # cross-field
    "ttl-is-version": ("table:\n  ttl:\n    attribute: version\n", 'table.ttl.attribute: "version" is an attribute the handler writes'),
    "ttl-is-createdAt": ("table:\n  ttl:\n    attribute: createdAt\n", '"createdAt" is an attribute the handler writes'),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_exits_2_with_located_lines_and_writes_nothing(project, capsys, name):
    body, expected = BAD[name]
    (project / "envs/dev.yaml").write_text(DEV + body)
    before = snapshot(project)
    code, out, err = run(project, capsys, "render")
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[-1].endswith("in the spec; nothing was written."), err
    assert lines[:-1] and all(LINE.match(line) for line in lines[:-1]), err
    assert expected in err, err
    assert snapshot(project) == before


@pytest.mark.parametrize("command, extra", [
    ("validate", []), ("render", []), ("package", []), ("bootstrap", []), ("plan", []), ("changeset", []),
    ("deploy", []), ("drift", []), ("status", []), ("outputs", []), ("destroy", ["--yes"]), ("serve", []),
])
@pytest.mark.parametrize("env", ["../../etc", "dev/../prod", "Dev", "dev\n", "", "a" * 11, "-x"])
def test_every_command_taking_env_refuses_a_bad_name_first(project, capsys, command, extra, env):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(project), command, f"--env={env}", *extra])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "not an environment name (allowed: 1-10 lowercase letters or digits, starting with a letter" in err
    assert "create envs/" not in err and "Traceback" not in err


def test_every_command_with_an_env_option_is_in_that_list():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    with_env = {name for name, sub in commands.items() if any("--env" in a.option_strings for a in sub._actions)}
    assert with_env == {"validate", "render", "package", "bootstrap", "plan", "changeset", "deploy", "drift",
                        "status", "outputs", "destroy", "serve"}


def test_an_env_file_that_is_a_directory_is_a_clear_error(project, capsys):
    (project / "envs/qa.yaml").mkdir()
    code, _, err = run(project, capsys, "render")
    assert code == 2
    assert err == "error: envs/qa.yaml: is a directory, not a file (a spec file is a YAML file)\n"


def test_an_env_file_that_is_a_symlink_loop_is_a_clear_error(project, capsys):
    os.symlink("qa.yaml", project / "envs/qa.yaml")
    code, _, err = run(project, capsys, "validate", "--env", "qa")
    assert code == 2
    assert err.startswith("error: envs/qa.yaml: cannot be read (") and "a symlink loop?)" in err


def test_a_dangling_symlink_and_a_pipe_are_clear_errors(project, capsys):
    os.symlink("nowhere.yaml", project / "envs/qa.yaml")
    assert run(project, capsys, "validate", "--env", "qa")[2].startswith("error: envs/qa.yaml: file not found")
    os.unlink(project / "envs/qa.yaml")
    os.mkfifo(project / "envs/qa.yaml")
    code, _, err = run(project, capsys, "validate", "--env", "qa")  # would block forever in open()
    assert code == 2 and "is not a regular file" in err


def test_a_base_file_that_is_a_directory_is_a_clear_error(project, capsys):
    (project / "blueprint.yaml").unlink()
    (project / "blueprint.yaml").mkdir()
    code, _, err = run(project, capsys, "validate")
    assert code == 2 and err.startswith("error: blueprint.yaml: is a directory")


def test_an_env_file_with_a_bad_name_is_refused_by_name_not_looked_up(project, capsys):
    (project / "envs/Bad.yaml").write_text(DEV)
    code, _, err = run(project, capsys, "validate")
    assert code == 2 and "environment 'Bad': not an environment name" in err
