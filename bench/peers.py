"""blueprint's peers, run as their users run them, on the same work against one local AWS.

Each peer is a fresh process from its own venv (pinned in requirements/<tool>.txt, installed on
first use), pointed at the endpoint through AWS_ENDPOINT_URL with dummy credentials, given the same
template (generated/<env>/template.yaml of a scratch copy) and the same package (the handler zip
blueprint uploaded: ArtifactBucket + CodeKey):

  - awscli:   `aws cloudformation deploy`            (.venv-awscli, requirements/awscli.txt)
  - sam:      `sam deploy` of the plain template     (.venv-sam, requirements/sam.txt)
  - sceptre:  `sceptre launch --yes` of a stack config written for the template, and
              `sceptre generate` of it for the render comparison (.venv-sceptre, requirements/sceptre.txt)

Every deploy function is called the same way for create (a new stack name), update (the template
edited: set_read_capacity) and no-op (the same template again), and returns a PeerRun(seconds,
code, tail): wall time of the process, its exit code, the end of its stdout+stderr. stack_state()
reads back what the peer did (boto3 against the endpoint). Nothing here times the local AWS itself.

  python bench/peers.py --check    # scratch project, own local AWS, each peer once per operation

See bench/README.md, "Peers", for the versions and what each peer does differently.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
TAIL_CHARS = 1500
RUN_TIMEOUT_S = 120.0

# tool -> (venv folder, requirements file, executable in the venv's bin/)
TOOLS = {
    "awscli": (".venv-awscli", "requirements/awscli.txt", "aws"),
    "sam": (".venv-sam", "requirements/sam.txt", "sam"),
    "sceptre": (".venv-sceptre", "requirements/sceptre.txt", "sceptre"),
}
# Any stray HTTP(S) call a peer makes (version checks, telemetry, a missed endpoint) goes to this
# closed loopback port and fails at once instead of leaving the machine; the endpoint is exempt.
BLACKHOLE_PROXY = "http://127.0.0.1:9"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class PeerRun(NamedTuple):
    """One peer process: wall seconds, exit code (124 when it timed out), end of stdout+stderr."""
    seconds: float
    code: int
    tail: str


# --- venvs --------------------------------------------------------------------------------------
def tool_path(tool: str, root: Path = ROOT) -> Path:
    venv, _, exe = TOOLS[tool]
    return root / venv / "bin" / exe


def ensure_tool(tool: str, root: Path = ROOT) -> Path:
    """The tool's executable, (re)installing its venv from its pinned requirements when missing or stale."""
    venv_name, req_name, _ = TOOLS[tool]
    venv, req = root / venv_name, root / req_name
    stamp = venv / ".installed"
    exe = tool_path(tool, root)
    if exe.is_file() and stamp.is_file() and stamp.stat().st_mtime >= req.stat().st_mtime:
        return exe
    print(f"installing {tool} into {venv_name} from {req_name} ...", flush=True)
    if not (venv / "bin" / "python").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-r", str(req)], check=True)
    stamp.touch()
    return exe


# --- the environment every peer process gets ------------------------------------------------------
def _check_loopback(endpoint: str) -> None:
    host = re.sub(r"^https?://", "", endpoint).split("/")[0].rsplit(":", 1)[0]
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing endpoint {endpoint}: the peers talk to a local AWS on loopback only")


def peers_dir(root: Path) -> Path:
    """Where the peers' files live inside the scratch project: <root>/.peers/ (config, HOME, per-tool dirs)."""
    return Path(root) / ".peers"


def peer_env(root: Path, endpoint: str, region: str) -> dict[str, str]:
    """os.environ without any AWS/SAM/proxy setting, plus the local AWS, dummy credentials and guards."""
    _check_loopback(endpoint)
    base = peers_dir(root)
    home = base / "home"
    home.mkdir(parents=True, exist_ok=True)
    config = base / "aws-config"
    # Path-style S3 addressing: botocore would otherwise address a bucket on a named host
    # (http://localhost:PORT, see sam_deploy) as <bucket>.localhost, which does not resolve.
    config.write_text(f"[default]\nregion = {region}\ns3 =\n    addressing_style = path\n")
    credentials = base / "aws-credentials"
    credentials.write_text("")
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("AWS_", "SAM_", "__SAM_")) and "PROXY" not in k.upper()}
    env.update({
        "HOME": str(home),  # nothing a peer caches or configures lands in the real home
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
        "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "",
        "HTTP_PROXY": BLACKHOLE_PROXY, "HTTPS_PROXY": BLACKHOLE_PROXY,
        "http_proxy": BLACKHOLE_PROXY, "https_proxy": BLACKHOLE_PROXY,
        "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
    })
    return env


