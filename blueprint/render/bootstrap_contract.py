"""What the bootstrap stack promises the environments' stacks: its version and the permissions boundary's name.

The stacks' roles carry the boundary `blueprint-stack-boundary-<region>` that the bootstrap stack of their
region defines (IAM is global, the bootstrap stack is per region, hence the region in the name), and the
account stack's service role may create or change a role only with it. A stack template is deployed only
where the bootstrap stack is at least BOOTSTRAP_VERSION (its `BootstrapVersion` output), as the CDK checks
its own bootstrap version: raise it whenever the bootstrap template changes what the stacks rely on.
"""
from __future__ import annotations

BOOTSTRAP_VERSION = 2  # 2: the stacks' roles' permissions boundary
BOUNDARY_POLICY = "blueprint-stack-boundary"  # + "-<region>"
BOUNDARY_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + BOUNDARY_POLICY + "-${AWS::Region}"

GLOBALS = {"bootstrap_version": BOOTSTRAP_VERSION, "boundary_policy": BOUNDARY_POLICY, "boundary_arn": BOUNDARY_ARN}
