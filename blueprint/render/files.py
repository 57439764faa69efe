"""Where rendered files live in the project (generated/<env>/...), writing them, and finding stale ones."""
from __future__ import annotations

from pathlib import Path

GENERATED = "generated"
BOOTSTRAP = "bootstrap"
ACCOUNT = "account"  # the account stack of GitHub's OIDC provider and the CI roles (blueprint.rollout.ci)


def template_file(env: str) -> str:
    """generated/<env>/template.yaml (env "bootstrap" is the account's bootstrap stack)."""
    return f"{GENERATED}/{env}/template.yaml"


def settings_file(env: str) -> str:
    return f"{GENERATED}/{env}/stack.json"


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
