"""`blueprint rollout`: build the handler package once and promote that digest through rollout.yaml's waves.

Per wave: the gate (the wave before it deployed this digest and was healthy, as the release manifest says;
its health alarms quiet for the minutes the gate asks), then every environment's change set created and
reviewed together, then executed together (at most max_parallel at once); the first failure stops the
rollout, naming the environment (exit 1). When the next wave's gate asks quiet alarms, this wave's run then
watches its own alarms for that long (its credentials are the ones that can read them: in CI the next
wave's job may be in another account) and records it. The manifest is written after every wave, to
`.blueprint/` and to the artifacts buckets.
"""
from __future__ import annotations

import sys
from argparse import Namespace
from dataclasses import replace
from pathlib import Path
from typing import Any

from blueprint.errors import DeployFailed, Refused, UserError
from blueprint.render import settings as stack_settings
from blueprint.render.settings import StackSettings
from blueprint.rollout import gates, manifest, steps
from blueprint.rollout.capture import routed
from blueprint.rollout.definition import Rollout, Wave, load_rollout
from blueprint.ship import aws, lock
from blueprint.ship.guard import LOCAL_MONITORING_MINUTES, partition
from blueprint.ship.package import build_package, package_dir
from blueprint.ship.upload import artifact_bucket, code_key
from blueprint.spec.validate import load_valid


def say(text: str) -> None:
    print(text, flush=True)


def selected(rollout: Rollout, names: list[str] | None, envs: list[str] | None = None) -> list[Wave]:
    """The waves asked for (`--wave`, in rollout order), or all of them; with `--env`, only those environments."""
    wanted = {rollout.wave(n).name for n in names} if names else {w.name for w in rollout.waves}
    waves = [w for w in rollout.waves if w.name in wanted]
    if not envs:
        return waves
    outside = sorted(set(envs) - {e for w in waves for e in w.environments})
    if outside:
        raise UserError(f"--env {', '.join(outside)}: not in the waves selected ({', '.join(w.name for w in waves)}) "
                        "of rollout.yaml")
    kept = [replace(w, environments=tuple(e for e in w.environments if e in envs)) for w in waves]
    return [w for w in kept if w.environments]


def one_target(settings: dict[str, StackSettings]) -> tuple[str, str]:
    """The runtime and architecture every environment shares: one digest runs everywhere, or none is built."""
    kinds = {(s.runtime, s.architecture) for s in settings.values()}
    if len(kinds) != 1:
        shown = ", ".join(f"{env}: {s.runtime}/{s.architecture}" for env, s in sorted(settings.items()))
        raise UserError(f"the rollout builds one package for every environment, but their function.runtime and "
                        f"function.architecture differ ({shown}): give them the same ones in blueprint.yaml "
                        "(or the envs/<env>.yaml files), or roll them out separately")
    return kinds.pop()


