"""The one place AWS sessions and clients are made, and AWS's errors turned into messages for people.

`--target aws` uses the standard boto3 credential chain (env vars, profile, SSO, instance role)
and the spec's region; `--target local` starts (or finds) the embedded local AWS and signs with
dummy credentials, so real ones can never leave the machine for it.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from blueprint.errors import DeployFailed, UserError
from blueprint.local import process
from blueprint.state import TARGET_KINDS, state_dir

# Adaptive retries back off on throttling ("Rate exceeded": CloudFormation's calls are rate limited per
# account, and a rollout's parallel environments share it) and slow the client down while it lasts;
# short connect timeouts make a wrong endpoint fail in seconds instead of minutes.
CLIENT_CONFIG = {
    "retries": {"mode": "adaptive", "max_attempts": 10},
    "connect_timeout": 5,
    "read_timeout": 60,
    "user_agent_extra": "blueprint",
}
# The local AWS does not throttle, and one that refuses connections is gone: retrying with back-off
# would only hold back the message saying so. One retry covers a kept-alive connection it closed.
LOCAL_RETRIES = {"mode": "standard", "max_attempts": 2}

EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
             "SlowDown"}
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
          "InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure"}


class LocalAwsGone(DeployFailed):
    """The local AWS stopped during the command: its stacks are gone, there is nothing left to follow."""

    prefix = "error: "


@dataclass(frozen=True)
class Target:
    """Where a command ships to: AWS itself or the embedded local AWS (endpoint set)."""

    kind: str  # "aws" | "local"
    region: str
    endpoint: str | None = None

    def describe(self) -> str:
        return f"{self.region}, local AWS at {self.endpoint}" if self.kind == "local" else self.region


@dataclass
class Session:
    """Clients for one target, made once each and shared by the command."""

    target: Target
    _boto: Any = field(repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            kwargs: dict[str, Any] = {"config": Config(**CLIENT_CONFIG)}
            if self.target.kind == "local":
                kwargs.update(process.client_kwargs(self.target.endpoint or ""))
                kwargs["config"] = Config(**{**CLIENT_CONFIG, "retries": LOCAL_RETRIES})
            self._clients[service] = self._boto.client(service, region_name=self.target.region, **kwargs)
        return self._clients[service]


def session_for(region: str, target: str, root: Path) -> Session:
    """A session in `region` on `target` (aws|local); local starts (or finds) the project's local AWS."""
    import boto3

    if target == "local":
        endpoint = process.ensure_running(state_dir(root))
        return Session(Target("local", region, endpoint), boto3.session.Session())
    if target not in TARGET_KINDS:
        raise UserError(f"unknown target {target!r}: use aws or local")
    return Session(Target("aws", region), boto3.session.Session(region_name=region))


def check_account(session: Session, expected: str | None, env: str) -> str:
    """The caller's account id; UserError when the spec pins (`expected`) another account."""
    identity = session.client("sts").get_caller_identity()
    actual = identity["Account"]
    if expected and str(expected) != actual:
        raise UserError(
            f"envs/{env}.yaml (or blueprint.yaml) account_id: the spec pins account {expected}, but the "
            f"credentials in use are for account {actual} ({identity.get('Arn', 'unknown principal')}); "
            f"switch to a profile of account {expected} (e.g. AWS_PROFILE=...) — nothing was deployed")
    return actual


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)


