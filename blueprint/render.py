"""Render validated specs through the Jinja templates into checked CloudFormation text.

Every value reaches the YAML through a quoting filter (`q`), and the renderer refuses to
emit any string that did not pass through one, so no spec value can change the template's
structure. The output is parsed back and its references checked before anything is written.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import jinja2

from blueprint import cfnyaml
from blueprint.errors import UserError
from blueprint.model import Spec, path_name, path_prefixes

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
GENERATED = "generated"
BOOTSTRAP = "bootstrap"
BOOTSTRAP_STACK = "blueprint-bootstrap"
TEMPLATE_BODY_LIMIT = 51_200  # above this, CloudFormation wants the template through S3 (G6)
TEMPLATE_S3_LIMIT = 1_000_000
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName",
          "AWS::StackId", "AWS::NoValue", "AWS::NotificationARNs"}


_READABLE_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}  # reviewers read these in pull requests


class Quoted(str):
    """Text that is safe to place in the YAML as it is."""


def quote(value: Any) -> Quoted:
    """A YAML double-quoted, ASCII-only scalar equal to `str(value)`, whatever characters it holds."""
    out = []
    for ch in str(value):
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in _READABLE_ESCAPES:
            out.append(_READABLE_ESCAPES[ch])
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return Quoted('"' + "".join(out) + '"')


def logical_id(value: str) -> Quoted:
    """A CloudFormation logical id: letters and digits only, checked here rather than trusted."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,254}", value):
        raise UserError(f"internal: {value!r} is not a valid logical id")
    return Quoted(value)


def tag_list(tags: Iterable[tuple[str, str]], indent: int) -> Quoted:
    """A YAML list of {Key, Value} maps, each value quoted."""
    pad = " " * indent
    return Quoted("\n".join(f"{pad}- Key: {quote(k)}\n{pad}  Value: {quote(v)}" for k, v in tags))


def checkov_skip(checks: Iterable[tuple[str, str]], indent: int) -> Quoted:
    """A resource's Metadata that skips checkov checks, each with its written reason."""
    pad = " " * indent
    lines = [f"{pad}Metadata:", f"{pad}  checkov:", f"{pad}    skip:"]
    for check_id, reason in checks:
        lines += [f"{pad}      - id: {quote(check_id)}", f"{pad}        comment: {quote(reason)}"]
    return Quoted("\n".join(lines))


def _finalize(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Quoted)):
        return value
    raise UserError(f"internal: template emitted {value!r} without the `q` filter")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["q"] = quote
    env.filters["id"] = logical_id
    env.globals["tag_list"] = tag_list
    env.globals["skip"] = checkov_skip
    env.filters["json"] = lambda v: quote(json.dumps(v, sort_keys=True, separators=(",", ":")))
    return env


# --- what the templates are given ----------------------------------------------------------------

@dataclass(frozen=True)
class ApiResource:
    """One path segment of the REST API as an AWS::ApiGateway::Resource, with its methods."""

    path: str
    part: str
    logical_id: str
    parent: str | None  # logical id of the parent resource; None under the API's root
    methods: tuple[tuple[str, str], ...]  # (HTTP method, logical id of its AWS::ApiGateway::Method)
    preflight_id: str  # logical id of its OPTIONS method, when it has methods
    path_params: tuple[str, ...]


def api_resources(spec: Spec) -> list[ApiResource]:
    """Every resource of the API, parents first, including intermediate path segments."""
    methods: dict[str, tuple[str, ...]] = {}
    for route in spec.api.routes:
        methods[route.path] = route.methods
        for prefix in path_prefixes(route.path)[:-1]:
            methods.setdefault(prefix, ())
    out = []
    for path in sorted(methods, key=lambda p: (p.count("/"), p)):
        parts = path.strip("/").split("/")
        name = path_name(path)
        out.append(ApiResource(
            path=path, part=parts[-1], logical_id=f"Resource{name}",
            parent=f"Resource{path_name(path.rsplit('/', 1)[0])}" if len(parts) > 1 else None,
            methods=tuple((m, f"Method{name}{m.capitalize()}") for m in methods[path]),
            preflight_id=f"Preflight{name}",
            path_params=tuple(p[1:-1] for p in parts if p.startswith("{")),
        ))
    return out