def _run(cmd: list[str], env: Mapping[str, str], cwd: Path, timeout: float) -> PeerRun:
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
        code, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        code, out = 124, out + f"\n[timed out after {timeout:.0f} s]"
    return PeerRun(time.perf_counter() - start, code, out[-TAIL_CHARS:])


def _pairs(values: Mapping[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in values.items()]


# --- the peers ------------------------------------------------------------------------------------
def awscli_deploy(root: Path, endpoint: str, region: str, stack: str, template: Path,
                  params: Mapping[str, str], tags: Mapping[str, str] | None = None,
                  timeout: float = RUN_TIMEOUT_S) -> PeerRun:
    """`aws cloudformation deploy`: CreateChangeSet with the template body, wait, execute, wait."""
    cwd = peers_dir(root) / "awscli"
    cwd.mkdir(parents=True, exist_ok=True)
    cmd = [str(ensure_tool("awscli")), "cloudformation", "deploy", "--template-file", str(template),
           "--stack-name", stack, "--capabilities", "CAPABILITY_IAM", "--no-fail-on-empty-changeset",
           "--parameter-overrides", *_pairs(params)]
    if tags:
        cmd += ["--tags", *_pairs(tags)]
    return _run(cmd, peer_env(root, endpoint, region), cwd, timeout)


def sam_endpoint(endpoint: str) -> str:
    """The endpoint as sam must be given it: host `localhost` instead of 127.0.0.1 (same server).

    sam uploads the template and passes CloudFormation TemplateURL = <its S3 endpoint>/<bucket>/<key>;
    moto reads a path-style TemplateURL only when the URL contains `localhost` (for 127.0.0.1 it
    takes "127" for a virtual-hosted bucket name: NoSuchBucket).
    """
    return endpoint.replace("://127.0.0.1", "://localhost", 1)


def _sam_app_dir(root: Path) -> Path:
    """sam's global config folder (__SAM_CLI_APP_DIR): telemetry off, version check just done."""
    app = peers_dir(root) / "sam" / "app-dir"
    app.mkdir(parents=True, exist_ok=True)
    (app / "metadata.json").write_text(json.dumps({"telemetryEnabled": False, "lastVersionCheck": time.time()}))
    return app


def sam_deploy(root: Path, endpoint: str, region: str, stack: str, template: Path,
               params: Mapping[str, str], tags: Mapping[str, str] | None = None,
               timeout: float = RUN_TIMEOUT_S) -> PeerRun:
    """`sam deploy` of the plain template: upload it to S3, CreateChangeSet(TemplateURL), execute, wait."""
    cwd = peers_dir(root) / "sam" / "work"  # no samconfig.toml, no .aws-sam/build here: flags only
    cwd.mkdir(parents=True, exist_ok=True)
    env = peer_env(root, sam_endpoint(endpoint), region)
    env.update({"SAM_CLI_TELEMETRY": "0", "__SAM_CLI_APP_DIR": str(_sam_app_dir(root))})
    cmd = [str(ensure_tool("sam")), "deploy", "--template-file", str(template), "--stack-name", stack,
           "--region", region, "--s3-bucket", params["ArtifactBucket"], "--s3-prefix", f"sam/{stack}",
           "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset", "--no-fail-on-empty-changeset",
           "--no-progressbar", "--parameter-overrides", *_pairs(params)]
    if tags:
        cmd += ["--tags", *_pairs(tags)]
    return _run(cmd, env, cwd, timeout)


def sceptre_project(root: Path, region: str, stack: str, template: Path, params: Mapping[str, str],
                    tags: Mapping[str, str] | None = None, jinja: bool = False) -> tuple[Path, str]:
    """Write a Sceptre project for one stack: config/config.yaml, config/<stack>.yaml, templates/.

    The template is copied into templates/ (the file handler reads paths relative to it); with
    jinja=True it is named <stack>.yaml.j2, so the handler renders it through Jinja first.
    Returns (the project folder for --dir, the stack's config path for the command).
    """
    project = peers_dir(root) / "sceptre"
    (project / "config").mkdir(parents=True, exist_ok=True)
    (project / "templates").mkdir(parents=True, exist_ok=True)
    name = f"{stack}.yaml.j2" if jinja else f"{stack}.yaml"
    shutil.copyfile(template, project / "templates" / name)
    (project / "config" / "config.yaml").write_text(f"project_code: blueprint-peers\nregion: {region}\n")
    config = {"stack_name": stack, "template": {"type": "file", "path": name}, "parameters": dict(params)}
    if tags:
        config["stack_tags"] = dict(tags)
    path = f"{stack}-j2.yaml" if jinja else f"{stack}.yaml"
    # JSON is YAML: no YAML library needed in the caller's venv.
    (project / "config" / path).write_text(json.dumps(config, indent=2) + "\n")
    return project, path


def sceptre_launch(root: Path, endpoint: str, region: str, stack: str, template: Path,
                   params: Mapping[str, str], tags: Mapping[str, str] | None = None,
                   timeout: float = RUN_TIMEOUT_S) -> PeerRun:
    """`sceptre launch --yes`: CreateStack / UpdateStack directly (no change set), poll every 4 s."""
    project, config = sceptre_project(root, region, stack, template, params, tags)
    cmd = [str(ensure_tool("sceptre")), "--dir", str(project), "--no-colour", "launch", "--yes", config]
    return _run(cmd, peer_env(root, endpoint, region), project, timeout)


def sceptre_generate(root: Path, endpoint: str, region: str, stack: str, template: Path,
                     params: Mapping[str, str], tags: Mapping[str, str] | None = None,
                     jinja: bool = False, timeout: float = RUN_TIMEOUT_S) -> PeerRun:
    """`sceptre generate` of the same stack (no AWS call); jinja=True renders it as a .j2 template."""
    project, config = sceptre_project(root, region, stack, template, params, tags, jinja=jinja)
    cmd = [str(ensure_tool("sceptre")), "--dir", str(project), "--no-colour", "generate", config]
    return _run(cmd, peer_env(root, endpoint, region), project, timeout)


Deploy = Callable[..., PeerRun]
PEERS: dict[str, Deploy] = {"awscli": awscli_deploy, "sam": sam_deploy, "sceptre": sceptre_launch}


# --- the work and its read-back -------------------------------------------------------------------
def set_read_capacity(template: Path, units: int) -> None:
    """The update: edit the rendered template's (only) ReadCapacityUnits."""
    text = template.read_text()
    new, count = re.subn(r"(\n\s+ReadCapacityUnits: )\d+\n", rf"\g<1>{units}\n", text)
    if count != 1:
        raise SystemExit(f"{template}: expected one ReadCapacityUnits, found {count}")
    template.write_text(new)


@lru_cache(maxsize=None)
def _clients(endpoint: str, region: str) -> tuple[Any, Any]:
    sys.path.insert(0, str(ROOT))
    import boto3
    from botocore.config import Config

    from blueprint.local import process as local

    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
    kwargs = {**local.client_kwargs(endpoint), "region_name": region, "config": config}
    return boto3.client("cloudformation", **kwargs), boto3.client("dynamodb", **kwargs)


def stack_state(endpoint: str, region: str, stack: str) -> dict[str, Any] | None:
    """What is deployed: status, parameters, event count, the table's read capacity; None: no stack."""
    cfn, ddb = _clients(endpoint, region)
    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    events = sum(len(page["StackEvents"]) for page in
                 cfn.get_paginator("describe_stack_events").paginate(StackName=stack))
    read = None
    try:
        table = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Table")
        name = table["StackResourceDetail"]["PhysicalResourceId"]
        read = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"]
    except cfn.exceptions.ClientError:
        pass
    return {"status": described["StackStatus"], "events": events, "read_capacity": read,
            "parameters": {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])},
            "tags": {t["Key"]: t["Value"] for t in described.get("Tags", [])}}


