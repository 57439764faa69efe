"""`blueprint serve --env E`: the environment's API on 127.0.0.1, as API Gateway serves the rendered template.

The routes, API-key requirements, CORS preflight, gateway responses, throttles, access-log
format and the function's handler, timeout and environment all come from
generated/<env>/template.yaml (blueprint.local.gateway.definition). What this module adds is the
local stack: the API key and table name of what `blueprint deploy --target local` deployed
to the embedded local AWS (or a generated key when nothing is deployed), the handler's
environment pointed at that local AWS, and the server's start and stop.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import string
import sys
import time
from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

from blueprint import state
from blueprint.cfn import loader
from blueprint.errors import UserError
from blueprint.local import process, serve_auth
from blueprint.local.gateway import definition
from blueprint.local.gateway.accesslog import AccessLog
from blueprint.local.gateway.core import ApiKeyInfo, Gateway
from blueprint.local.gateway.httpserver import LocalApiServer
from blueprint.local.gateway.runtime import HandlerLoadError, LambdaRuntime
from blueprint.render import settings as stack_settings

# moto's account: what the local AWS reports for every resource it holds.
LOCAL_ACCOUNT_ID = "123456789012"
# Containers (parallel imports of the handler) at most, below the function's reserved concurrency.
MAX_CONTAINERS = 4
# Never let the developer's own AWS session reach the handler: the local target uses dummy keys.
_SCRUBBED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")
_ID_CHARS = string.ascii_lowercase + string.digits


def _random_id(n: int = 10) -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(n))


@dataclass(frozen=True)
class Deployed:
    """What the local AWS holds for the environment, or the stand-ins when nothing is deployed."""

    api_key: str
    api_key_id: str
    key_source: str  # for people: where the key came from
    table_name: str
    api_id: str
    deployed: bool


def template_path(root: Path, env: str) -> Path:
    return Path(root) / "generated" / env / "template.yaml"


def read_api(root: Path, env: str) -> tuple[dict[str, Any], definition.Api]:
    """The parsed template and its served API; UserError naming the file when it cannot be served."""
    path = template_path(root, env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path} does not exist: run `make render` (or `blueprint render --env {env}`) first") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = loader.loads(text)
        return doc, definition.load(doc)
    except (loader.TemplateError, definition.ModelError) as exc:
        raise UserError(f"{path}: {exc}") from None


def _physical_name(doc: dict[str, Any], logical_id: str) -> str | None:
    resource = (doc.get("Resources") or {}).get(logical_id) or {}
    props = resource.get("Properties") or {}
    for key in ("TableName", "QueueName", "FunctionName", "BucketName", "TopicName", "Name"):
        if isinstance(props.get(key), str):
            return props[key]
    return None


def function_environment(doc: dict[str, Any], function: definition.Function, table_logical_id: str,
                         table_name: str) -> dict[str, str]:
    """The function's Environment.Variables with references resolved to the local stack's names."""
    resolved: dict[str, str] = {}
    for name, value in function.environment.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            resolved[name] = str(value)
            continue
        ref = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
        if ref == table_logical_id:
            resolved[name] = table_name
        elif isinstance(ref, str) and _physical_name(doc, ref):
            resolved[name] = _physical_name(doc, ref)  # type: ignore[assignment]
        else:
            raise UserError(f"{function.logical_id}: environment variable {name} is {value!r}, which the local "
                            f"API cannot resolve (a plain value or !Ref of a named resource is needed)")
    return resolved


def handler_environ(variables: dict[str, str], *, endpoint: str, region: str, function_name: str,
                    memory_mb: int) -> dict[str, str | None]:
    """The process environment the handler sees: the template's variables plus what Lambda and the
    local AWS need (its endpoint, dummy credentials, no X-Ray daemon)."""
    creds = process.client_kwargs(endpoint)
    unset: dict[str, str | None] = {name: None for name in _SCRUBBED}
    unset.update({name: None for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")})
    return {
        **unset,
        **variables,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _scrub_process_credentials() -> None:
    for name in list(os.environ):
        if name in _SCRUBBED or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]


def _table_logical_id(doc: dict[str, Any]) -> str | None:
    """The logical id of the template's DynamoDB table (R5: the stack has one)."""
    return next((k for k, v in (doc.get("Resources") or {}).items()
                 if isinstance(v, dict) and v.get("Type") == "AWS::DynamoDB::Table"), None)


