"""api.domain (issue 14, item 2): the API on its own name, from a temporary spec (the committed
environments have none): certificate, regional domain name with TLS 1.2, the stage mapped at its
root, the alias record, the outputs; bad input; the gates."""
from __future__ import annotations

import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from blueprint import cli
from blueprint.cfn import loader
from blueprint.render.templates import render_environment
from tests.conftest import ROOT
from tests.render.auth_specs import gate_findings, mode_spec, project_with

NAME, ZONE = "api.example.com", "Z0123456789ABCDEFGHIJ"
DOMAIN_TYPES = {"AWS::CertificateManager::Certificate", "AWS::ApiGateway::DomainName",
                "AWS::ApiGateway::BasePathMapping", "AWS::Route53::RecordSet"}


@cache
def text() -> str:
    return render_environment(mode_spec(Path(tempfile.mkdtemp()), "domain"))


@cache
def template() -> dict:
    return loader.loads(text())


def props(lid: str) -> dict:
    return template()["Resources"][lid]["Properties"]


def test_a_certificate_validated_by_dns_in_the_zone():
    assert props("Certificate")["DomainName"] == NAME and props("Certificate")["ValidationMethod"] == "DNS"
    assert props("Certificate")["DomainValidationOptions"] == [{"DomainName": NAME, "HostedZoneId": ZONE}]


def test_a_regional_domain_name_with_tls_1_2():
    d = props("ApiDomainName")
    assert d["DomainName"] == NAME and d["SecurityPolicy"] == "TLS_1_2"
    assert d["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert d["RegionalCertificateArn"] == {"Ref": "Certificate"}
    assert {"Key": "Environment", "Value": "development"} in d["Tags"]


def test_the_stage_is_mapped_at_the_domains_root():
    assert props("ApiBasePathMapping") == {"DomainName": {"Ref": "ApiDomainName"}, "RestApiId": {"Ref": "RestApi"},
                                           "Stage": {"Ref": "Stage"}}


def test_an_alias_record_in_the_zone_points_at_the_domain_name():
    r = props("ApiDomainRecord")
    assert (r["HostedZoneId"], r["Name"], r["Type"]) == (ZONE, NAME, "A")
    assert r["AliasTarget"] == {"DNSName": {"Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]},
                                "HostedZoneId": {"Fn::GetAtt": ["ApiDomainName", "RegionalHostedZoneId"]},
                                "EvaluateTargetHealth": False}


def test_api_endpoint_stays_the_execute_api_url_and_custom_endpoint_is_added():
    outputs = template()["Outputs"]
    dev = loader.loads((ROOT / "generated" / "dev" / "template.yaml").read_text())["Outputs"]
    assert outputs["ApiEndpoint"] == dev["ApiEndpoint"]
    assert outputs["CustomEndpoint"]["Value"] == f"https://{NAME}"
    assert "CustomEndpoint" not in dev


def test_without_a_domain_none_of_it_is_rendered():
    dev = loader.loads((ROOT / "generated" / "dev" / "template.yaml").read_text())
    assert not {r["Type"] for r in dev["Resources"].values()} & DOMAIN_TYPES


@pytest.mark.parametrize("extra, key", [
    ("api:\n  domain:\n    name: API.example.com\n    hosted_zone_id: Z0123\n", "api.domain.name"),
    ("api:\n  domain:\n    name: api.example.com\n    hosted_zone_id: zone-1\n", "api.domain.hosted_zone_id"),
    ("api:\n  domain:\n    name: api.example.com\n", "api.domain"),
])
def test_bad_domain_input_exits_2_naming_the_key(extra, key, tmp_path, capsys):
    project = project_with(tmp_path, "dev", extra)
    shutil.copytree(ROOT / "generated", project / "generated")
    code = cli.main(["--root", str(project), "validate", "--env", "dev"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert any(re.match(rf"^envs/dev\.yaml:\d+: {re.escape(key)}\b.*\(.+\)$", line) for line in err.splitlines()), err


def test_the_domain_template_passes_cfn_lint_and_checkov(tmp_path):
    assert gate_findings(text(), tmp_path) == ""
