"""S3 before a change set: the missing permissions named, template URLs on the client's own endpoint."""
from __future__ import annotations

import pytest

from blueprint.errors import UserError
from blueprint.ship import upload
from tests.ship.stubs import stubbed


def test_a_denied_head_object_names_the_missing_s3_permissions():
    s3, stub = stubbed("s3")
    stub.add_client_error("head_object", "403", "Forbidden", http_status_code=403)
    with pytest.raises(UserError) as err:
        upload.upload_if_missing(s3, "blueprint-artifacts-1", "handler/abc.zip", b"zip")
    assert "s3:ListBucket" in str(err.value) and "s3:GetObject" in str(err.value)
    assert "blueprint-artifacts-1" in str(err.value)


@pytest.mark.parametrize("region, endpoint", [
    ("cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn"),
    ("us-gov-west-1", "https://s3.us-gov-west-1.amazonaws.com"),
    ("eu-west-1", "https://s3.eu-west-1.amazonaws.com"),
])
def test_template_url_uses_the_s3_clients_own_endpoint(region, endpoint):
    s3, _ = stubbed("s3", region)
    url = upload.template_url(s3, "bucket-1", "templates/items-dev/abc.yaml", "aws")
    assert url == f"{endpoint}/bucket-1/templates/items-dev/abc.yaml"


def test_template_url_on_the_local_aws():
    s3, _ = stubbed("s3", endpoint_url="http://127.0.0.1:4566")
    assert upload.template_url(s3, "b", "k.yaml", "local") == "http://localhost:4566/b/k.yaml"


def test_an_artifact_is_put_only_if_absent_and_a_concurrent_twin_counts_as_uploaded():
    s3, stub = stubbed("s3")
    stub.add_client_error("head_object", "404", "Not Found", 404)
    stub.add_response("put_object", {}, {"Bucket": "b", "Key": "handler/x.zip", "Body": b"zip", "IfNoneMatch": "*"})
    assert upload.upload_if_missing(s3, "b", "handler/x.zip", b"zip") is True
    stub.add_client_error("head_object", "404", "Not Found", 404)
    stub.add_client_error("put_object", "PreconditionFailed", "At least one of the pre-conditions you specified "
                          "did not hold", 412)
    assert upload.upload_if_missing(s3, "b", "handler/x.zip", b"zip") is False
    stub.assert_no_pending_responses()


def _bootstrap(outputs: dict[str, str], name: str = "blueprint-bootstrap") -> dict:
    return {"StackName": name, "StackId": f"arn:aws:cloudformation:us-east-1:1:stack/{name}/1",
            "StackStatus": "UPDATE_COMPLETE", "CreationTime": "2026-01-01T00:00:00Z",
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}


def _prepared():
    from types import SimpleNamespace

    return SimpleNamespace(env="dev", settings=SimpleNamespace(bootstrap_stack="blueprint-bootstrap", region="us-east-1"))


@pytest.mark.parametrize("version", [None, "1", "x"])
def test_a_bootstrap_stack_older_than_the_boundary_is_refused_before_anything_is_uploaded(version):
    cfn, stub = stubbed()
    outputs = {"ArtifactBucketName": "b", **({"BootstrapVersion": version} if version else {})}
    stub.add_response("describe_stacks", {"Stacks": [_bootstrap(outputs)]})
    with pytest.raises(UserError) as err:
        upload.bootstrap_bucket(cfn, _prepared(), "aws")
    assert (f"the bootstrap stack blueprint-bootstrap in us-east-1 is version {version or '1'}, and this template "
            f"needs version {upload.BOOTSTRAP_VERSION}") in str(err.value)
    assert "run `make bootstrap ENV=dev` to update it" in str(err.value)


def test_a_current_bootstrap_stack_gives_its_bucket_and_a_stacksets_names_the_stackset():
    cfn, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [_bootstrap({"ArtifactBucketName": "b",
                                                                 "BootstrapVersion": str(upload.BOOTSTRAP_VERSION)})]})
    assert upload.bootstrap_bucket(cfn, _prepared(), "aws") == "b"
    name = "StackSet-blueprint-bootstrap-0f3c9a1e-5b7d-4c2a-9e8f-1a2b3c4d5e6f"
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id blueprint-bootstrap does not exist")
    summary = {k: v for k, v in _bootstrap({}, name).items() if k != "Outputs"}
    stub.add_response("list_stacks", {"StackSummaries": [summary]})
    stub.add_response("describe_stacks", {"Stacks": [_bootstrap({"ArtifactBucketName": "b"}, name)]})
    with pytest.raises(UserError, match="update the StackSet from the organization's management account"):
        upload.bootstrap_bucket(cfn, _prepared(), "aws")
