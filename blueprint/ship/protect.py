"""A protected environment's stack: the stack policy that refuses replacing the table, and termination protection."""
from __future__ import annotations

import json
import sys
from typing import Any

from blueprint.render.settings import StackSettings


def protect(cfn: Any, stack: dict[str, Any], settings: StackSettings, target_kind: str, out: Any = None) -> None:
    """Set the stack policy and termination protection the settings ask for, where they are missing.

    Idempotent (it sets only what is missing), so it runs before every update (the policy then governs
    that update), after a create, and on a "no changes" review: a deploy stopped before it could
    protect the stack is protected by the next command.
    """
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    out = out or sys.stdout
    policy = settings.stack_policy
    if policy:
        body = cfn.get_stack_policy(StackName=stack["StackId"]).get("StackPolicyBody")
        try:
            current = json.loads(body) if body else None
        except ValueError:
            current = None
        if current != policy:
            cfn.set_stack_policy(StackName=stack["StackId"], StackPolicyBody=json.dumps(policy))
            print("stack policy set (refuses Update:Replace and Update:Delete of the table)", file=out)
    if settings.termination_protection and not stack.get("EnableTerminationProtection"):
        try:
            cfn.update_termination_protection(StackName=stack["StackId"], EnableTerminationProtection=True)
            print("termination protection on", file=out)
        except (bx.ClientError, ResponseParserError):
            if target_kind != "local":
                raise
            # moto 5.2.5 has no UpdateTerminationProtection (it answers HTTP 500).
            print("note: the local AWS has no termination protection; on AWS it is switched on here", file=out)
