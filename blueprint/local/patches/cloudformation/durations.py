"""How long CloudFormation takes, in seconds of AWS time: the timing model's data, one row per resource type.

Each row is (create, update, delete). Where every number comes from - AWS's resource-provider code, AWS
documentation, users' reports, or an estimate - is in docs/local-timing.md; change a number there and
here together. Few are measured facts: most are estimates from how the resource behaves.
"""
from __future__ import annotations

# (create, update, delete) seconds; a type not listed takes DEFAULT.
DEFAULT = (5.0, 5.0, 5.0)
DURATIONS: dict[str, tuple[float, float, float]] = {
    # network
    "AWS::EC2::VPC": (10, 5, 10),
    "AWS::EC2::Subnet": (7, 7, 5),
    "AWS::EC2::RouteTable": (5, 5, 5),
    "AWS::EC2::SubnetRouteTableAssociation": (5, 5, 5),
    "AWS::EC2::VPCEndpoint": (30, 20, 30),
    "AWS::EC2::SecurityGroup": (5, 5, 5),
    "AWS::EC2::FlowLog": (7, 7, 5),
    # encryption: the KMS provider's built-in waits (15 s on create and delete, 60 s on update) plus the call
    "AWS::KMS::Key": (20, 65, 17),
    "AWS::KMS::Alias": (16, 61, 16),
    # data
    "AWS::DynamoDB::Table": (40, 30, 30),
    "AWS::ApplicationAutoScaling::ScalableTarget": (7, 5, 5),
    "AWS::ApplicationAutoScaling::ScalingPolicy": (7, 5, 5),
    "AWS::SQS::Queue": (30, 30, 60),
    "AWS::SQS::QueuePolicy": (5, 5, 5),
    "AWS::Logs::LogGroup": (3, 3, 3),
    # function: a function in a VPC stays Pending about a minute while Lambda creates its network interfaces
    "AWS::Lambda::Function": (60, 15, 5),
    "AWS::Lambda::Permission": (2, 2, 2),
    "AWS::IAM::Role": (12, 12, 10),
    "AWS::IAM::Policy": (12, 12, 10),
    "AWS::IAM::ManagedPolicy": (12, 12, 10),
    # API
    "AWS::ApiGateway::RestApi": (3, 3, 3),
    "AWS::ApiGateway::Resource": (2, 2, 2),
    "AWS::ApiGateway::Method": (2, 2, 2),
    "AWS::ApiGateway::Deployment": (3, 3, 2),
    "AWS::ApiGateway::Stage": (10, 10, 3),
    "AWS::ApiGateway::ApiKey": (3, 3, 3),
    "AWS::ApiGateway::UsagePlan": (3, 3, 3),
    "AWS::ApiGateway::UsagePlanKey": (3, 3, 3),
    "AWS::ApiGateway::GatewayResponse": (2, 2, 2),
    "AWS::ApiGateway::RequestValidator": (2, 2, 2),
    "AWS::ApiGateway::Account": (3, 3, 2),
    # edge and observability
    "AWS::WAFv2::WebACL": (60, 60, 60),
    "AWS::WAFv2::WebACLAssociation": (90, 90, 30),
    "AWS::WAFv2::LoggingConfiguration": (7, 5, 5),
    "AWS::CloudWatch::Alarm": (2, 2, 2),
    "AWS::CloudWatch::CompositeAlarm": (2, 2, 2),
    "AWS::S3::Bucket": (5, 5, 5),
    "AWS::S3::BucketPolicy": (3, 3, 3),
}
ACTION_INDEX = {"Create": 0, "Update": 1, "Delete": 2}

# A change set's life before it can be executed: CREATE_PENDING, then CREATE_IN_PROGRESS (seconds each).
CHANGE_SET = {"CREATE_PENDING": 2.0, "CREATE_IN_PROGRESS": 8.0}


def seconds(resource_type: str, action: str) -> float:
    """AWS seconds a resource of `resource_type` takes to Create, Update or Delete."""
    return float(DURATIONS.get(resource_type, DEFAULT)[ACTION_INDEX[action]])