class Release:
    """The rollout's state: sessions per environment, the manifest, and writing it everywhere it belongs."""

    def __init__(self, root: Path, kind: str, settings: dict[str, StackSettings], digest: str, data: dict[str, Any],
                 service_role: str | None = None):
        self.root, self.kind, self.settings, self.digest, self.data = root, kind, settings, digest, data
        self.service_role = service_role
        self.sessions: dict[str, aws.Session] = {}
        self.accounts: dict[str, str] = {}
        self.buckets: dict[str, str | None] = {}
        self.shortened: set[float] = set()

    def session(self, env: str) -> aws.Session:
        if env not in self.sessions:
            self.sessions[env] = aws.session_for(self.settings[env].region, self.kind, self.root)
        return self.sessions[env]

    def role_arn(self, env: str) -> str | None:
        """The service role's ARN in this environment's account (the spec's pin, else the caller's)."""
        if not self.service_role:
            return None
        settings = self.settings[env]
        account = aws.check_account(self.session(env), settings.account_id, env)
        return f"arn:{partition(settings.region)}:iam::{account}:role/{self.service_role}"

    def account(self, env: str) -> str:
        """The account of the credentials `env`'s session holds."""
        if env not in self.accounts:
            self.accounts[env] = self.session(env).client("sts").get_caller_identity()["Account"]
        return self.accounts[env]

    def reaches(self, env: str) -> bool:
        """Whether the credentials in use can read `env`'s alarms: they are of the account its deploy was made
        in (as the manifest records it), else of the account its spec pins, if it pins one."""
        deployed_in = self.data["environments"].get(env, {}).get("account") or self.settings[env].account_id
        return not deployed_in or self.account(env) == str(deployed_in)

    def wait_quiet(self, env: str, minutes: float) -> str:
        """Wait until `env`'s health alarms have been quiet for `minutes` since its recorded deploy (gates.wait_quiet)."""
        return gates.wait_quiet(self.session(env).client("cloudwatch"), self.settings[env], env, minutes,
                                self.data["environments"][env].get("at"), say)

    def bucket(self, env: str) -> str | None:
        if env not in self.buckets:
            self.buckets[env] = artifact_bucket(self.session(env).client("cloudformation"),
                                                self.settings[env].bootstrap_stack)
        return self.buckets[env]

    def take(self, folder: Path | None) -> None:
        """Merge in the manifests of this digest from the earlier CI jobs' artifacts under `folder`: the one in
        `blueprint-release-<env>/` speaks for <env> alone, as each environment's object in S3 does."""
        if folder is None:
            return
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--manifests {folder}: not a folder (it takes the folder the earlier jobs' release "
                            f"artifacts were downloaded to, {manifest.ARTIFACT_PREFIX}<env>/ in it)")
        if not folder.is_dir():
            print(f"note: --manifests {folder} does not exist: no earlier job's manifest of this release (as in the "
                  "first wave)", file=sys.stderr)
            return
        for file in sorted(folder.rglob(f"{self.digest}.json")):
            env = file.parent.name.removeprefix(manifest.ARTIFACT_PREFIX)
            if not file.parent.name.startswith(manifest.ARTIFACT_PREFIX) or env not in self.settings:
                print(f"warning: {file} is not in an environment's release artifact ({manifest.ARTIFACT_PREFIX}<env>/): "
                      "ignored", file=sys.stderr)
                continue
            try:
                found = manifest.parse(file.read_bytes(), str(file), self.digest)
            except OSError as exc:
                raise UserError(f"{file} cannot be read ({exc.strerror or exc})") from None
            if found is None:
                print(f"warning: {file} is not a release manifest of {self.digest[:12]}: ignored", file=sys.stderr)
                continue
            self.data = manifest.merged(self.data, manifest.own_part(found, env))

    def fetch(self, envs: list[str]) -> None:
        """Merge in each environment's own copy of the manifest from its artifacts bucket (CI jobs share them)."""
        import botocore.exceptions as bx

        for env in envs:
            try:
                bucket = self.bucket(env)
                if bucket:
                    key = manifest.s3_key(self.digest, env)
                    body = self.session(env).client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
                    own = manifest.own_part(manifest.parse(body, f"s3://{bucket}/{key}", self.digest), env)
                    self.data = manifest.merged(self.data, own)
            except bx.ClientError:
                continue  # no copy there yet, or not ours to read: the local one stands

    def save(self, envs: list[str]) -> None:
        """Write the manifest to .blueprint/, and each of `envs`' entry to its own object in its artifacts bucket."""
        import botocore.exceptions as bx

        manifest.write(self.root, self.kind, self.data)
        for env in envs:
            try:
                bucket = self.bucket(env)
                if not bucket:
                    print(f"warning: {env} has no ready bootstrap stack, so its release manifest is not in an "
                          f"artifacts bucket; it is in {manifest.path(self.root, self.kind, self.digest)}",
                          file=sys.stderr)
                else:
                    own = manifest.own_part(self.data, env)
                    self.session(env).client("s3").put_object(
                        Bucket=bucket, Key=manifest.s3_key(self.digest, env), Body=manifest.text(own).encode(),
                        ContentType="application/json")
            except bx.ClientError as exc:
                print(f"warning: the release manifest could not be written to {env}'s artifacts bucket "
                      f"({aws.error_code(exc)}: {aws.error_message(exc)}); it is in "
                      f"{manifest.path(self.root, self.kind, self.digest)}", file=sys.stderr)

    def entry(self, env: str, wave: str, **values: Any) -> None:
        entries = self.data["environments"]
        before = entries.get(env, {})
        # A past failure's error is stale now, and so is any watch of the alarms: each run watches anew
        # (from the deploy's time, so an environment quiet since is through at once).
        kept = {k: v for k, v in before.items() if k not in ("error", "phase", "quiet")}
        if values.get("outcome") == "unchanged" and before.get("outcome") in manifest.GOOD:
            # The stack runs this digest since that deploy: its time (the alarm gate counts from it), who
            # made it and its template stay; only the check is new.
            entries[env] = {**kept, "wave": wave, "outcome": "unchanged", "checked_at": manifest.now()}
            return
        entries[env] = {**kept, "wave": wave, "stack": self.settings[env].stack_name,
                        "at": manifest.now(), "by": manifest.who(), **values}


