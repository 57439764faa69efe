"""E9104: a web ACL in front of the API lets through the bodies the function accepts, and inspects them whole.

AWS's Common Rule Set blocks every body over 8 KB (its rule SizeRestrictions_BODY, a fixed limit),
and API Gateway forwards only a body's first 16 KB to WAF unless the web ACL's AssociationConfig
asks for more (KB_32, KB_48 or KB_64, the most). The largest body the function accepts is its
MAX_BODY_BYTES environment variable. Above 8 KB the rule must be overridden to Count (a managed
group silently ignores an override with a misspelt rule name, so the name is checked exactly);
above 16 KB the inspection limit must hold the whole body; above 64 KB WAF cannot inspect it.
See docs/real-account.md, item 2.
"""
from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

SIZE_RULE, SIZE_RULE_BYTES, DEFAULT_INSPECTION_BYTES = "SizeRestrictions_BODY", 8 * 1024, 16 * 1024
LIMITS = {"KB_16": 16 * 1024, "KB_32": 32 * 1024, "KB_48": 48 * 1024, "KB_64": 64 * 1024}


def _largest_body(resources) -> int:
    """The largest MAX_BODY_BYTES of the template's functions (0 when none says)."""
    sizes = [0]
    for r in resources.values():
        variables = r.get("Properties", {}).get("Environment", {}).get("Variables", {})
        value = variables.get("MAX_BODY_BYTES") if isinstance(variables, dict) else None
        if isinstance(value, (str, int)) and str(value).isdigit():
            sizes.append(int(value))
    return max(sizes)


def _common_rule_set(rules):
    """(index, statement) of the web ACL's AWSManagedRulesCommonRuleSet rule, else None."""
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        statement = rule.get("Statement", {}).get("ManagedRuleGroupStatement") if isinstance(rule, dict) else None
        if isinstance(statement, dict) and statement.get("Name") == "AWSManagedRulesCommonRuleSet":
            return i, statement
    return None


class WafBodySize(CloudFormationLintRule):
    """A web ACL whose common rules block or leave uninspected bodies the function accepts."""

    id = "E9104"
    shortdesc = "Web ACLs pass and inspect the request bodies the function accepts"
    description = ("SizeRestrictions_BODY blocks bodies over 8 KB and API Gateway forwards 16 KB to WAF by "
                   "default; the function's MAX_BODY_BYTES must get through and be inspected whole")
    source_url = "https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html"
    tags = ["resources", "wafv2", "blueprint"]

    def match(self, cfn):
        matches = []
        resources = {lid: r for lid, r in cfn.get_resources().items() if isinstance(r, dict)}
        largest = _largest_body(resources)
        for lid, acl in resources.items():
            if acl.get("Type") != "AWS::WAFv2::WebACL":
                continue
            props = acl.get("Properties", {})
            found = _common_rule_set(props.get("Rules"))
            if found is None or largest <= SIZE_RULE_BYTES:
                continue
            index, statement = found
            overrides = statement.get("RuleActionOverrides", [])
            counted = any(isinstance(o, dict) and o.get("Name") == SIZE_RULE and o.get("ActionToUse") == {"Count": {}}
                          for o in overrides if isinstance(overrides, list))
            if not counted:
                matches.append(RuleMatch(["Resources", lid, "Properties", "Rules", index, "Statement"], (
                    f"{lid}: {SIZE_RULE} blocks bodies over 8 KB but the function accepts {largest} bytes; "
                    f"override it: RuleActionOverrides [{{Name: {SIZE_RULE}, ActionToUse: {{Count: {{}}}}}}]")))
            limit = (props.get("AssociationConfig", {}).get("RequestBody", {}).get("API_GATEWAY", {})
                     .get("DefaultSizeInspectionLimit", "KB_16"))
            inspected = LIMITS.get(limit, DEFAULT_INSPECTION_BYTES) if isinstance(limit, str) else DEFAULT_INSPECTION_BYTES
            if largest > max(LIMITS.values()):
                matches.append(RuleMatch(["Resources", lid], (
                    f"{lid}: the function accepts {largest} bytes, more than the 64 KB WAF can inspect")))
            elif inspected < largest:
                matches.append(RuleMatch(["Resources", lid, "Properties"], (
                    f"{lid}: WAF inspects the first {inspected // 1024} KB of a body, the function accepts "
                    f"{largest} bytes; set AssociationConfig.RequestBody.API_GATEWAY.DefaultSizeInspectionLimit")))
        return matches
