"""EC2: deletes for the VPC resources moto's CloudFormation cannot delete, so a stack with a VPC can be deleted."""
from __future__ import annotations

from moto.ec2.models import ec2_backends
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.subnets import SubnetRouteTableAssociation
from moto.ec2.models.vpcs import VPCEndPoint

from blueprint.local.patches.base import patch, wrap


def _delete_route_table(self, account_id: str, region_name: str) -> None:  # type: ignore[no-untyped-def]
    ec2_backends[account_id][region_name].delete_route_table(self.id)


def _delete_association(self, account_id: str, region_name: str) -> None:  # type: ignore[no-untyped-def]
    table = ec2_backends[account_id][region_name].route_tables.get(self.route_table_id)
    if table is not None:
        for association_id, subnet_id in list(table._associations.items()):
            if subnet_id == self.subnet_id:
                table._associations.pop(association_id, None)


def _delete_endpoint(self, account_id: str, region_name: str) -> None:  # type: ignore[no-untyped-def]
    backend = ec2_backends[account_id][region_name]
    # Its route tables may be gone already (deleted earlier in the same stack deletion).
    self.route_table_ids = [r for r in (self.route_table_ids or []) if r in backend.route_tables]
    backend.delete_vpc_endpoints([self.id])
    backend.vpc_end_points.pop(self.id, None)


@patch
def ec2_vpc_deletes() -> None:
    """moto's AWS::EC2::RouteTable, SubnetRouteTableAssociation and VPCEndpoint have no delete: deleting a
    stack with a VPC, its route tables and a DynamoDB gateway endpoint fails with DependencyViolation on
    the VPC. This patch gives them deletes (disassociate, delete the route table, delete the endpoint and
    its routes)."""
    wrap(RouteTable, "delete", lambda _none: _delete_route_table)
    wrap(SubnetRouteTableAssociation, "delete", lambda _none: _delete_association)
    wrap(VPCEndPoint, "delete", lambda _none: _delete_endpoint)
