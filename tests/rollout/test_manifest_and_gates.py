"""The release manifest (merging copies, the refusal of a digest the wave before did not ship), the alarm gate,
and the per-thread output of a wave's parallel environments."""
from __future__ import annotations

import io
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from blueprint.errors import Refused, UserError
from blueprint.render.settings import RollbackTrigger, StackSettings
from blueprint.rollout import capture, gates, manifest

DIGEST = "ab" * 32
ENVS = st.sampled_from(["dev", "staging", "prod", "qa"])
ENTRY = st.fixed_dictionaries({"at": st.sampled_from(["2026-01-01T00:00:0%d+00:00" % i for i in range(10)]),
                               "outcome": st.sampled_from(["deployed", "failed", "unchanged"])})
COPY = st.fixed_dictionaries({"digest": st.just(DIGEST), "environments": st.dictionaries(ENVS, ENTRY),
                              "runs": st.lists(st.fixed_dictionaries({"started_at": st.sampled_from("123")}),
                                               max_size=3)})


@given(COPY, COPY)
def test_merging_two_copies_keeps_each_environments_latest_entry_and_every_run(a, b):
    merged = manifest.merged(a, b)
    assert set(merged["environments"]) == set(a["environments"]) | set(b["environments"])
    for env, entry in merged["environments"].items():
        times = [c["environments"][env]["at"] for c in (a, b) if env in c["environments"]]
        assert entry["at"] == max(times)
    assert all(run in merged["runs"] for run in a["runs"] + b["runs"])
    assert manifest.merged(a, None) is a and manifest.merged(None, b) is b


@pytest.mark.parametrize("order", ["watched-first", "watched-second"])
def test_of_two_copies_of_one_deploy_the_one_whose_gate_was_watched_is_kept(order):
    deploy = {"outcome": "deployed", "at": "2026-01-01T00:00:00+00:00", "healthy": True}
    watched = {**deploy, "quiet": gates.quiet_record(10, "staging: quiet", "2026-01-01T00:10:00+00:00")}
    copies = [{"digest": DIGEST, "environments": {"staging": e}, "runs": []} for e in (watched, deploy)]
    if order == "watched-second":
        copies.reverse()
    assert manifest.merged(*copies)["environments"]["staging"] == watched


def test_a_newer_look_at_one_deploy_wins_over_an_older_watch():
    deploy = {"outcome": "deployed", "at": "2026-01-01T00:00:00+00:00", "healthy": True,
              "quiet": gates.quiet_record(10, "staging: quiet", "2026-01-01T00:10:00+00:00")}
    sick = {**deploy, "healthy": False, "checked_at": "2026-01-01T00:20:00+00:00"}
    sick.pop("quiet")
    copies = [{"digest": DIGEST, "environments": {"staging": e}, "runs": []} for e in (deploy, sick)]
    assert manifest.merged(*copies)["environments"]["staging"] == sick
    assert manifest.merged(*reversed(copies))["environments"]["staging"] == sick


def test_a_gate_takes_a_recorded_watch_only_as_long_as_it_asks_since_the_deploy_and_while_fresh():
    entry = {"at": "2026-01-01T00:00:00+00:00", "healthy": True,
             "quiet": gates.quiet_record(10, "staging: quiet for 10 min", "2026-01-01T00:10:00+00:00")}
    soon = "2026-01-01T00:30:00+00:00"
    assert gates.recorded_quiet(entry, 10, soon) == ("staging: quiet for 10 min (watched by its own wave's run, "
                                                     "2026-01-01T00:10:00+00:00)")
    assert gates.recorded_quiet(entry, 5, soon) is not None
    assert gates.recorded_quiet(entry, 15, soon) is None  # watched for less than this gate asks
    assert gates.recorded_quiet(entry, 10, "2026-01-01T01:10:01+00:00") is None  # says nothing of the hour since
    assert gates.recorded_quiet({**entry, "at": "2026-01-01T01:00:00+00:00"}, 10, soon) is None  # an earlier deploy's
    assert gates.recorded_quiet({**entry, "healthy": False}, 10, soon) is None  # unhealthy since
    assert gates.recorded_quiet({"at": entry["at"], "healthy": True}, 0, soon) is None
    assert gates.recorded_quiet({**entry, "quiet": "yes"}, 0, soon) is None
    assert gates.recorded_quiet({**entry, "quiet": {"minutes": "10", "at": "z"}}, 0, soon) is None
    assert gates.recorded_quiet({**entry, "quiet": {"minutes": 10, "at": "not a time"}}, 0, soon) is None