def delete_stack(endpoint: str, region: str, stack: str, timeout: float = 60.0) -> None:
    """Delete a stack and wait until it is gone (the template's physical names must be free for a create)."""
    cfn, _ = _clients(endpoint, region)
    cfn.delete_stack(StackName=stack)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = stack_state(endpoint, region, stack)
        if state is None or state["status"] == "DELETE_COMPLETE":
            return
        if state["status"] == "DELETE_FAILED":
            raise SystemExit(f"deleting {stack} failed")
        time.sleep(0.2)
    raise SystemExit(f"{stack} was not deleted within {timeout:.0f} s")


# --- the check ------------------------------------------------------------------------------------
CHECK_BUDGET_S = 300.0  # the peer runs of --check stop being started past this


def _blueprint(root: Path, *argv: str, timeout: float = RUN_TIMEOUT_S) -> PeerRun:
    return _run([sys.executable, "-m", "blueprint", "--root", str(root), *argv], os.environ, root, timeout)


def _verify(op: str, before: dict | None, after: dict | None, read: int, params: Mapping[str, str],
            tags: Mapping[str, str]) -> str:
    """'ok' or what is wrong with the stack after the operation."""
    if after is None:
        return "no stack"
    problems = []
    want = {"create": "CREATE_COMPLETE", "update": "UPDATE_COMPLETE"}.get(op, before and before["status"])
    if after["status"] != want:
        problems.append(f"status {after['status']} (want {want})")
    if after["read_capacity"] != read:
        problems.append(f"read capacity {after['read_capacity']} (want {read})")
    if after["parameters"] != dict(params):
        problems.append(f"parameters {after['parameters']}")
    if any(after["tags"].get(k) != v for k, v in tags.items()):
        problems.append(f"tags {after['tags']}")
    if op == "update" and before and after["events"] <= before["events"]:
        problems.append("no new stack events")
    if op == "no-op" and before and after["events"] != before["events"]:
        problems.append(f"{after['events'] - before['events']} new stack events")
    return "; ".join(problems) or "ok"


