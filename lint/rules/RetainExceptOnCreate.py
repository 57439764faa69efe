"""E9101: a kept resource uses DeletionPolicy RetainExceptOnCreate, never plain Retain.

CloudFormation keeps a Retain resource even when the create that made it rolls back, so the first
create of a protected environment that fails (a quota, a typo) leaves its fixed-name table, queue
and log groups behind, and the retry fails with "already exists". RetainExceptOnCreate is Retain
for every later operation and deletes the resource only when its own create rolls back. It is
valid only as a DeletionPolicy (cfn-lint's E3036 refuses it as UpdateReplacePolicy), so a kept
resource's UpdateReplacePolicy is Retain: a replacement must not delete what a delete keeps.
See docs/real-account.md, item 1.
"""
from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch


class RetainExceptOnCreate(CloudFormationLintRule):
    """Plain Retain on delete, or a kept resource deleted on replacement."""

    id = "E9101"
    shortdesc = "Kept resources use DeletionPolicy RetainExceptOnCreate"
    description = ("DeletionPolicy Retain survives a failed first create and blocks its retry; use "
                   "RetainExceptOnCreate with UpdateReplacePolicy Retain")
    source_url = "https://aws.amazon.com/about-aws/whats-new/2023/07/aws-cloudformation-deletion-policies-dev-test-cycle/"
    tags = ["resources", "deletionpolicy", "blueprint"]

    def match(self, cfn):
        matches = []
        for lid, resource in cfn.get_resources().items():
            if not isinstance(resource, dict):
                continue
            deletion = resource.get("DeletionPolicy")
            if deletion == "Retain":
                matches.append(RuleMatch(["Resources", lid, "DeletionPolicy"], (
                    f"{lid}: DeletionPolicy Retain keeps the resource when its own create rolls back, and "
                    "its name then blocks the retry; use RetainExceptOnCreate")))
            elif deletion == "RetainExceptOnCreate" and resource.get("UpdateReplacePolicy") != "Retain":
                matches.append(RuleMatch(["Resources", lid, "UpdateReplacePolicy"], (
                    f"{lid}: kept on delete (RetainExceptOnCreate) but not on replacement; "
                    "set UpdateReplacePolicy Retain")))
        return matches
