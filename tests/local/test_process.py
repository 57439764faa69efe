"""blueprint.local: start, find, reuse and stop the embedded local AWS."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from argparse import Namespace
from pathlib import Path

import pytest

from blueprint.local import process as local
from blueprint.local import timing as timing_option
from blueprint.local.timing import Timing
from blueprint.errors import UserError


def _alive(pid: int) -> bool:
    return local._pid_alive(pid)


@pytest.fixture
def state_dir(tmp_path: Path):
    d = tmp_path / ".blueprint"
    yield d
    local.stop(d)  # never leave a server behind


def test_client_kwargs_use_dummy_credentials_and_the_endpoint():
    kw = local.client_kwargs("http://127.0.0.1:1234")
    assert kw["endpoint_url"] == "http://127.0.0.1:1234"
    assert kw["aws_access_key_id"] == "testing" and kw["aws_secret_access_key"] == "testing"
    assert kw["aws_session_token"] is None
    assert "region_name" not in kw


def test_nothing_runs_in_an_empty_state_dir(state_dir: Path, capsys):
    assert local.status(state_dir) is None
    assert local.stop(state_dir) is False
    assert local.main(Namespace(action="status", root=state_dir.parent)) == 1
    assert "no local AWS is running" in capsys.readouterr().out


def test_start_reuse_stop(state_dir: Path):
    endpoint = local.ensure_running(state_dir)
    state = json.loads((state_dir / "local-aws.json").read_text())
    assert endpoint == f"http://127.0.0.1:{state['port']}"
    assert set(state) >= {"pid", "port", "started_at"}
    assert _alive(state["pid"])
    with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2) as resp:
        assert resp.status == 200
    assert "starting on port" in (state_dir / "local-aws.log").read_text()

    info = local.status(state_dir)
    assert info["endpoint"] == endpoint and info["pid"] == state["pid"]
    assert local.ensure_running(state_dir) == endpoint  # reused, not restarted
    assert json.loads((state_dir / "local-aws.json").read_text())["pid"] == state["pid"]

    assert local.stop(state_dir) is True
    assert not _alive(state["pid"])
    assert not (state_dir / "local-aws.json").exists()
    assert local.status(state_dir) is None
    assert local.stop(state_dir) is False


def test_stale_pid_file_is_replaced(state_dir: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state_dir.mkdir(parents=True)
    (state_dir / "local-aws.json").write_text(json.dumps({"pid": dead.pid, "port": 9, "started_at": "x"}))
    assert local.status(state_dir) is None
    endpoint = local.ensure_running(state_dir)
    state = json.loads((state_dir / "local-aws.json").read_text())
    assert state["pid"] != dead.pid and endpoint.endswith(f":{state['port']}")


def test_live_pid_that_is_not_our_server_is_left_alone(state_dir: Path):
    state_dir.mkdir(parents=True)
    (state_dir / "local-aws.json").write_text(json.dumps({"pid": os.getpid(), "port": 9, "started_at": "x"}))
    assert local.status(state_dir) is None  # alive, but not answering: not a local AWS
    assert local.stop(state_dir) is False  # and never signalled (it is this test process)
    assert not (state_dir / "local-aws.json").exists()


def test_garbage_state_file_counts_as_nothing_running(state_dir: Path):
    state_dir.mkdir(parents=True)
    (state_dir / "local-aws.json").write_text("{not json")
    assert local.status(state_dir) is None
    assert local.stop(state_dir) is False


def test_server_that_cannot_start_is_a_user_error_naming_the_log(state_dir: Path, monkeypatch):
    monkeypatch.setattr(local.sys, "executable", "/bin/false")
    with pytest.raises(UserError) as err:
        local.ensure_running(state_dir)
    assert str(state_dir / "local-aws.log") in str(err.value)
    assert not (state_dir / "local-aws.json").exists()


def test_server_refuses_a_non_loopback_address():
    from blueprint.local import server
    with pytest.raises(SystemExit):
        server.main(["--port", "0", "--host", "0.0.0.0"])


def test_cli_up_status_down(tmp_path: Path, capsys):
    args = Namespace(root=tmp_path)
    try:
        assert local.main(Namespace(action="up", **vars(args))) == 0
        out = capsys.readouterr().out
        endpoint = json.loads((tmp_path / ".blueprint" / "local-aws.json").read_text())["port"]
        assert f"http://127.0.0.1:{endpoint}" in out
        assert local.main(Namespace(action="status", **vars(args))) == 0
        assert "local AWS running at http://127.0.0.1:" in capsys.readouterr().out
    finally:
        assert local.main(Namespace(action="down", **vars(args))) == 0
    assert "stopped" in capsys.readouterr().out
    assert local.main(Namespace(action="down", **vars(args))) == 0
    assert "no local AWS was running" in capsys.readouterr().out


def test_cli_dispatches_local(tmp_path: Path, capsys):
    from blueprint.cli import main
    assert main(["--root", str(tmp_path), "local", "status"]) == 1
    assert "no local AWS is running" in capsys.readouterr().out


def _servers(state_dir: Path) -> list[int]:
    """The pids of the local AWS servers of this state folder, as /proc shows them."""
    return sorted(s["pid"] for s in local._find_servers(state_dir))


@pytest.mark.parametrize("content", ["{not json", "[]", '{"port": 5000}'])
def test_a_corrupt_state_file_never_leads_to_a_second_server(state_dir: Path, content: str, capsys):
    endpoint = local.ensure_running(state_dir)
    [pid] = _servers(state_dir)
    (state_dir / "local-aws.json").write_text(content)
    assert local.ensure_running(state_dir) == endpoint  # found in /proc, not started again
    assert _servers(state_dir) == [pid]
    assert "found the running local AWS" in capsys.readouterr().err
    assert json.loads((state_dir / "local-aws.json").read_text())["pid"] == pid  # written again
    (state_dir / "local-aws.json").write_text(content)
    assert local.stop(state_dir) is True  # `local down` still finds and stops it
    assert not _alive(pid) and _servers(state_dir) == []


def test_a_missing_state_file_is_written_again_from_the_running_server(state_dir: Path):
    endpoint = local.ensure_running(state_dir)
    (state_dir / "local-aws.json").unlink()
    assert local.status(state_dir)["endpoint"] == endpoint
    assert local.ensure_running(state_dir) == endpoint and len(_servers(state_dir)) == 1


def test_without_proc_a_corrupt_state_file_is_refused_clearly(state_dir: Path, monkeypatch):
    state_dir.mkdir(parents=True)
    (state_dir / "local-aws.json").write_text('{"pid": ')
    monkeypatch.setattr(local, "PROC", state_dir / "no-proc-here")
    for call in (local.ensure_running, local.stop):
        with pytest.raises(UserError) as err:
            call(state_dir)
        message = str(err.value)
        assert str(state_dir / "local-aws.json") in message and "corrupt or partial" in message
        assert "blueprint.local.server" in message and "delete" in message


def test_a_killed_server_is_reported_once_then_replaced(state_dir: Path, capsys):
    local.ensure_running(state_dir)
    killed = json.loads((state_dir / "local-aws.json").read_text())
    os.kill(killed["pid"], signal.SIGKILL)
    assert local.stopped_during_command(f"http://127.0.0.1:{killed['port']}/") is not None
    assert local.stopped_during_command("http://127.0.0.1:1/") is None  # never ours: a plain "cannot reach"
    assert local.main(Namespace(action="status", root=state_dir.parent)) == 1
    assert f"started at {killed['started_at']}" in capsys.readouterr().out
    endpoint = local.ensure_running(state_dir)
    err = capsys.readouterr().err
    assert f"note: the local AWS started at {killed['started_at']} (pid {killed['pid']}" in err
    assert "is no longer running (killed?); the stacks it held are gone" in err
    assert "make bootstrap ENV=<env> TARGET=local" in err and "starting a new, empty one" in err
    assert local.ensure_running(state_dir) == endpoint
    assert "no longer running" not in capsys.readouterr().err  # said once


def test_commands_starting_together_start_one_server(state_dir: Path):
    code = ("import sys; from blueprint.local import process; "
            "print(process.ensure_running(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(state_dir)], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    endpoints = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(endpoints) == 1 and len(_servers(state_dir)) == 1


# ---- the timing option (blueprint.local.timing)

def test_timing_is_parsed_and_spelled_one_way():
    assert timing_option.parse(None, None) == Timing("off", 1.0)
    assert timing_option.parse("AWS", "0.05") == Timing("aws", 0.05)
    assert Timing("aws", 0.05).describe() == "timing aws, time scale 0.05"
    assert timing_option.from_cmdline(["-m", "blueprint.local.server", *Timing("aws", 0.05).server_args()]) == \
        Timing("aws", 0.05)
    assert timing_option.from_state({"pid": 1, "port": 2}) == Timing()  # a state file from before timing
    for mode, scale, said in [("fast", None, "not one of off, aws"), ("aws", "x", "not a number"),
                              ("aws", "0", "above 0"), ("aws", "inf", "above 0")]:
        with pytest.raises(ValueError, match=said):
            timing_option.parse(mode, scale)
    with pytest.raises(ValueError, match="BLUEPRINT_LOCAL_TIMING"):
        timing_option.from_env({"BLUEPRINT_LOCAL_TIMING": "later"})


def test_the_timing_is_the_servers_own_and_never_changed_behind_its_back(state_dir: Path, monkeypatch, capsys):
    slow = Timing("aws", 0.5)
    endpoint = local.ensure_running(state_dir, slow)
    state = json.loads((state_dir / "local-aws.json").read_text())
    assert (state["timing"], state["time_scale"]) == ("aws", 0.5)
    assert "timing aws, time scale 0.5" in (state_dir / "local-aws.log").read_text()
    assert local.status(state_dir)["timing"] == "aws"
    assert local.ensure_running(state_dir) == endpoint  # no timing asked for: whatever runs
    assert local.ensure_running(state_dir, slow) == endpoint
    with pytest.raises(UserError, match=r"runs with timing aws, time scale 0.5, not timing off.*local down"):
        local.ensure_running(state_dir, Timing())
    monkeypatch.setenv("BLUEPRINT_LOCAL_TIMING", "off")
    with pytest.raises(UserError, match="not timing off"):
        local.ensure_running(state_dir)  # the environment asks too
    monkeypatch.delenv("BLUEPRINT_LOCAL_TIMING")
    (state_dir / "local-aws.json").unlink()  # found again in /proc, its timing from its command line
    assert local.status(state_dir)["time_scale"] == 0.5
    assert local.main(Namespace(action="status", root=state_dir.parent)) == 0
    assert "timing aws, time scale 0.5" in capsys.readouterr().out


def test_local_up_takes_the_timing_options(tmp_path: Path, capsys, monkeypatch):
    root = tmp_path
    try:
        assert local.main(Namespace(action="up", root=root, timing="aws", time_scale=0.25)) == 0
        assert "(timing aws, time scale 0.25;" in capsys.readouterr().out
        with pytest.raises(UserError, match="time scale -1"):
            local.main(Namespace(action="up", root=root, timing="aws", time_scale=-1))
    finally:
        local.main(Namespace(action="down", root=root))
    monkeypatch.setenv("BLUEPRINT_LOCAL_TIMING", "aws")
    monkeypatch.setenv("BLUEPRINT_LOCAL_TIME_SCALE", "0.5")
    try:
        assert local.main(Namespace(action="up", root=root)) == 0  # the environment's timing for a new server
        assert "(timing aws, time scale 0.5;" in capsys.readouterr().out
    finally:
        local.main(Namespace(action="down", root=root))


def test_a_server_stop_ends_the_operations_running_in_the_background(state_dir: Path):
    """SIGTERM during a stack operation that has seconds to go: the server exits at once, not when it is done."""
    import boto3

    endpoint = local.ensure_running(state_dir, Timing("aws", 0.1))
    cfn = boto3.client("cloudformation", region_name="eu-west-1", **local.client_kwargs(endpoint))
    template = json.dumps({"Resources": {"Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {}}}})  # 60 s: 6 s here
    cfn.create_change_set(StackName="long", ChangeSetName="long", ChangeSetType="CREATE", TemplateBody=template)
    cfn.get_waiter("change_set_create_complete").wait(StackName="long", ChangeSetName="long",
                                                       WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    cfn.execute_change_set(StackName="long", ChangeSetName="long")
    assert cfn.describe_stacks(StackName="long")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    pid = json.loads((state_dir / "local-aws.json").read_text())["pid"]
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while _alive(pid) and time.monotonic() - started < 3:
        time.sleep(0.05)
    assert not _alive(pid), "the server waited for its background operation"
    assert "background operation" not in (state_dir / "local-aws.log").read_text()  # ended, not failed