# One JSON object per request in the access-log group (R11); `blueprint serve` writes the same.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "apiKeyId": "$context.identity.apiKeyId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "latency": "$context.responseLatency",
    "errorType": "$context.error.responseType",
    "xrayTraceId": "$context.xrayTraceId",
}


def gateway_origin(spec: Spec) -> str:
    """The Access-Control-Allow-Origin of the gateway's own answers (403, 429, 5XX; G1).

    A gateway response cannot choose among origins, and echoing the request's Origin would
    hand any site what the preflight and the handler refuse it. So it names the first allowed
    origin: list the main application first.
    """
    return f"'{spec.api.cors.allow_origins[0]}'"


def names(spec: Spec) -> dict[str, str]:
    """The physical names of the stack: each carries the service and the environment (R14)."""
    prefix = f"{spec.service}-{spec.env}"
    return {
        "prefix": prefix,
        "table": f"{prefix}-items",
        "function": f"{prefix}-api",
        "dlq": f"{prefix}-dlq",
        "api": prefix,
        "api_key": f"{prefix}-key",
        "usage_plan": f"{prefix}-plan",
        "key_alias": f"alias/{prefix}",
        "function_logs": f"/aws/lambda/{prefix}-api",
        "access_logs": f"/aws/apigateway/{prefix}/access",
        "flow_logs": f"/aws/vpc/{prefix}/flow-logs",
        "waf_logs": f"aws-waf-logs-{prefix}",
        "web_acl": f"{prefix}-acl",
    }


def subnets(spec: Spec) -> list[str]:
    """One private subnet CIDR per AZ: the VPC split in sixteen, the first `az_count` of them."""
    vpc = ipaddress.IPv4Network(spec.network.vpc_cidr)
    return [str(s) for s in list(vpc.subnets(prefixlen_diff=4))[: spec.network.az_count]]


def stack_settings(spec: Spec) -> dict[str, Any]:
    """What the deploy step needs beside the template, rendered for review with it."""
    policy = None
    if spec.protected:
        policy = {"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"],
             "Resource": "LogicalResourceId/Table"},
        ]}
    return {
        "stack_name": spec.stack_name,
        "region": spec.region,
        "account_id": spec.account_id,
        "tags": dict(spec.all_tags),
        "termination_protection": spec.protected,
        "stack_policy": policy,
        "bootstrap_stack": BOOTSTRAP_STACK,
        "function": {"runtime": spec.function.runtime, "architecture": spec.function.architecture},
        "parameters": {"ArtifactBucket": "from the bootstrap stack's output ArtifactBucketName",
                       "CodeKey": "the handler package's S3 key, named by its SHA-256"},
    }


# --- rendering -----------------------------------------------------------------------------------

def header(sources: Iterable[str]) -> str:
    return (f"# Generated by blueprint from {' + '.join(sources)}. Do not edit: change the spec and run `make render`.\n")


def render_environment(spec: Spec) -> str:
    """The CloudFormation template of one environment, checked."""
    env = environment()
    context: dict[str, Any] = {
        "spec": spec, "names": names(spec), "subnets": subnets(spec),
        "resources": api_resources(spec), "tags": spec.all_tags,
        "stack_retain": "Retain" if spec.protected else "Delete",
        "table_retain": "Retain" if spec.table.retain_on_delete else "Delete",
        "cors_condition": " || ".join(f'$origin == {json.dumps(o)}' for o in spec.api.cors.allow_origins),
        "gateway_origin": gateway_origin(spec),
        "access_log_format": ACCESS_LOG_FORMAT,
    }
    # G4: the Deployment's logical id carries a hash of the API definition, so any change to
    # the API's resources, methods or gateway responses creates a new deployment. Tags are
    # left out of the hash: they change no deployed behaviour.
    api_template = env.get_template("api.yaml.j2")
    api_definition = api_template.render(context)
    untagged = api_template.render({**context, "tags": ()})
    context["deployment_id"] = "Deployment" + hashlib.sha256(untagged.encode()).hexdigest()[:10]
    context["api_definition"] = Quoted(api_definition)
    context["header"] = Quoted(header(spec.files))
    text = env.get_template("stack.yaml.j2").render(context)
    check(text, f"{GENERATED}/{spec.env}/template.yaml")
    return text


