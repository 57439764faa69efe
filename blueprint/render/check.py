"""Parse rendered text back and check what a typo in a template would break, before anything is written."""
from __future__ import annotations

from typing import Any, Iterable

from blueprint.cfn import loader, refs
from blueprint.errors import UserError

TEMPLATE_S3_LIMIT = 1_000_000  # CloudFormation's largest template, even through S3
RESOURCES_LIMIT, OUTPUTS_LIMIT = 500, 200  # CloudFormation's per-template quotas (the spec's rules keep to them)


def check(text: str, name: str) -> dict[str, Any]:
    """The parsed template; UserError naming the file when it is not valid YAML or refers to nothing."""
    try:
        template = loader.loads(text)
    except loader.TemplateError as exc:
        raise UserError(f"{name}: the rendered template is not valid YAML: {exc} (a bug in templates/)") from None
    problems = list(_reference_problems(template))
    if len(text.encode()) > TEMPLATE_S3_LIMIT:
        problems.append(f"template is {len(text.encode())} bytes, over CloudFormation's {TEMPLATE_S3_LIMIT}")
    for section, limit in (("Resources", RESOURCES_LIMIT), ("Outputs", OUTPUTS_LIMIT)):
        if isinstance(template.get(section), dict) and len(template[section]) > limit:
            problems.append(f"{len(template[section])} {section.lower()}, over CloudFormation's {limit}")
    if problems:
        raise UserError(f"{name}: " + "; ".join(problems) + " (a bug in templates/)")
    return template


def _reference_problems(template: dict[str, Any]) -> Iterable[str]:
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        yield "no Resources"
        return
    known = set(resources) | set(template.get("Parameters", {})) | refs.PSEUDO_PARAMETERS
    for lid, res in resources.items():
        if not isinstance(res, dict) or "Type" not in res:
            yield f"resource {lid} has no Type"
            continue
        for dep in refs.depends_on(res):
            if dep not in resources:
                yield f"{lid} DependsOn unknown {dep}"
    for ref in refs.references(template):
        if ref not in known:
            yield f"reference to unknown {ref}"
