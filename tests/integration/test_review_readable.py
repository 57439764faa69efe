"""The review reads in seconds: a one-tag change is one folded line, a throttle change names the method setting.

Each test ships its own environment (a copy of envs/dev.yaml under another name, as in test_update), then
changes one thing in its file and reads the change set's review as the person about to deploy would.
"""
from __future__ import annotations

import json
import re

import pytest

from blueprint.cfn import loader

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bootstrapped(shipped):
    run = shipped.run("bootstrap", "--env", "dev")
    assert run.code == 0, run.text
    return shipped


def template(project, env: str) -> dict:
    return loader.loads((project.root / "generated" / env / "template.yaml").read_text())


def folded_block(text: str, head: str) -> str:
    """The folded line that starts with `head` and its wrapped continuation lines (the resources it is on)."""
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if line.strip().startswith(head))
    block = [lines[at]]
    for line in lines[at + 1:]:
        if not line.startswith("         "):
            break
        block.append(line)
    return "\n".join(block)


def test_a_one_tag_change_is_one_line_folded_over_the_tagged_resources(bootstrapped):
    project = bootstrapped
    project.new_env("tier")
    _, run = project.ship("tier")
    assert run.code == 0, run.text
    project.new_env("tier", "tags:\n  Tier: gold\n")
    tagged = sorted(lid for lid, res in template(project, "tier")["Resources"].items()
                    if "Tags" in (res.get("Properties") or {}))

    review = project.run("changeset", "--env", "tier")
    assert review.code == 0, review.text
    out = review.out
    assert out.count("+ Tier=gold") == 1
    block = folded_block(out, "Tags + Tier=gold")
    assert block.startswith(f"      Tags + Tier=gold   on all {len(tagged)} modified resources:")
    assert re.findall(r"[A-Za-z0-9]+(?=,|$)", block.split(":", 1)[1].replace("\n", " ").strip()) == tagged
    for lid in tagged:
        assert re.search(rf"^  Modify +{lid} +\S+ +False$", out, re.M), lid
    assert '"Key"' not in out and "..." not in out  # no tag list printed whole, none cut short
    assert f"0 to add, {len(tagged)} to modify, 0 to replace, 0 to remove" in out

    plan = project.run("plan", "--env", "tier")  # the offline plan reads the same
    assert plan.code == 0, plan.text
    assert plan.out.count("+ Tier=gold") == 1 and f"on all {len(tagged)} modified resources" in plan.out

    data = json.loads(project.run("changeset", "--env", "tier", "--output", "json").out)
    assert data["folded"] == [{"lines": ["Tags + Tier=gold"], "logical_ids": tagged}]
    table = next(c for c in data["changes"] if c["logical_id"] == "Table")
    [tags] = table["properties"]
    assert tags["entries"] == [{"op": "add", "path": "Tags[Tier]", "before": None,
                                "after": {"Key": "Tier", "Value": "gold"}}]
    assert {"Key": "Tier", "Value": "gold"} in tags["after"] and len(tags["after"]) == len(tags["before"]) + 1


def test_a_throttle_change_shows_the_method_setting_that_changed(bootstrapped):
    project = bootstrapped
    project.new_env("thr")
    _, run = project.ship("thr")
    assert run.code == 0, run.text
    [setting] = template(project, "thr")["Resources"]["Stage"]["Properties"]["MethodSettings"]
    rate, burst = setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]
    project.new_env("thr", f"api:\n  throttle:\n    rate_limit: {rate + 30}\n    burst_limit: {burst + 60}\n")

    review = project.run("changeset", "--env", "thr")
    assert review.code == 0, review.text
    out = review.out
    where = f"[{setting['HttpMethod']} {setting['ResourcePath']}]"
    stage = out.splitlines()[out.splitlines().index(next(line for line in out.splitlines()
                                                         if re.match(r"  Modify +Stage ", line))) + 1:]
    assert stage[:2] == [f"      MethodSettings{where}.ThrottlingBurstLimit: {burst} → {burst + 60}",
                         f"      MethodSettings{where}.ThrottlingRateLimit: {rate} → {rate + 30}"]
    assert f"      Throttle.RateLimit: {rate} → {rate + 30}" in out
    assert "LoggingLevel" not in out and "..." not in out  # the settings that did not change are not shown
    assert "0 to add, 2 to modify, 0 to replace, 0 to remove" in out