def gate_minutes(release: Release, minutes: float) -> float:
    """The alarm gate's quiet time; on the local target shortened as its monitoring window is (and said)."""
    if release.kind != "local":
        return minutes
    short = round(min(minutes, LOCAL_MONITORING_MINUTES) * aws.local_time_scale(release.root), 3)
    if short >= minutes:
        return minutes
    if minutes not in release.shortened:  # said once: the watch and the next wave's check both ask
        release.shortened.add(minutes)
        say(f"gate: rollout.yaml asks {minutes:g} min of quiet alarms; the local target waits {short:g} min (its "
            f"monitoring window, {LOCAL_MONITORING_MINUTES} min, at the local AWS's time scale) to keep local rollouts fast")
    return short


def gate_passed(release: Release, env: str, wave: Wave, minutes: float) -> str:
    """`env` (of the wave before `wave`) had its alarms quiet for `minutes`: read now where the credentials
    reach them, else as its own run recorded; Refused when neither can tell."""
    entry = release.data["environments"][env]
    if release.reaches(env):
        return release.wait_quiet(env, minutes)
    seen = gates.recorded_quiet(entry, minutes, manifest.now())
    if seen is None:
        raise Refused(f"the gate refused: wave {wave.name} needs {env}'s health alarms quiet for {minutes:g} min, "
                      f"and they are in account {release.settings[env].account_id}, which these credentials cannot "
                      f"read, and {env}'s own run recorded no such watch since its deploy in the last "
                      f"{gates.RECORD_VALID_MINUTES} min. Run "
                      f"`blueprint rollout --wave {entry.get('wave', '?')} --env {env}` with {env}'s credentials "
                      f"(it waits for the gate after its deploy, as its CI job does), then this wave again")
    return f"{env}: {seen}"


def watch_for_next(release: Release, rollout: Rollout, wave: Wave, run: dict[str, Any]) -> None:
    """When the wave after `wave` gates on quiet alarms, watch this wave's alarms here for that long and record it."""
    following = rollout.after(rollout.wave(wave.name))
    if following is None or following.alarms_quiet_minutes is None:
        return
    minutes = gate_minutes(release, following.alarms_quiet_minutes)
    for env in wave.environments:
        entry = release.data["environments"][env]
        try:
            seen = release.wait_quiet(env, minutes)
        except Refused as exc:
            entry.update(healthy=False, health=str(exc).split("; ")[0])  # the gate's view now, not the deploy's
            run.update(outcome="refused", refused_wave=following.name, finished_at=manifest.now())
            release.save(list(wave.environments))
            raise
        entry["quiet"] = gates.quiet_record(minutes, seen, manifest.now())
        say(f"watched for wave {following.name}'s gate: {seen}")
    release.save(list(wave.environments))


def _show(title: str, results: list[steps.Result]) -> None:
    for result in results:
        if not result.started:
            continue
        say(f"=== {result.env}: {title} ===")
        if result.output:
            print(result.output.rstrip("\n"), flush=True)
        if not result.ok:
            say(result.error)


def _failed(results: list[steps.Result]) -> steps.Result | None:
    return next((r for r in results if r.started and not r.ok), None)


def _stop(release: Release, run: dict[str, Any], wave: Wave, results: list[steps.Result], phase: str,
          later: list[Wave]) -> None:
    """Record the failure, save the manifest, and raise naming the failed environment and what was not deployed."""
    failed = _failed(results)
    assert failed is not None
    rest = [f"{r.env} ({wave.name})" for r in results if not r.ok and r.env != failed.env]
    rest += [f"{e} ({w.name})" for w in later for e in w.environments]
    run.update(outcome="failed", failed_env=failed.env, failed_phase=phase, finished_at=manifest.now())
    release.save(list(wave.environments))
    not_deployed = f"; not deployed: {', '.join(rest)}" if rest else ""
    error = DeployFailed if failed.exit_code == 1 else UserError
    first = failed.error.splitlines()[0] if failed.error else "see its output above"
    raise error(f"rollout stopped at wave {wave.name}: {failed.env} failed ({phase}: {first}){not_deployed}. "
                f"{failed.env}'s {phase} output is above; the manifest is {manifest.path(release.root, release.kind, release.digest)}")