def check(keep: bool = False) -> int:
    sys.path.insert(0, str(ROOT))
    from blueprint import scratch
    from blueprint.local import process as local
    from blueprint.state import env_state_dir

    for tool in TOOLS:
        ensure_tool(tool)
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    root = scratch.copy_project(ROOT, work / "project")
    state_dir = root / ".blueprint"
    failures: list[str] = []
    try:
        endpoint = local.ensure_running(state_dir)
        _check_loopback(endpoint)
        settings = json.loads((root / "generated" / "dev" / "stack.json").read_text())
        region, tags = settings["region"], settings["tags"]
        template = root / "generated" / "dev" / "template.yaml"

        setup: dict[str, float] = {}
        code_key = None
        for step in ("bootstrap", "changeset", "deploy"):
            run = _blueprint(root, step, "--env", "dev", "--target", "local")
            if run.code != 0:
                raise SystemExit(f"blueprint {step} failed ({run.code}):\n{run.tail}")
            setup[step] = run.seconds
            if step == "changeset":  # deploy consumes the review record: read the package's key now
                code_key = json.loads((env_state_dir(root, "local", "dev") / "changeset.json").read_text())["code_key"]
        cfn, _ = _clients(endpoint, region)
        outputs = cfn.describe_stacks(StackName=settings["bootstrap_stack"])["Stacks"][0]["Outputs"]
        bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ArtifactBucketName")
        params = {"ArtifactBucket": bucket, "CodeKey": code_key}
        print(f"local AWS {endpoint}; package s3://{bucket}/{code_key}")
        print("blueprint setup (reference): " + ", ".join(f"{k} {v:.2f} s" for k, v in setup.items()))

        # Render: blueprint from the spec; sceptre generate of the rendered template, plain and as .j2.
        renders = [("blueprint render --env dev", _blueprint(root, "render", "--env", "dev")),
                   ("sceptre generate (file handler, .yaml)",
                    sceptre_generate(root, endpoint, region, "peers-render", template, params, tags)),
                   ("sceptre generate (Jinja, .yaml.j2)",
                    sceptre_generate(root, endpoint, region, "peers-render", template, params, tags, jinja=True))]
        for name, run in renders:
            if run.code != 0:
                failures.append(f"{name}: exit {run.code}\n{run.tail}")

        # The template's physical names (table, function, log groups, alias) are fixed: one stack at a time.
        delete_stack(endpoint, region, settings["stack_name"])
        original = template.read_text()
        base = int(re.search(r"ReadCapacityUnits: (\d+)", original).group(1))
        suffix = time.strftime("%H%M%S")
        deadline = time.monotonic() + CHECK_BUDGET_S
        rows: list[tuple[str, str, list[tuple[str, PeerRun | None, str]]]] = []
        for peer, deploy in PEERS.items():
            stack = f"peer-{peer}-{suffix}"
            template.write_text(original)
            results: list[tuple[str, PeerRun | None, str]] = []
            for op, read in (("create", base), ("update", base + 1), ("no-op", base + 1)):
                remaining = deadline - time.monotonic()
                if remaining < 5:
                    results.append((op, None, "skipped: check budget spent"))
                    failures.append(f"{peer} {op}: skipped (budget)")
                    continue
                if op == "update":
                    set_read_capacity(template, read)
                before = stack_state(endpoint, region, stack)
                run = deploy(root, endpoint, region, stack, template, params, tags,
                             timeout=min(RUN_TIMEOUT_S, remaining))
                try:
                    verdict = _verify(op, before, stack_state(endpoint, region, stack), read, params, tags)
                except Exception as exc:  # noqa: BLE001 - a broken stack is a finding, not a crash
                    verdict = f"read-back failed: {str(exc).splitlines()[0][:200]}"
                if run.code != 0 and op == "no-op" and "No updates are to be performed" in run.tail:
                    verdict += "; the local AWS refused the empty change set (AWS would create a FAILED one)"
                elif run.code != 0:
                    failures.append(f"{peer} {op}: exit {run.code}\n{run.tail}")
                if not verdict.startswith("ok"):
                    failures.append(f"{peer} {op}: {verdict}")
                results.append((op, run, verdict))
            rows.append((peer, stack, results))
            if stack_state(endpoint, region, stack) is not None:
                delete_stack(endpoint, region, stack)
        template.write_text(original)

        print("\npeers on the local AWS (one run each, wall seconds of a fresh process, exit code):")
        print("| peer | stack | create | update | no-op | read back |\n|---|---|---|---|---|---|")
        for peer, stack, results in rows:
            cells = [f"{r.seconds:.2f} ({r.code})" if r else "-" for _, r, _ in results]
            notes = "; ".join(f"{op}: {v}" for op, _, v in results if v != "ok") or "ok"
            print(f"| {peer} | {stack} | " + " | ".join(cells) + f" | {notes} |")
        print("\nrender (one run each, wall seconds, exit code):")
        print("| command | seconds (exit) |\n|---|---|")
        for name, run in renders:
            print(f"| {name} | {run.seconds:.2f} ({run.code}) |")
        for peer, _, results in rows:
            noop = results[-1][1]
            if noop:
                last = [line for line in noop.tail.strip().splitlines() if line.strip()][-1:]
                print(f"{peer} no-op said: {last[0].strip() if last else '(nothing)'}")
    finally:
        local.stop(state_dir)
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("\nFAILED:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="run each peer once for create, update and no-op on a scratch project's own local AWS")
    parser.add_argument("--keep", action="store_true", help="keep the scratch project (with --check)")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 2
    venv = ROOT / ".venv"
    if Path(sys.prefix).resolve() != venv.resolve():  # blueprint, boto3 and moto live in the project's venv
        if not (venv / "bin" / "python").is_file():
            raise SystemExit("the check runs in the project's venv: `make install` first")
        os.execv(str(venv / "bin" / "python"), [str(venv / "bin" / "python"), str(Path(__file__).resolve()),
                                                *(sys.argv[1:] if argv is None else argv)])
    return check(keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