def _read_outputs(root: Path, env: str) -> dict[str, str] | None:
    """The outputs the last local deploy recorded (a fallback: the local AWS itself is asked first)."""
    path = state.outputs_path(root, "local", env)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def _stack_outputs(endpoint: str, region: str, stack_name: str) -> dict[str, str] | None:
    """The deployed stack's outputs, straight from the local AWS (None when it holds no such stack)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cfn = boto3.client("cloudformation", region_name=region, **process.client_kwargs(endpoint))
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError):
        return None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])} if stacks else None


def find_deployed(root: Path, env: str, doc: dict[str, Any], api: definition.Api, *, endpoint: str | None,
                  region: str, stack_name: str) -> Deployed:
    """The deployed key and table on the local AWS; a generated key and the template's names otherwise.

    The outputs come from the local AWS itself (describe_stacks on its endpoint), so a deploy on
    AWS can never be mistaken for the local one; the local target's outputs.json is the fallback.
    """
    table_id = _table_logical_id(doc)
    template_table = _physical_name(doc, table_id) if table_id else None
    outputs = _stack_outputs(endpoint, region, stack_name) if endpoint else None
    if not (outputs and outputs.get("ApiKeyId")):
        outputs = _read_outputs(root, env)
    if endpoint and outputs and outputs.get("ApiKeyId"):
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            apigw = boto3.client("apigateway", region_name=region, **process.client_kwargs(endpoint))
            key = apigw.get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)
        except (ClientError, BotoCoreError):
            key = None  # outputs of a local AWS that has since restarted (its state is in memory)
        if key and key.get("value"):
            m = re.match(r"https?://([a-z0-9]+)\.execute-api\.", outputs.get("ApiEndpoint", ""))
            return Deployed(api_key=key["value"], api_key_id=key["id"],
                            key_source=f"the deployed API key {key.get('name', key['id'])} ({key['id']})",
                            table_name=outputs.get("TableName") or template_table or "items",
                            api_id=m.group(1) if m else _random_id(), deployed=True)
    fixed = next((k for k in api.api_keys.values() if k.value), None)
    return Deployed(api_key=fixed.value if fixed else secrets.token_urlsafe(30),
                    api_key_id=_random_id(),
                    key_source="the template's ApiKey value" if fixed else "generated for this run (nothing is deployed)",
                    table_name=template_table or "items", api_id=_random_id(), deployed=False)


class LocalApi:
    """A built, not yet started local API: start() in a thread, or serve_forever() in the foreground."""

    def __init__(self, server: LocalApiServer, gateway: Gateway, deployed: Deployed, api: definition.Api, env: str):
        self.server, self.gateway, self.deployed, self.api, self.env = server, gateway, deployed, api, env
        self.url = f"http://{server.host}:{server.port}/{api.stage}"
        self.api_key = deployed.api_key

    def start(self) -> "LocalApi":
        self.server.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.stop()


def build(root: Path, env: str, *, port: int = 0, throttling: bool = True, access_log: TextIO | None = sys.stdout,
          endpoint: str | None = None, region: str | None = None, ensure_local_aws: bool = True,
          api_key: str | None = None, function_log: Any = None,
          clock: Callable[[], float] = time.monotonic) -> LocalApi:
    """Build the local API of an environment. `endpoint` is the local AWS (started when not given);
    `clock` is what the throttle's buckets refill by."""
    root = Path(root)
    doc, api = read_api(root, env)
    settings = stack_settings.read(root, env)
    stack_name = settings.stack_name
    region = region or settings.region
    if endpoint is None and ensure_local_aws:
        endpoint = process.ensure_running(state.state_dir(root))
    deployed = find_deployed(root, env, doc, api, endpoint=endpoint, region=region, stack_name=stack_name)
    if api_key:
        deployed = Deployed(api_key, deployed.api_key_id, "given by the caller", deployed.table_name,
                            deployed.api_id, deployed.deployed)

    runtime = None
    if api.function is not None:
        fn = api.function
        table_id = _table_logical_id(doc) or ""
        name = fn.name or f"{api.name}-{fn.logical_id}"
        environ = handler_environ(function_environment(doc, fn, table_id, deployed.table_name),
                                  endpoint=endpoint or "", region=region, function_name=name, memory_mb=fn.memory_mb)
        if not endpoint:
            environ.pop("AWS_ENDPOINT_URL")
        runtime = LambdaRuntime(
            root / "handler", fn.handler, environ=environ, function_name=name,
            function_arn=f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{name}",
            memory_mb=fn.memory_mb, timeout_s=fn.timeout_s,
            max_containers=min(fn.reserved_concurrency or MAX_CONTAINERS, MAX_CONTAINERS))
        try:
            runtime.warm()
        except HandlerLoadError as exc:
            raise UserError(f"the function's handler does not load: {exc}") from None

    keys = []
    for key in api.api_keys.values():
        if key.enabled:
            keys.append(ApiKeyInfo(value=deployed.api_key, key_id=deployed.api_key_id, logical_id=key.logical_id))
            break  # the one key the stack defines (R5); its value is the deployed one
    pool, why_not = None, None
    if serve_auth.has_cognito_authorizer(doc):  # only then the stack's outputs name its pool
        outputs = (_stack_outputs(endpoint, region, stack_name) if endpoint else None) or _read_outputs(root, env)
        pool, why_not = serve_auth.cognito_pool(doc, outputs, endpoint, region)
    if why_not:
        print(f"note: {why_not}", file=sys.stderr)
    gateway = Gateway(api, runtime, keys=keys, api_id=deployed.api_id, account_id=LOCAL_ACCOUNT_ID,
                      access_log=AccessLog(api.access_log_format, access_log), throttling=throttling,
                      function_log=function_log, cognito=pool, clock=clock,
                      credentials=serve_auth.local_credentials(region, LOCAL_ACCOUNT_ID))
    try:
        server = LocalApiServer(gateway, "127.0.0.1", port)
    except OSError as exc:
        raise UserError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; pick another with --port") from None
    return LocalApi(server, gateway, deployed, api, env)


