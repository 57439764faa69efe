"""status, outputs and destroy: outputs kept for other tools, protected stacks never deleted, missing settings named."""
from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from blueprint.errors import Refused, UserError
from blueprint.render import settings as stack_settings
from blueprint.ship import stack_commands


def test_outputs_are_written_for_other_tools(tmp_path, capsys):
    stack_commands.show_outputs(tmp_path, "local", "dev", {"TableName": "t", "ApiKeyId": "k"})
    assert json.loads((tmp_path / ".blueprint" / "local" / "dev" / "outputs.json").read_text()) == {
        "ApiKeyId": "k", "TableName": "t"}
    assert not (tmp_path / ".blueprint" / "aws").exists()
    assert "TableName  t" in capsys.readouterr().out


def _destroy_with(project, monkeypatch, status, **extra):
    """destroy --env prod --yes on a stubbed CloudFormation whose prod stack is `status`; the stubber."""
    from tests.ship.stubs import stack, stubbed

    cfn, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [stack(status, "items-prod", **extra)]})
    session = SimpleNamespace(target=SimpleNamespace(kind="aws", region="us-east-1", describe=lambda: "us-east-1"))
    settings = stack_settings.read(project, "prod")
    monkeypatch.setattr(stack_commands, "_session", lambda args: (settings, session, cfn))
    args = SimpleNamespace(root=project, env="prod", target="aws", yes=True, output="text")
    return stack_commands.destroy_main, args, stub


def test_destroy_of_a_protected_environment_that_ran_is_refused(project, monkeypatch):
    destroy, args, stub = _destroy_with(project, monkeypatch, "UPDATE_COMPLETE")
    with pytest.raises(Refused, match="protected environment .* its stack is UPDATE_COMPLETE: blueprint does not "
                                        "delete it"):
        destroy(args)
    stub.assert_no_pending_responses()  # refused on what DescribeStacks said, before any other call


def test_destroy_of_a_protected_stack_whose_first_create_failed_goes_ahead(project, monkeypatch, capsys):
    destroy, args, stub = _destroy_with(project, monkeypatch, "ROLLBACK_COMPLETE", StackStatusReason="quota exceeded")
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("delete_stack", {}, {"StackName": "arn:aws:cloudformation:us-east-1:1:stack/items-prod/1"})
    stub.add_response("describe_stack_events", {"StackEvents": [
        {"StackId": "s", "StackName": "items-prod", "EventId": "e1", "LogicalResourceId": "items-prod",
         "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "DELETE_COMPLETE",
         "Timestamp": "2026-01-01T00:00:00Z"}]})
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id items-prod does not exist")
    assert destroy(args) == 0
    out = capsys.readouterr().out
    assert "items-prod is ROLLBACK_COMPLETE: its first create failed, so it never ran (deleted although prod is " \
           "protected): quota exceeded" in out
    assert "stack items-prod deleted" in out


def test_missing_or_malformed_stack_settings_are_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"generated/dev/stack.json is missing: run `make render ENV=dev`"):
        stack_settings.read(tmp_path, "dev")
    args = SimpleNamespace(root=tmp_path, env="dev", target="local", output="text")
    with pytest.raises(UserError, match="stack.json is missing"):
        stack_commands.status_main(args)
    path = tmp_path / "generated" / "dev" / "stack.json"
    path.parent.mkdir(parents=True)
    for text, said in [("[]", "not the file render writes"), ("{", "not valid JSON"),
                       ('{"stack_name": 1}', "not the file render writes")]:
        path.write_text(text)
        with pytest.raises(UserError, match=said):
            stack_settings.read(tmp_path, "dev")


def test_a_reader_that_goes_away_is_a_quiet_exit(tmp_path):
    """`blueprint status | head -1`: the closed pipe ends the command with exit 0 and no traceback."""
    code = ("import sys; from blueprint import cli; from blueprint.ship import stack_commands\n"
            "def chatty(args):\n"
            "    for _ in range(100000):\n"
            "        print('stack items-dev: UPDATE_COMPLETE ' * 4)\n"
            "stack_commands.status_main = chatty\n"
            f"sys.exit(cli.main(['--root', {str(tmp_path)!r}, 'status', '--env', 'dev']))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10) == b"stack item"
    proc.stdout.close()  # as `head` does once it has its line
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in proc.stderr.read()
