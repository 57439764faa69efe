"""blueprint/local/patches/ec2.py: the rendered stack, VPC and all, can be deleted from the local AWS, and plain
moto still cannot delete its route tables and endpoint."""
from __future__ import annotations

import pytest

import stack as S

NETWORK = ("DynamoDbEndpoint", "PrivateSubnet1RouteTableAssociation", "PrivateSubnet2RouteTableAssociation")


# ---- ec2_vpc_deletes

def test_delete_stack_removes_everything(client, code):
    region = "eu-central-1"
    cfn, ec2, ddb, lam = (client(s, region) for s in ("cloudformation", "ec2", "dynamodb", "lambda"))
    S.deploy(cfn, "items-dev", S.rendered("dev"), code)
    ids = S.physical_ids(cfn, "items-dev")
    cfn.delete_stack(StackName="items-dev")
    cfn.get_waiter("stack_delete_complete").wait(StackName="items-dev", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    assert ids["Vpc"] not in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    assert ids["DynamoDbEndpoint"] not in [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]]
    assert ids["PrivateRouteTable"] not in [t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]]
    assert ids["Table"] not in ddb.list_tables()["TableNames"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=ids["Function"])


def test_canary_vpc_stack_cannot_be_deleted(plain):
    cfn = plain("cloudformation")
    cfn.create_stack(StackName="canary", TemplateBody=S.body(S.without_kms_gap(S.cut(S.rendered("dev"), *NETWORK))))
    try:
        cfn.delete_stack(StackName="canary")
        failed = False
    except cfn.exceptions.ClientError as exc:
        failed = "DependencyViolation" in str(exc)
    S.still_broken(failed, "deletes route tables, associations and VPC endpoints of a stack", "ec2_vpc_deletes")
