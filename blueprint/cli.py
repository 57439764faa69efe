"""The command line: parse arguments, call one module's entry point, turn failures into exit codes.

Each command is `module:function(args) -> int`, imported only when that command runs, so
`blueprint render` never pays for boto3 or moto.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from blueprint.errors import DeployFailed, UserError

# command -> (module, function). Modules are imported lazily: start-up time is a feature.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("blueprint.rollout.definition", "validate_main"),  # the spec, then rollout.yaml
    "render": ("blueprint.render.command", "main"),
    "docs": ("blueprint.spec.docs", "main"),
    "package": ("blueprint.ship.package", "main"),
    "bootstrap": ("blueprint.rollout.stackset", "bootstrap_main"),  # --stackset, else blueprint.ship.bootstrap
    "plan": ("blueprint.ship.plan", "main"),
    "changeset": ("blueprint.ship.markdown", "changeset_main"),  # --output markdown, else blueprint.ship.changeset
    "deploy": ("blueprint.ship.deploy", "main"),
    "drift": ("blueprint.ship.drift", "main"),
    "status": ("blueprint.ship.stack_commands", "status_main"),
    "outputs": ("blueprint.ship.stack_commands", "outputs_main"),
    "destroy": ("blueprint.ship.stack_commands", "destroy_main"),
    "rollout": ("blueprint.rollout.command", "main"),
    "ci": ("blueprint.rollout.ci", "main"),
    "local": ("blueprint.local.process", "main"),
    "serve": ("blueprint.local.serve", "main"),
}


def _env_name(text: str) -> str:
    """An environment's name for argparse, checked before any command builds a path from it (exit 2)."""
    from blueprint.spec.load import check_env_name  # the one name rule; loaded only by commands taking --env

    try:
        return check_env_name(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _env_option(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--env", "-e", required=required, action="append" if not required else "store", type=_env_name,
                   help="environment name (a file envs/<env>.yaml)" + ("" if required else "; repeat for several, default all"))


def _target_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", choices=["aws", "local"], default="aws",
                   help="aws: the standard credential chain and the spec's region; local: the embedded local AWS (moto server on 127.0.0.1)")


