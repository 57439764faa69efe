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