def test_a_wave_takes_only_a_digest_the_wave_before_deployed_healthy():
    data = manifest.new(DIGEST, "python3.14", "arm64", f"handler/{DIGEST}.zip")
    assert "staging (never rolled out)" in manifest.refusal(data, DIGEST, "prod", "staging", ("staging",))
    data["environments"]["staging"] = {"outcome": "failed"}
    assert "staging (failed)" in manifest.refusal(data, DIGEST, "prod", "staging", ("staging",))
    data["environments"]["staging"] = {"outcome": "deployed", "healthy": False, "health": "x-health ALARM"}
    assert "its health alarms were not quiet: x-health ALARM" in manifest.refusal(data, DIGEST, "prod", "staging",
                                                                                     ("staging",))
    data["environments"]["staging"] = {"outcome": "deployed", "healthy": True}
    assert manifest.refusal(data, DIGEST, "prod", "staging", ("staging",)) is None


def test_a_manifest_that_is_not_one_is_a_clear_error(tmp_path):
    path = manifest.path(tmp_path, "local", DIGEST)
    path.parent.mkdir(parents=True)
    path.write_text("[]")
    with pytest.raises(UserError, match="not the release manifest of abababababab: delete it"):
        manifest.read(tmp_path, "local", DIGEST)
    path.write_text("{")
    with pytest.raises(UserError, match="not a release manifest"):
        manifest.read(tmp_path, "local", DIGEST)
    assert manifest.read(tmp_path, "aws", DIGEST) is None


class Alarms:
    """CloudWatch's DescribeAlarms answer for one composite alarm, its state set by the test."""

    def __init__(self, state: str, since: datetime):
        self.state, self.since = state, since

    def describe_alarms(self, AlarmNames, AlarmTypes):  # noqa: N803 - the SDK's names
        return {"CompositeAlarms": [{"AlarmName": n, "AlarmArn": f"arn:aws:cloudwatch:us-east-1:1:alarm:{n}",
                                     "StateValue": self.state, "StateUpdatedTimestamp": self.since}
                                    for n in AlarmNames], "MetricAlarms": []}


def settings(alarms: bool) -> StackSettings:
    trigger = RollbackTrigger("HealthAlarm", "items-staging-health", "AWS::CloudWatch::CompositeAlarm")
    return StackSettings("items-staging", "us-east-1", None, {}, False, None, "python3.14", "arm64",
                         alarms_enabled=alarms, rollback_triggers=(trigger,) if alarms else ())


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_the_gate_waits_until_the_alarms_were_quiet_long_enough_since_the_deploy():
    slept = []
    clock = iter([NOW, NOW + timedelta(minutes=4), NOW + timedelta(minutes=10)])
    said = gates.wait_quiet(Alarms("OK", NOW - timedelta(days=1)), settings(True), "staging", 10,
                            NOW.isoformat(), lambda text: None, slept.append, lambda: next(clock))
    assert said == "staging: health alarms quiet for 10 min (gate: 10)"
    assert slept == [30.0, 30.0]


def test_the_gate_refuses_an_alarm_in_alarm_and_passes_an_environment_without_alarms():
    with pytest.raises(Refused, match="staging's health alarm items-staging-health \\(ALARM\\) is not quiet"):
        gates.wait_quiet(Alarms("ALARM", NOW), settings(True), "staging", 0, None, print)
    assert gates.wait_quiet(Alarms("ALARM", NOW), settings(False), "staging", 10, None, print) == "staging: no alarms"
    assert gates.health(Alarms("ALARM", NOW), settings(True)) == (False, "items-staging-health ALARM")
    assert gates.health(Alarms("INSUFFICIENT_DATA", NOW), settings(True))[0] is True


def test_each_thread_of_a_wave_keeps_its_own_output():
    real = io.StringIO()
    old = sys.stdout
    sys.stdout = real
    results = {}
    try:
        with capture.routed():
            def work(name):
                with capture.captured() as buffer:
                    for i in range(50):
                        print(f"{name} {i}")
                        print(f"{name} err {i}", file=sys.stderr)
                results[name] = buffer.getvalue()
            threads = [threading.Thread(target=work, args=(n,)) for n in ("dev", "qa")]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print("main thread")
    finally:
        sys.stdout = old
    for name in ("dev", "qa"):
        assert results[name].splitlines()[:2] == [f"{name} 0", f"{name} err 0"]
        assert all(line.startswith(name) for line in results[name].splitlines())
    assert real.getvalue() == "main thread\n"


