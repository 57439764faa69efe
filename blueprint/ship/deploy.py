"""`blueprint deploy`: execute exactly the reviewed change set, after checking it is still what was reviewed.

Refused: a record of another target, a template or package changed since the review, a change set
whose own template or package is not the record's (a record is a file: in CI another job's), one that
is gone, obsolete or followed by a newer review, a stack another command holds the lock of, a
stateful resource replaced or removed without `--allow-replace` (decided from the described change
set itself, not from the record), and, on a protected environment, a stack that drifted without
`--accept-drift` (blueprint.ship.drift). A spec file edited since the review but not rendered is a
warning: the reviewed template is what runs, and the warning says how to review the new spec.
"""
from __future__ import annotations

import contextlib
import sys
from argparse import Namespace
from pathlib import Path
from typing import Any

from blueprint.cfn import loader
from blueprint.errors import Refused, UserError
from blueprint.ship import aws, drift, lock, records
from blueprint.ship.changeset import REVERT_DRIFT, review_of, template_of
from blueprint.ship.events import stack_timeout_s
from blueprint.ship.execute import check_dangerous, execute
from blueprint.ship.monitor import Watch
from blueprint.ship.package import build_package, package_dir
from blueprint.ship.prepare import file_sha256, sha256_text
from blueprint.ship.protect import protect
from blueprint.ship.review import Review
from blueprint.ship.stack_commands import outputs_of, show_outputs
from blueprint.ship.stacks import stack_description, stack_version
from blueprint.state import review_record_path


def check_reviewed(root: Path, env: str, record: records.ReviewRecord, target: str) -> dict[str, Any]:
    """The reviewed template, parsed; UserError when the target, template or package is not what was reviewed."""
    again = f"run `{aws.make_command('changeset', env, target)}` and review the new one"
    if record.target != target:
        raise UserError(f"the reviewed change set of {env} is for --target {record.target}, not {target}: "
                        f"run `{aws.make_command('changeset', env, target)}` first")
    template = root / record.template_file
    text = template.read_text(encoding="utf-8") if template.is_file() else None
    if text is None or sha256_text(text) != record.template_sha256:
        raise UserError(f"{record.template_file} changed since change set {record.change_set_name} was "
                        f"reviewed: {again}")
    built = build_package(root, record.settings.runtime, record.settings.architecture, package_dir(root))
    if built.sha256 != record.package_sha256:
        raise UserError(f"the handler package changed since change set {record.change_set_name} was reviewed "
                        f"(sha256 {record.package_sha256[:12]} -> {built.sha256[:12]}): {again}")
    return loader.loads(text)


def spec_warning(root: Path, env: str, record: records.ReviewRecord) -> str | None:
    """What to tell when a spec file changed since the review (its template did not: check_reviewed)."""
    now = {name: file_sha256(root, name) for name in sorted(record.spec_files)}
    changed = [f"{name} ({'deleted' if now[name] is None else 'edited'})"
               for name, digest in sorted(record.spec_files.items()) if now[name] != digest]
    if not changed:
        return None
    return (f"warning: {', '.join(changed)} changed since change set {record.change_set_name} was reviewed "
            f"({record.reviewed_at}), but generated/ was not rendered from it: this deploy runs the reviewed "
            f"{record.template_file}, not what the spec says now. To ship the spec as it is now, run `make render`, "
            f"review the diff, then `{aws.make_command('changeset', env, record.target)}` and deploy that")