def describe(local_api: LocalApi, endpoint: str | None, access_log_name: str) -> str:
    """The start-up banner: where, which key, which limits."""
    api, d = local_api.api, local_api.deployed
    routes = [f"{verb} {path}" for path, verbs in sorted(api.methods.items()) for verb in sorted(verbs)]
    lines = [f"local API of {api.name} (stage {api.stage}) at {local_api.url}",
             f"  routes: {', '.join(routes)}",
             f"  x-api-key: {d.api_key}   <- {d.key_source}"]
    for plan in api.usage_plans:
        if plan.throttle:
            lines.append(f"  usage plan {plan.name}: {plan.throttle.rate_limit:g} req/s, burst {plan.throttle.burst_limit} per key"
                         + (f", quota {plan.quota.limit}/{plan.quota.period}" if plan.quota else ""))
    stage_limit = api.method_throttle("/*", "*")
    if stage_limit:
        lines.append(f"  stage {api.stage}: {stage_limit.rate_limit:g} req/s, burst {stage_limit.burst_limit} per method")
    if not local_api.gateway.throttling:
        lines.append("  throttling: OFF")
    if api.function:
        lines.append(f"  function: handler/{api.function.handler.replace('.', '.py:', 1)} in-process, "
                     f"TABLE={d.table_name}, local AWS {endpoint or '(none)'}")
    if not d.deployed:
        lines.append(f"  note: nothing is deployed for this environment on the local AWS, so item calls will fail; "
                     f"run `make changeset deploy ENV={local_api.env} TARGET=local` (or `make demo`)")
    lines.append(f"  access log: {access_log_name}; Ctrl-C stops")
    return "\n".join(lines)


def main(args: Namespace) -> int:
    """`blueprint serve --env E [--port N] [--no-throttle] [--access-log FILE] [--api-key VALUE]`."""
    if args.target != "local":
        raise UserError("`blueprint serve` serves against the local AWS only (--target local); "
                        "the deployed API on AWS is at the ApiEndpoint output (`blueprint outputs --env ...`)")
    root = args.root
    read_api(root, args.env)  # a missing or unservable template is reported before anything starts
    log_path = args.access_log
    stream: TextIO = sys.stdout
    if log_path:
        try:
            stream = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's lifetime
        except OSError as exc:
            raise UserError(f"cannot open the access log {log_path}: {exc.strerror}") from None
    endpoint = process.ensure_running(state.state_dir(root))
    local_api = build(root, args.env, port=args.port, throttling=not args.no_throttle,
                      access_log=stream, endpoint=endpoint, api_key=args.api_key)
    if local_api.gateway.runtime is not None:
        # This process is the function's, as in Lambda: code that reads os.environ per call sees it too.
        _scrub_process_credentials()
        os.environ.update({k: v for k, v in local_api.gateway.runtime.environ.items() if v is not None})
    print(describe(local_api, endpoint, str(log_path) if log_path else "stdout"), flush=True)
    try:
        local_api.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    finally:
        local_api.stop()  # not started in a thread: just closes the socket
        if stream is not sys.stdout:
            stream.close()
    return 0