def test_an_unchanged_environment_keeps_the_time_of_the_deploy_the_gate_counts_from():
    from pathlib import Path
    from types import SimpleNamespace

    from blueprint.rollout.command import Release
    deployed = {"outcome": "deployed", "at": "2026-01-01T00:00:00+00:00", "by": "ci", "template_sha256": "t" * 64,
                "healthy": True, "error": "an earlier failure", "phase": "review"}
    release = Release(Path("."), "local", {"staging": SimpleNamespace(stack_name="items-staging")}, "d" * 64,
                      {"environments": {"staging": dict(deployed)}, "runs": []})
    release.entry("staging", "staging", outcome="unchanged", template_sha256=None)
    entry = release.data["environments"]["staging"]
    assert (entry["at"], entry["by"], entry["template_sha256"]) == (deployed["at"], "ci", "t" * 64)
    assert entry["outcome"] == "unchanged" and "checked_at" in entry and "error" not in entry and "phase" not in entry
    for outcome in ("unchanged", "deployed"):  # each run watches anew, whether it deployed or found nothing to
        release.data["environments"]["staging"]["quiet"] = gates.quiet_record(10, "quiet", "2026-01-01T00:10:00+00:00")
        release.entry("staging", "staging", outcome=outcome, template_sha256="u" * 64)
        assert "quiet" not in release.data["environments"]["staging"], outcome
    assert release.data["environments"]["staging"]["at"] > deployed["at"]


def test_an_artifact_speaks_for_its_own_environment_alone(tmp_path, capsys):
    """CI's manifests come as the earlier jobs' artifacts, blueprint-release-<env>/<digest>.json: each counts for
    its environment only, as each environment's object in S3 does."""
    import json
    from pathlib import Path
    from types import SimpleNamespace

    from blueprint.rollout.command import Release
    healthy = {"outcome": "deployed", "healthy": True, "at": "2026-01-01T00:00:00+00:00"}
    forged = {"digest": DIGEST, "runs": [{"started_at": "1"}], "environments": {"dev": healthy, "staging": healthy}}
    for folder in ("blueprint-release-dev", "elsewhere"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{DIGEST}.json").write_text(json.dumps(forged))
    settings = {env: SimpleNamespace(stack_name=f"items-{env}") for env in ("dev", "staging")}
    release = Release(Path("."), "aws", settings, DIGEST, manifest.new(DIGEST, "python3.14", "arm64", "k"))
    release.take(tmp_path)
    assert set(release.data["environments"]) == {"dev"} and release.data["runs"] == [{"started_at": "1"}]
    assert "elsewhere" in capsys.readouterr().err


def test_a_second_rollout_on_the_same_target_is_refused_while_one_runs(tmp_path):
    from argparse import Namespace

    from blueprint.rollout import command
    from blueprint.ship import lock
    with lock.rollout(tmp_path, "local"):
        with pytest.raises(Refused, match=r"the rollout \(the local AWS\) is locked by `blueprint rollout --target local` \(pid \d+"):
            command.main(Namespace(root=str(tmp_path), target="local"))


@pytest.mark.parametrize("junk", [
    '{"digest": "%s", "environments": {"dev": 7}, "runs": "x"}' % DIGEST,
    '{"digest": "%s", "environments": {"dev": {}}, "runs": [1]}' % DIGEST,
    "{not json", "[1, 2]", '{"digest": "other", "environments": {}}',
])
def test_an_artifact_that_is_not_a_manifest_is_ignored_with_a_warning(tmp_path, capsys, junk):
    from pathlib import Path
    from types import SimpleNamespace

    from blueprint.rollout.command import Release
    (tmp_path / "blueprint-release-dev").mkdir()
    (tmp_path / "blueprint-release-dev" / f"{DIGEST}.json").write_text(junk)
    release = Release(Path("."), "aws", {"dev": SimpleNamespace(stack_name="items-dev")}, DIGEST,
                      manifest.new(DIGEST, "python3.14", "arm64", "k"))
    release.take(tmp_path)
    assert release.data["environments"] == {} and release.data["runs"] == []
    assert f"is not a release manifest of {DIGEST[:12]}: ignored" in capsys.readouterr().err


def test_manifests_that_are_a_file_are_refused_and_a_missing_folder_is_said(tmp_path, capsys):
    from pathlib import Path
    from types import SimpleNamespace

    from blueprint.rollout.command import Release
    release = Release(Path("."), "aws", {"dev": SimpleNamespace(stack_name="items-dev")}, DIGEST,
                      manifest.new(DIGEST, "python3.14", "arm64", "k"))
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(UserError, match="--manifests .*a-file: not a folder"):
        release.take(tmp_path / "a-file")
    release.take(tmp_path / "absent")
    assert "does not exist: no earlier job's manifest" in capsys.readouterr().err
    local = manifest.path(tmp_path, "aws", DIGEST)  # the state folder's copy: a clear error, not a crash later
    local.parent.mkdir(parents=True)
    local.write_text('{"digest": "%s", "environments": {"dev": 7}}' % DIGEST)
    with pytest.raises(UserError, match="not the release manifest of abababababab: delete it"):
        manifest.read(tmp_path, "aws", DIGEST)