def run_wave(release: Release, rollout: Rollout, wave: Wave, run: dict[str, Any], later: list[Wave],
             allow_replace: list[str], reviewed: bool = False) -> None:
    before = rollout.before(rollout.wave(wave.name))
    if before:
        release.fetch(list(before.environments) + list(wave.environments))
        why = manifest.refusal(release.data, release.digest, wave.name, before.name, before.environments)
        if why:
            run.update(outcome="refused", refused_wave=wave.name, finished_at=manifest.now())
            manifest.write(release.root, release.kind, release.data)
            raise Refused(why)
        if wave.alarms_quiet_minutes is not None:
            minutes = gate_minutes(release, wave.alarms_quiet_minutes)
            for env in before.environments:
                say("gate: " + gate_passed(release, env, wave, minutes))
    if wave.approval:
        say(f"gate: wave {wave.name} needs an approval: in CI its GitHub environments require a reviewer; here, "
            "running the rollout is the approval")
    say(f"wave {wave.name}: reviewing {', '.join(wave.environments)} (at most {wave.max_parallel} at once)")
    roles = {env: None if reviewed else release.role_arn(env) for env in wave.environments}
    with routed():
        reviews = steps.run_all(wave.environments, wave.max_parallel,
                                lambda env: steps.review(release.root, env, release.kind, release.digest, reviewed,
                                                         roles[env]))
    _show("change set review", reviews)
    failed = _failed(reviews)
    if failed:
        release.entry(failed.env, wave.name, outcome="failed", phase="review", error=failed.error)
        _stop(release, run, wave, reviews, "review", later)
    to_deploy = tuple(r.env for r in reviews if r.record is not None)
    for r in reviews:
        if r.record is None:
            release.entry(r.env, wave.name, outcome="unchanged", template_sha256=None)
    say(f"wave {wave.name}: executing {', '.join(to_deploy) or 'nothing (no changes)'}")
    with routed():
        deploys = steps.run_all(to_deploy, wave.max_parallel,
                                lambda env: steps.execute(release.root, env, release.kind, allow_replace))
    _show("deploy", deploys)
    records_by_env = {r.env: r.record for r in reviews if r.record is not None}
    for result in deploys:
        record = records_by_env[result.env]
        values: dict[str, Any] = {"template_sha256": record.template_sha256, "change_set": record.change_set_name,
                                  "summary": record.summary}
        if result.ok:
            values["outcome"] = "deployed"
        else:
            values.update(outcome="failed" if result.started else "not started", error=result.error)
        release.entry(result.env, wave.name, **values)
    for env in wave.environments:
        entry = release.data["environments"][env]
        if entry["outcome"] in manifest.GOOD:
            healthy, seen = gates.health(release.session(env).client("cloudwatch"), release.settings[env])
            entry.update(healthy=healthy, health=seen, account=release.account(env))
            say(f"health: {env}: {seen}")
    failed = _failed(deploys)
    if failed:
        _stop(release, run, wave, deploys, "deploy", later)
    sick = [e for e in wave.environments if not release.data["environments"][e].get("healthy")]
    release.save(list(wave.environments))
    if sick:
        run.update(outcome="failed", failed_env=sick[0], failed_phase="health", finished_at=manifest.now())
        manifest.write(release.root, release.kind, release.data)
        raise DeployFailed(f"rollout stopped after wave {wave.name}: {sick[0]} deployed, but its health alarms are "
                           f"not quiet ({release.data['environments'][sick[0]].get('health')})")
    watch_for_next(release, rollout, wave, run)


def main(args: Namespace) -> int:
    """`blueprint rollout`: one at a time per target, since each writes the release manifests it reads."""
    root, kind = Path(args.root), args.target
    with lock.rollout(root, kind):
        return _rollout(args, root, kind)


def _rollout(args: Namespace, root: Path, kind: str) -> int:
    rollout = load_rollout(root)
    waves = selected(rollout, args.wave, getattr(args, "env", None))
    envs = [env for wave in waves for env in wave.environments]
    specs = load_valid(root, rollout.environments())  # the waves before the selected ones are read, too
    settings = {spec.env: stack_settings.from_spec(spec) for spec in specs}
    runtime, architecture = one_target(settings)
    package = build_package(root, runtime, architecture, package_dir(root))
    say(f"rollout: package {code_key(package)} ({runtime}, {architecture}), built once for "
        f"{', '.join(envs)}; waves {' -> '.join(w.name for w in waves)}")
    data = manifest.read(root, kind, package.sha256) or manifest.new(package.sha256, runtime, architecture,
                                                                     code_key(package))
    release = Release(root, kind, settings, package.sha256, data, getattr(args, "service_role", None))
    release.take(getattr(args, "manifests", None))
    run = {"waves": [w.name for w in waves], "by": manifest.who(), "commit": manifest.commit(root),
           "started_at": manifest.now(), "outcome": "running"}
    release.data["runs"].append(run)  # release.data: what take() merged, not the manifest read before
    with aws.translated(kind):
        for i, wave in enumerate(waves):
            run_wave(release, rollout, wave, run, waves[i + 1:], list(getattr(args, "allow_replace", []) or []),
                     bool(getattr(args, "reviewed", False)))
        run.update(outcome="succeeded", finished_at=manifest.now())
        release.save(envs)
    say(f"rollout: {package.sha256[:12]} is deployed and healthy in {', '.join(envs)}; manifest "
        f"{manifest.path(root, kind, package.sha256)}")
    return 0
