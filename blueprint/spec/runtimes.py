"""The Python runtimes the spec offers, derived from data rather than written down: `make docs` puts them in the schema.

Offered: the Python values of the Lambda resource schema's Runtime enum (cfn-lint's copy of the
CloudFormation registry schema), minus those cfn-lint's runtime lifecycle data
(AdditionalSpecs/LmbdRuntimeLifecycle.json) deprecates by today, and minus those the package step
cannot build wheels for (blueprint/ship/package.py, PYTHON_VERSIONS: a function whose dependencies
cannot be packaged cannot be deployed). The default is the newest of them. The result is written
into schema/blueprint.schema.json by `make docs`, because editors read the schema file, and a test
fails when the file is stale (a runtime deprecated since, a new cfn-lint, a new package target).
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from blueprint.cfn import schemas
from blueprint.errors import UserError
from blueprint.spec.pysource import constant

PACKAGE_MODULE, PACKAGE_VERSIONS = "blueprint/ship/package.py", "PYTHON_VERSIONS"
LIFECYCLE = "AdditionalSpecs/LmbdRuntimeLifecycle.json"


def _version(runtime: str) -> tuple[int, ...]:
    return tuple(int(part) for part in runtime.removeprefix("python").split("."))


def aws_python_runtimes(today: date) -> list[str]:
    """Python runtimes AWS Lambda offers and has not deprecated by `today`, oldest first."""
    lambda_schema = schemas.provider_schema("AWS::Lambda::Function")
    data = schemas.cfnlint_data()
    if lambda_schema is None or data is None:
        raise UserError("cfn-lint's data is not installed, and the offered runtimes are read from it: run `make install`")
    lifecycle = json.loads((data / LIFECYCLE).read_text(encoding="utf-8"))
    offered = []
    for runtime in lambda_schema["properties"]["Runtime"]["enum"]:
        deprecated = (lifecycle.get(runtime) or {}).get("deprecated")
        if runtime.startswith("python") and not (deprecated and date.fromisoformat(deprecated) <= today):
            offered.append(runtime)
    return sorted(offered, key=_version)


def buildable() -> list[str]:
    """Runtimes the package step builds wheels for, read from its source (the spec stage never imports ship)."""
    return sorted(constant(PACKAGE_MODULE, PACKAGE_VERSIONS), key=_version)


def runtime_schema(today: date) -> dict[str, Any]:
    """The schema of function.runtime: the offered runtimes, the default, and why in the description."""
    aws = aws_python_runtimes(today)
    built = set(buildable())
    offered = [r for r in aws if r in built]
    if not offered:
        raise UserError(f"no runtime is both offered by AWS ({', '.join(aws)}) and built by {PACKAGE_MODULE}: "
                        "add a target there before `make docs` can offer one")
    default = offered[-1]
    text = (f"Python runtime of the function (default {default}). Offered, as `make docs` generates them: the Python "
            "runtimes in cfn-lint's Lambda schema that its runtime lifecycle data has not deprecated and that the "
            f"package step ({PACKAGE_MODULE}) builds wheels for.")
    left_out = [r for r in aws if r not in built]
    newer = [r for r in left_out if _version(r) > _version(default)]
    if left_out:
        text += f" AWS also offers {' and '.join(left_out)}, which the package step does not build"
        text += f"; so the default is {default}, not {newer[-1]}, the newest AWS offers." if newer else "."
    return {"type": "string", "description": text, "enum": offered, "default": default}


def with_runtimes(schema: dict[str, Any], today: date) -> dict[str, Any]:
    """`schema` with function.runtime generated afresh (a new dict; `schema` is left as it is)."""
    out = json.loads(json.dumps(schema))
    out["properties"]["function"]["properties"]["runtime"] = runtime_schema(today)
    required = out["properties"]["function"]["required"]
    if "runtime" in required:
        required.remove("runtime")  # it has a default
    return out