@contextlib.contextmanager
def translated(target_kind: str = "aws") -> Iterator[None]:
    """Turn the SDK's exceptions into UserError/DeployFailed with what to do next (no tracebacks)."""
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    local_hint = "start it with `make local-up` (or `blueprint local up`)"
    try:
        yield
    except bx.ProfileNotFound as exc:
        profile = getattr(exc, "kwargs", {}).get("profile", "?")
        raise UserError(f"the AWS profile {profile!r} (AWS_PROFILE) is not configured: list the profiles with "
                        "`aws configure list-profiles` and set AWS_PROFILE to one of them (or create it with "
                        "`aws configure --profile ...` / `aws configure sso`), or use --target local") from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise UserError("no AWS credentials found: set AWS_PROFILE (then `aws sso login` if it is an SSO "
                        "profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use --target local "
                        "(TARGET=local) for the embedded local AWS") from None
    except (bx.TokenRetrievalError, bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError) as exc:
        raise UserError(f"the SSO session has expired ({exc}): run `aws sso login` and retry") from None
    except bx.NoRegionError:
        raise UserError("no AWS region: set `region` in blueprint.yaml or envs/<env>.yaml") from None
    except (bx.ConnectionError, bx.HTTPClientError) as exc:
        # A local AWS that answered earlier in this command and is gone now took its stacks with it:
        # that is a failed command, and what to run again, not a network problem.
        stopped = process.stopped_during_command(str(getattr(exc, "kwargs", {}).get("endpoint_url", ""))) \
            if target_kind == "local" else None
        if stopped:
            raise LocalAwsGone(stopped) from None
        hint = local_hint if target_kind == "local" else "check the network, a proxy, and the spec's region"
        raise UserError(f"cannot reach AWS ({exc}): {hint}") from None
    except bx.ParamValidationError as exc:
        raise UserError(f"the AWS SDK refused a request's parameters ({exc}): check the names in "
                        "blueprint.yaml and envs/<env>.yaml (stack name, region, tags)") from None
    except bx.ClientError as exc:
        code, message = error_code(exc), error_message(exc)
        operation = getattr(exc, "operation_name", "the call")
        if code in EXPIRED:
            raise UserError(f"the AWS credentials have expired ({code} on {operation}): refresh them "
                            "(`aws sso login`, or new temporary keys) and retry") from None
        if code in DENIED:
            raise UserError(f"AWS refused {operation} ({code}): {message} — the credentials in use lack "
                            "that permission; use a role allowed to deploy CloudFormation stacks") from None
        if code in THROTTLED:
            raise DeployFailed(f"AWS throttled {operation} ({code}) even after retries: wait a minute and "
                               "retry") from None
        raise DeployFailed(f"AWS refused {operation}: {code}: {message}") from None
    except ResponseParserError as exc:
        # An endpoint that answered with something that is not AWS's protocol (an HTML 500 page).
        where = "the local AWS (see .blueprint/local-aws.log)" if target_kind == "local" else "AWS"
        raise DeployFailed(f"{where} gave an answer the SDK cannot read: {str(exc).splitlines()[0]}") from None
    except bx.BotoCoreError as exc:
        # Anything else the SDK raises before a request reaches AWS: its configuration (a bad
        # ~/.aws/config, a failing credential_process, an unknown option) is the user's to fix.
        raise UserError(f"the AWS SDK could not make the call ({type(exc).__name__}: {exc}): check the AWS "
                        "configuration (`aws configure list`, AWS_PROFILE, ~/.aws/config) and retry") from None


def make_command(verb: str, env: str, target_kind: str) -> str:
    """The make command a message tells a person to run next, for the target they are on."""
    return f"make {verb} ENV={env}" + (" TARGET=local" if target_kind == "local" else "")


# --- CloudWatch alarms (rollback triggers) and DynamoDB tables (a failed first create's leftovers) -------------

ALARM_TYPES = {"CompositeAlarms": "AWS::CloudWatch::CompositeAlarm", "MetricAlarms": "AWS::CloudWatch::Alarm"}


def alarms(session: Session, names: list[str]) -> dict[str, dict[str, Any]]:
    """The named alarms that exist, read with the session's CloudWatch client (describe_alarms)."""
    return describe_alarms(session.client("cloudwatch"), names) if names else {}


def describe_alarms(cloudwatch: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """The named alarms that exist, metric and composite: name -> {arn, type (as RollbackTrigger.Type takes
    it), state, reason, since (when the state last changed)}."""
    if not names:
        return {}
    found: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"AlarmNames": list(names), "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
    while True:
        page = cloudwatch.describe_alarms(**kwargs)
        for key, kind in ALARM_TYPES.items():
            for alarm in page.get(key, []):
                found[alarm["AlarmName"]] = {"arn": alarm["AlarmArn"], "type": kind,
                                             "state": alarm.get("StateValue", "INSUFFICIENT_DATA"),
                                             "reason": alarm.get("StateReason", ""),
                                             "since": alarm.get("StateUpdatedTimestamp")}
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def local_time_scale(root: Path) -> float:
    """The running local AWS's time scale (it multiplies a rollback trigger's monitoring window); 1 if unknown."""
    info = process.status(state_dir(root)) or {}
    scale = info.get("time_scale", 1.0)
    return float(scale) if isinstance(scale, (int, float)) else 1.0


def table_items(session: Session, table: str) -> int | None:
    """0 for an empty table, 1 when it holds an item, None when it does not exist."""
    import botocore.exceptions as bx

    try:
        return int(session.client("dynamodb").scan(TableName=table, Limit=1, Select="COUNT")["Count"] > 0)
    except bx.ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def delete_empty_table(session: Session, table: str) -> None:
    """Deletion protection off, then the table deleted, waited for (the caller checked it is empty)."""
    ddb = session.client("dynamodb")
    if ddb.describe_table(TableName=table)["Table"].get("DeletionProtectionEnabled"):
        ddb.update_table(TableName=table, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=table)
    ddb.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 1 if session.target.kind == "local"
                                                                           else 5, "MaxAttempts": 120})