def _port(text: str) -> int:
    """A TCP port for argparse: 0 (any free one) to 65535; anything else is a usage error (exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0 to 65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="blueprint", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."),
                        help="project folder holding blueprint.yaml (default: the current folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="check the merged spec of each environment, and rollout.yaml; exit 2 on "
                                        "any problem")
    _env_option(p, required=False)

    p = sub.add_parser("render", help="render generated/<env>/ (and generated/bootstrap/)")
    _env_option(p, required=False)
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when generated/ differs from a fresh render")

    p = sub.add_parser("docs", help="print the spec reference (Markdown) generated from the schema")
    p.add_argument("--write", action="store_true",
                   help="write it into README.md and regenerate schema/blueprint.override.schema.json")

    p = sub.add_parser("package", help="build the handler zip for an environment's runtime and architecture")
    _env_option(p, required=True)

    for name, text in [
        ("bootstrap", "deploy the per-account, per-region bootstrap stack (artifacts bucket, API Gateway logging "
                      "role, the stack roles' permissions boundary)"),
        ("plan", "offline diff of the rendered template against the deployed one, with replacement prediction"),
        ("changeset", "upload the package and template, create a change set and print its review"),
        ("deploy", "execute the reviewed change set, stream events, print outputs"),
        ("drift", "detect drift: the stack's resources against its template; exit 0 in sync, 1 drifted"),
        ("status", "show the stack's status and last events"),
        ("outputs", "print the stack's outputs"),
        ("destroy", "delete a non-production stack"),
    ]:
        p = sub.add_parser(name, help=text)
        _env_option(p, required=True)
        _target_option(p)
        outputs = ["text", "json", "markdown"] if name == "changeset" else ["text", "json"]
        p.add_argument("--output", choices=outputs, default="text",
                       help="text for people, json for CI" + (", markdown for a pull request's comment"
                                                              if name == "changeset" else ""))
        if name in ("deploy", "bootstrap"):
            p.add_argument("--allow-replace", action="append", default=[], metavar="LOGICAL_ID",
                           help="allow replacing or removing this stateful resource (repeatable)")
        if name == "bootstrap":
            p.add_argument("--stackset", action="store_true",
                           help="deploy the bootstrap stack to AWS Organizations units as a service-managed StackSet "
                                "(run in the management account, or a delegated administrator's)")
            p.add_argument("--ou", action="append", metavar="OU_ID", help="with --stackset: an organizational unit "
                                                                             "(repeatable)")
            p.add_argument("--region", action="append", metavar="REGION",
                           help="with --stackset: a region of the stack instances (repeatable; default the spec's)")
            p.add_argument("--delegated-admin", action="store_true",
                           help="with --stackset: call as the organization's delegated administrator")
        if name == "deploy":
            p.add_argument("--accept-drift", action="store_true",
                           help="on a protected environment, execute even though the stack drifted (overwriting the "
                                "drift of the resources the change set modifies)")
        if name == "changeset":
            p.add_argument("--role-arn", metavar="ARN",
                           help="the service role CloudFormation deploys the change set with (CI: the account stack's "
                                "blueprint-cloudformation); default: the stack's role, else your credentials")
            p.add_argument("--revert-drift", action="store_true",
                           help="a drift-aware change set (DeploymentMode REVERT_DRIFT): it also puts drifted "
                                "properties back to the template's values (the local AWS ignores it)")
        if name == "destroy":
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = sub.add_parser("rollout", help="build the package once and deploy it wave by wave (rollout.yaml)")
    _target_option(p)
    p.add_argument("--wave", action="append", metavar="NAME",
                   help="only this wave (repeatable); it still refuses a digest the wave before did not deploy healthy")
    p.add_argument("--allow-replace", action="append", default=[], metavar="LOGICAL_ID",
                   help="allow replacing or removing this stateful resource in every environment (repeatable)")
    _env_option(p, required=False)
    p.add_argument("--service-role", metavar="NAME",
                   help="the service role, in each environment's account, CloudFormation deploys the change sets with "
                        "(the account stack's blueprint-cloudformation; see changeset --role-arn)")
    p.add_argument("--reviewed", action="store_true",
                   help="execute the change sets reviewed already (CI: the pull request's, in .blueprint/) instead of "
                        "creating new ones; refused when their package or template is not the rollout's")
    p.add_argument("--manifests", type=Path, metavar="DIR",
                   help="also read the release manifests under DIR (CI: the earlier waves' jobs' artifacts)")

    p = sub.add_parser("ci", help="write the CI workflows (.github/workflows/) from rollout.yaml and the spec")
    p.add_argument("provider", choices=["github"])
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when a committed workflow is stale")

    p = sub.add_parser("local", help="manage the embedded local AWS (moto server on 127.0.0.1)")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--timing", choices=["off", "aws"], default=None,
                   help="with up: off (the default) finishes every stack operation within its request; aws: change sets "
                        "and stack operations take AWS's time (docs/local-timing.md)")
    p.add_argument("--time-scale", type=float, default=None, metavar="FACTOR",
                   help="with up: multiply every wait of the timing model, rollback triggers' monitoring included (e.g. 0.05)")

    p = sub.add_parser("serve", help="serve the environment's API on 127.0.0.1 as API Gateway would")
    _env_option(p, required=True)
    _target_option(p)
    p.set_defaults(target="local")
    p.add_argument("--port", type=_port, default=8080, help="TCP port on 127.0.0.1 (0: any free port)")
    p.add_argument("--no-throttle", action="store_true", help="admit every request (benchmarks)")
    p.add_argument("--access-log", metavar="FILE", help="append access-log lines to FILE instead of stdout")
    p.add_argument("--api-key", metavar="VALUE", help="accept this key instead of the deployed one (benchmarks)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits 2 with a usage line on bad arguments
    module_name, func_name = COMMANDS[args.command]
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(func(args) or 0)
    except UserError as exc:
        print(f"{exc.prefix}{exc}", file=sys.stderr)
        return exc.exit_code
    except DeployFailed as exc:
        print(f"{exc.prefix}{exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`blueprint status | head`): it has what it wanted. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
