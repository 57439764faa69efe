"""Temporary projects with api.auth (or api.domain) on: the committed environments keep it off, so the modes are
rendered from env files written here (dev's settings plus the auth lines)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from blueprint.spec.model import Spec
from blueprint.spec.validate import load_valid
from tests.conftest import ROOT

POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"
CALLER = "arn:aws:iam::123456789012:role/caller"

# The api section of each mode, as an env file writes it (dev's routes, with scopes where a mode has them).
MODES = {
    "cognito": """
api:
  auth:
    mode: cognito
""",
    "scoped": """
api:
  auth:
    mode: cognito
  routes:
    - path: /items
      methods: [GET, POST]
      scopes: [items/read, items/write]
    - path: /items/{id}
      methods: [GET, PUT, DELETE]
      scopes: [items/write]
""",
    "pool": f"""
api:
  auth:
    mode: cognito
    user_pool_arn: "{POOL_ARN}"
  routes:
    - path: /items
      methods: [GET, POST]
      scopes: [openid]
    - path: /items/{{id}}
      methods: [GET, PUT, DELETE]
""",
    "domain": """
api:
  domain:
    name: api.example.com
    hosted_zone_id: Z0123456789ABCDEFGHIJ
""",
    "iam": f"""
api:
  cors:
    allow_headers: [Content-Type, X-Api-Key, Authorization, X-Amz-Date, X-Amz-Security-Token]
  auth:
    mode: iam
    principals: ["{CALLER}", "210987654321"]
""",
}


def project_with(tmp: Path, env: str, extra: str) -> Path:
    """A copy of the project's spec files with envs/<env>.yaml = dev's file plus `extra`."""
    shutil.copy(ROOT / "blueprint.yaml", tmp / "blueprint.yaml")
    shutil.copytree(ROOT / "envs", tmp / "envs")
    (tmp / "envs" / f"{env}.yaml").write_text((ROOT / "envs" / "dev.yaml").read_text() + extra)
    return tmp


def mode_spec(tmp: Path, mode: str) -> Spec:
    """The validated spec of an environment named after the mode (`iam`, `cognito`, ...)."""
    return load_valid(project_with(tmp, mode, MODES[mode]), [mode])[0]


def every_template(tmp_path_factory) -> dict[str, dict]:
    """Every service template a spec can make, parsed: the committed environments' and one per mode of MODES."""
    from blueprint.cfn import loader
    from blueprint.render.templates import render_environment

    docs = {env: loader.loads((ROOT / "generated" / env / "template.yaml").read_text())
            for env in ("dev", "staging", "prod")}
    for mode in MODES:
        docs[mode] = loader.loads(render_environment(mode_spec(tmp_path_factory.mktemp(mode), mode)))
    return docs


def gate_findings(text: str, tmp: Path) -> str:
    """What cfn-lint (with lint/rules) and checkov report on a template ("" when both pass), as `make lint` runs them."""
    path = tmp / "template.yaml"
    path.write_text(text)
    commands = [[str(ROOT / ".venv" / "bin" / "cfn-lint"), str(path), "--append-rules", str(ROOT / "lint" / "rules")]]
    checkov = ROOT / ".venv-tools" / "bin" / "checkov"
    if checkov.exists():  # installed by `make install`; without it only cfn-lint runs
        commands.append([str(checkov), "-f", str(path), "--framework", "cloudformation", "--skip-download",
                         "--compact", "--quiet"])
    out = ""
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            out += result.stdout + result.stderr
    return out