def _change_sets(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    summaries: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StackName": stack_id}
    while True:
        page = cfn.list_change_sets(**kwargs)
        summaries.extend(page.get("Summaries", []))
        if not page.get("NextToken"):
            return summaries
        kwargs["NextToken"] = page["NextToken"]


def check_code(described: dict[str, Any], record: records.ReviewRecord, again: str) -> None:
    """The change set deploys the package the record names: a record is a file (in CI, another job's
    artifact), and the change set it points to must carry that package's key, not just its own claim."""
    if not record.package_sha256:
        return
    params = {p.get("ParameterKey"): p.get("ParameterValue") for p in described.get("Parameters") or []}
    expected = f"handler/{record.package_sha256}.zip"
    if params.get("CodeKey") != expected:
        raise Refused(f"change set {record.change_set_name} deploys CodeKey {params.get('CodeKey')!r}, not the reviewed "
                      f"package {expected}: its record does not describe it; nothing was executed, {again}")


def check_template(cfn: Any, described: dict[str, Any], record: records.ReviewRecord, reviewed: dict[str, Any],
                   env: str) -> None:
    """The change set applies the reviewed template: the record is a file (in CI, a pull request job's
    artifact), so the template CloudFormation holds for the change set must be the one the record hashes."""
    body = cfn.get_template(StackName=described.get("StackId") or record.stack_id, ChangeSetName=record.change_set_id,
                            TemplateStage="Original")["TemplateBody"]
    applied = loader.parse_body(body)
    if applied == reviewed:
        return
    mine, theirs = reviewed.get("Resources") or {}, applied.get("Resources") or {}
    differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
    sections = sorted(k for k in set(reviewed) | set(applied) if k != "Resources" and reviewed.get(k) != applied.get(k))
    more = [f"{len(differ) - 5} more resources"] if len(differ) > 5 else []
    what = ", ".join([*(f"resource {k}" for k in differ[:5]), *more, *sections]) or "its text"
    raise Refused(f"change set {record.change_set_name} would apply a template that is not the reviewed "
                  f"{record.template_file} (it differs in {what}): its record does not describe it; nothing was "
                  f"executed. Run `{aws.make_command('changeset', env, record.target)}` and review the new one")


def check_available(cfn: Any, record: records.ReviewRecord, env: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Refuse a change set that can no longer run as reviewed; (the stack, the described change set).

    Refused: a change set that is gone or not AVAILABLE (AWS marks it OBSOLETE once the stack
    changed), one that another change set was created after (a second review of the stack since),
    and one whose stack changed since the review (the local AWS marks nothing OBSOLETE).
    """
    import botocore.exceptions as bx

    name = record.change_set_name
    again = f"run `{aws.make_command('changeset', env, record.target)}` again"
    try:
        described = cfn.describe_change_set(ChangeSetName=record.change_set_id)
    except bx.ClientError as exc:
        raise UserError(f"change set {name} is gone ({aws.error_message(exc)}): {again}") from None
    if described["Status"] != "CREATE_COMPLETE" or described.get("ExecutionStatus") != "AVAILABLE":
        raise UserError(f"change set {name} is {described['Status']}/{described.get('ExecutionStatus')}, no longer "
                        f"executable (the stack changed since, or it ran already): {again}")
    check_code(described, record, again)
    stack_id = described.get("StackId") or record.stack_id
    created = described.get("CreationTime")
    newer = [s for s in _change_sets(cfn, stack_id)
             if s.get("ChangeSetId") != record.change_set_id and s.get("StackId", stack_id) == stack_id
             and s.get("Status") != "FAILED" and created is not None and s.get("CreationTime") is not None
             and s["CreationTime"] > created]
    if newer:
        names = ", ".join(sorted(s.get("ChangeSetName", "?") for s in newer))
        raise UserError(f"change set(s) {names} were created on stack {record.stack_name} after the reviewed "
                        f"{name}: the stack is being reviewed again elsewhere, so {name} may not be what will be "
                        f"applied; nothing was executed. Delete the other change set(s) if they are stale, or {again}")
    stack = stack_description(cfn, stack_id)
    current = stack_version(stack)
    if record.create:
        changed = stack is None or stack["StackStatus"] != "REVIEW_IN_PROGRESS"
    else:
        changed = current != record.stack_version
    if changed or stack is None:
        raise UserError(f"stack {record.stack_name} changed since change set {name} was reviewed "
                        f"(now {current}): {again}")
    return stack, described


def check_drift(cfn: Any, stack: dict[str, Any], described: dict[str, Any], review: Review, accepted: bool,
                env: str, kind: str) -> None:
    """A protected environment's guard: refuse (Refused) to execute over drift unless it was accepted.

    A drift-aware change set (--revert-drift) was reviewed as putting the drift back, so it is not
    checked again; unprotected environments are not checked at all (`make drift` looks when asked).
    """
    name = described.get("ChangeSetName") or review.change_set_name
    if described.get("DeploymentMode") == REVERT_DRIFT:
        print(f"drift: change set {name} is drift-aware (REVERT_DRIFT): it puts drifted resources back as reviewed")
        return
    if accepted:
        print("drift: not checked (--accept-drift): this deploy overwrites any drift of the resources it modifies")
        return
    changed = [c.logical_id for c in review.changes if c.action in ("Modify", "Remove")]
    drift.guard(cfn, stack, review.target, env, kind, name or "?", changed)
    print(f"drift: none on {review.stack_name} (checked before executing on a protected environment)", flush=True)


def watch_of(session: aws.Session, described: dict[str, Any], review: Review, root: Path, env: str) -> Watch:
    """The watch of the change set's own rollback triggers, and a line saying what guards this deploy."""
    config = described.get("RollbackConfiguration") or {}
    minutes = int(config.get("MonitoringTimeInMinutes") or 0)
    local = session.target.kind == "local"
    window_s = minutes * 60 * (aws.local_time_scale(root) if local else 1.0)
    # Removed resources go after the window (the cleanup): what it waits for is every resource added or modified.
    watch = Watch(session, config, window_s, expected={c.logical_id for c in review.changes if c.action in ("Add",
                                                                                                            "Modify")})
    if watch.guarded:
        here = f" ({window_s:g} s on the local AWS, whose window its review explains)" if local else ""
        print(f"guarded: CloudFormation rolls this deploy back if {', '.join(watch.names)} goes to ALARM while it "
              f"runs or in the {minutes} min after its last resource{here}", flush=True)
        watch.read()
        for name, state in watch.breached.items():
            print(f"warning: {name} is in ALARM now ({state['reason'] or 'no reason given'}): CloudFormation will roll "
                  "this deploy back as soon as it runs", file=sys.stderr, flush=True)
    else:
        print(f"unguarded: change set {described.get('ChangeSetName')} has no rollback trigger (its review says why); "
              f"nothing rolls {env} back over an alarm", flush=True)
    return watch


def main(args: Namespace) -> int:
    """`blueprint deploy --env E [--allow-replace ID ...]`, holding the environment's stack lock throughout:
    two deploys of one review must not both read the record and execute its change set."""
    root, env, kind = Path(args.root), args.env, args.target
    with lock.env_stack(root, kind, env, "deploy"):
        return _deploy(args, root, env, kind)


def _deploy(args: Namespace, root: Path, env: str, kind: str) -> int:
    record = records.read_record(root, kind, env)
    new_template = check_reviewed(root, env, record, kind)
    # Warned, not refused: what runs is exactly what was reviewed; the spec's news is for a next review.
    warning = spec_warning(root, env, record)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    settings = record.settings
    # With --output json, stdout carries only the outputs' JSON; the progress goes to stderr.
    progress = contextlib.redirect_stdout(sys.stderr) if args.output == "json" else contextlib.nullcontext()
    with progress, aws.translated(kind):
        session = aws.session_for(record.region, kind, root)
        aws.check_account(session, settings.account_id, env)
        cfn = session.client("cloudformation")
        before, described = check_available(cfn, record, env)
        check_template(cfn, described, record, new_template, env)
        old_template = None if record.create else template_of(cfn, before)
        review = review_of(cfn, described, old_template, new_template, session.target.describe(), env)
        check_dangerous(review, args.allow_replace or [], env)
        if settings.termination_protection and not record.create:  # a new stack has nothing to drift
            check_drift(cfn, before, described, review, bool(getattr(args, "accept_drift", False)), env, kind)
        if not record.create:
            protect(cfn, before, settings, session.target.kind)  # before executing: the policy governs this update
        watch = watch_of(session, described, review, root, env)
        print(f"executing change set {record.change_set_name} on {record.stack_name} "
              f"({session.target.describe()}): {record.summary}", flush=True)
        record_file = review_record_path(root, kind, env)
        stack = execute(cfn, record.change_set_id, before["StackId"], env, kind, before,
                        started=lambda: record_file.unlink(missing_ok=True),  # executed: never again
                        create=record.create, watch=watch, timeout_s=stack_timeout_s(watch.minutes))
        if record.create:
            protect(cfn, stack, settings, session.target.kind)  # the new stack's first chance
        print(watch.summary(stack))
        print(f"stack {record.stack_name} is {stack['StackStatus']}")
    show_outputs(root, kind, env, outputs_of(stack), args.output)
    return 0
