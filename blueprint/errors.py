"""The failures the CLI turns into exit codes: bad input (2), a failed deploy, a guard's refusal or drift (1)."""


class UserError(Exception):
    """Bad input: a spec, a CLI argument, a target or credentials. Exit code 2.

    The message is complete and meant for a person: it names the file, line, key or
    resource and what to do. The CLI prints it as is, never with a traceback.
    """

    exit_code = 2
    prefix = "error: "


class DeployFailed(Exception):
    """AWS accepted the request but the change failed. Exit code 1."""

    exit_code = 1
    prefix = "deploy failed: "


class Refused(DeployFailed):
    """A guard refused to go on (a lock held, a dangerous replacement, drift, a quota): nothing was changed."""

    prefix = "refused: "


class Drifted(DeployFailed):
    """`blueprint drift` found resources that differ from the stack's template. Exit code 1."""

    prefix = "drift: "
