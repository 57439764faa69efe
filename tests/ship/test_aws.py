"""AWS's errors as advice for people: credentials, permissions, throttling, configuration, the endpoint."""
from __future__ import annotations

import os
import subprocess
import sys

import botocore.exceptions as bx
import pytest

from blueprint.errors import DeployFailed, UserError
from blueprint.ship import aws


def client_error(code, message="m", operation="CreateChangeSet"):
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize("exc, kind, expected", [
    (bx.NoCredentialsError(), UserError, "no AWS credentials found: set AWS_PROFILE"),
    (client_error("ExpiredToken"), UserError, "credentials have expired"),
    (client_error("AccessDenied", "not allowed"), UserError, "AWS refused CreateChangeSet (AccessDenied): not allowed"),
    (bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), UserError, "make local-up"),
    (client_error("ValidationError", "Template format error"), DeployFailed, "Template format error"),
    (client_error("Throttling", "Rate exceeded"), DeployFailed, "throttled CreateChangeSet"),
    (bx.ProfileNotFound(profile="nope"), UserError, "'nope' (AWS_PROFILE) is not configured"),
    (bx.ParamValidationError(report="Invalid length for parameter StackName"), UserError, "parameters"),
    (bx.InvalidConfigError(error_msg="bad config line"), UserError, "aws configure list"),
])
def test_sdk_errors_become_advice(exc, kind, expected):
    with pytest.raises(kind) as err:
        with aws.translated("local"):
            raise exc
    assert expected in str(err.value)


def test_an_unknown_aws_profile_is_advice_not_a_traceback(project, tmp_path):
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_PROFILE="nope-blueprint-test", AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty))
    proc = subprocess.run([sys.executable, "-m", "blueprint", "--root", str(project), "status", "--env", "dev",
                           "--target", "aws"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "nope-blueprint-test" in proc.stderr and "aws configure list-profiles" in proc.stderr