def render_bootstrap() -> str:
    text = environment().get_template("bootstrap.yaml.j2").render(
        header=Quoted(header(["templates/bootstrap.yaml.j2"])))
    check(text, f"{GENERATED}/{BOOTSTRAP}/template.yaml")
    return text


def render_all(root: Path, specs: list[Spec]) -> dict[str, str]:
    """Every generated file (relative path -> text) for these environments and the bootstrap stack."""
    out: dict[str, str] = {f"{GENERATED}/{BOOTSTRAP}/template.yaml": render_bootstrap()}
    for spec in specs:
        out[f"{GENERATED}/{spec.env}/template.yaml"] = render_environment(spec)
        out[f"{GENERATED}/{spec.env}/stack.json"] = json.dumps(stack_settings(spec), indent=2, sort_keys=True) + "\n"
    return out


def check(text: str, name: str) -> dict[str, Any]:
    """Parse the rendered text back and check what a typo in a template would break."""
    try:
        template = cfnyaml.loads(text)
    except cfnyaml.TemplateError as exc:
        raise UserError(f"{name}: the rendered template is not valid YAML: {exc} (a bug in templates/)") from None
    problems = list(_reference_problems(template))
    if len(text.encode()) > TEMPLATE_S3_LIMIT:
        problems.append(f"template is {len(text.encode())} bytes, over CloudFormation's {TEMPLATE_S3_LIMIT}")
    if problems:
        raise UserError(f"{name}: " + "; ".join(problems) + " (a bug in templates/)")
    return template


def _reference_problems(template: dict[str, Any]) -> Iterable[str]:
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        yield "no Resources"
        return
    known = set(resources) | set(template.get("Parameters", {})) | PSEUDO
    for lid, res in resources.items():
        if not isinstance(res, dict) or "Type" not in res:
            yield f"resource {lid} has no Type"
            continue
        depends = res.get("DependsOn", [])
        for dep in [depends] if isinstance(depends, str) else depends:
            if dep not in resources:
                yield f"{lid} DependsOn unknown {dep}"
    for ref in _refs(template):
        if ref not in known:
            yield f"reference to unknown {ref}"


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt" and isinstance(value, list) and value:
                yield value[0]
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                local = set(value[1]) if isinstance(value, list) and len(value) > 1 else set()
                for var in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    name = var.split(".", 1)[0]
                    if name not in local:
                        yield name
                if isinstance(value, list) and len(value) > 1:
                    yield from _refs(value[1])
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


# --- files ---------------------------------------------------------------------------------------

def write(root: Path, outputs: dict[str, str]) -> int:
    """Write the files that changed; returns how many did."""
    changed = 0
    for rel, text in outputs.items():
        path = root / rel
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed += 1
    return changed


def stale_files(root: Path, outputs: dict[str, str], every_env: bool = False) -> list[str]:
    """Generated files that differ from `outputs`, are missing, or are extra in a rendered folder.

    With `every_env` (all environments were rendered), a folder of a removed environment is stale too.
    """
    stale = [rel for rel, text in outputs.items()
             if not (root / rel).exists() or (root / rel).read_text(encoding="utf-8") != text]
    rendered = {Path(rel).parent.name for rel in outputs}
    for path in sorted((root / GENERATED).glob("*/*")):
        rel = path.relative_to(root).as_posix()
        if rel not in outputs and (every_env or path.parent.name in rendered):
            stale.append(rel)
    return stale
