"""The one reference walker: every name a node uses through Ref, GetAtt (both forms) and Sub, and nothing else."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from blueprint.cfn import loader, refs
from tests.conftest import ROOT


def test_ref_getatt_and_sub_in_document_order():
    node = {"A": {"Ref": "Vpc"}, "B": [{"Fn::GetAtt": ["Table", "Arn"]}, {"Fn::GetAtt": "Key.Arn"}],
            "C": {"Fn::Sub": "arn:${AWS::Partition}:x:${Fn.Arn}/${!Literal}"},
            "D": {"Fn::Sub": ["${Local}-${Bucket}", {"Local": {"Ref": "Stage"}}]}}
    assert list(refs.references(node)) == ["Vpc", "Table", "Key", "AWS::Partition", "Fn", "Bucket", "Stage"]


def test_exact_shapes():
    assert refs.ref_target({"Ref": "X"}) == "X" and refs.ref_target({"Ref": "X", "Other": 1}) is None
    assert refs.getatt_target({"Fn::GetAtt": ["X", "Arn"]}) == ("X", "Arn")
    assert refs.getatt_target({"Fn::GetAtt": "X.Arn"}) == ("X", "Arn")
    assert refs.getatt_target({"Fn::GetAtt": ["X"]}) is None and refs.getatt_target("X") is None


def test_dependencies_of_a_rendered_resource():
    template = loader.loads((ROOT / "generated" / "dev" / "template.yaml").read_text())
    resources = template["Resources"]
    stage = resources["Stage"]
    assert refs.depends_on(stage) == ["ExecutionLogGroup"]
    deployment = next(k for k in resources if k.startswith("Deployment"))
    assert {"RestApi", deployment, "AccessLogGroup", "ExecutionLogGroup"} <= refs.dependencies(stage)
    every = set(resources) | set(template["Parameters"]) | refs.PSEUDO_PARAMETERS
    for resource in resources.values():
        assert refs.dependencies(resource) <= every


names = st.from_regex(r"[A-Z][A-Za-z0-9]{0,8}", fullmatch=True)


@given(st.recursive(names.map(lambda n: {"Ref": n}) | names.map(lambda n: {"Fn::Sub": f"x-${{{n}.Arn}}"}),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["P", "Q"]), inner),
                    max_leaves=10))
def test_every_reference_is_found_however_deep(node):
    def expected(n):
        if isinstance(n, dict) and "Ref" in n:
            return [n["Ref"]]
        if isinstance(n, dict) and "Fn::Sub" in n:
            return [n["Fn::Sub"][4:-5]]
        children = n.values() if isinstance(n, dict) else n
        return [name for child in children for name in expected(child)]

    assert list(refs.references(node)) == expected(node)
