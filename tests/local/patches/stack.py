"""A small, self-contained stack with every resource type the generated templates use.

The tests deploy it through the change-set API (to the patched local AWS over HTTP, and to
plain moto for the canaries) and read it back through the services' own APIs.
"""
from __future__ import annotations

import copy
import io
import json
import time
import zipfile
from typing import Any

REGION = "eu-west-1"
CODE_BUCKET = "blueprint-test-artifacts"
CODE_KEY = "handler.zip"

HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "{}"}\n'


def handler_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", HANDLER)
    return buf.getvalue()


def _tags(env: str) -> list[dict[str, str]]:
    return [{"Key": "Environment", "Value": env}, {"Key": "Team", "Value": "platform"}]


def template(env: str = "dev", rate: float = 100.0, burst: int = 200, read_capacity: int = 5,
             table_suffix: str = "", api_description: str = "the service API") -> dict[str, Any]:
    """The stack as a template dict. `rate`/`burst`/`read_capacity`/`api_description` make in-place
    changes, `table_suffix` changes the table's name (a create-only property: a replacement)."""
    t: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"blueprint local-target test stack ({env})",
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "Description": f"svc-{env} data key",
                    "EnableKeyRotation": True,
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": "Root",
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                            "Action": "kms:*",
                            "Resource": "*",
                        }],
                    },
                    "Tags": _tags(env),
                },
            },
            "Vpc": {
                "Type": "AWS::EC2::VPC",
                "Properties": {"CidrBlock": "10.20.0.0/16", "EnableDnsHostnames": True,
                               "EnableDnsSupport": True, "Tags": _tags(env)},
            },
            "SubnetA": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.20.1.0/24",
                               "AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}},
            },
            "SubnetB": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.20.2.0/24",
                               "AvailabilityZone": {"Fn::Select": [1, {"Fn::GetAZs": ""}]}},
            },
            "RouteTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "SubnetARoutes": {
                "Type": "AWS::EC2::SubnetRouteTableAssociation",
                "Properties": {"SubnetId": {"Ref": "SubnetA"}, "RouteTableId": {"Ref": "RouteTable"}},
            },
            "DynamoEndpoint": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "VpcId": {"Ref": "Vpc"},
                    "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"},
                    "VpcEndpointType": "Gateway",
                    "RouteTableIds": [{"Ref": "RouteTable"}],
                },
            },
            "FunctionSg": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "function", "VpcId": {"Ref": "Vpc"}},
            },
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": f"svc-{env}-items{table_suffix}",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PROVISIONED",
                    "ProvisionedThroughput": {"ReadCapacityUnits": read_capacity, "WriteCapacityUnits": 5},
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS",
                                         "KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}},
                    "DeletionProtectionEnabled": False,
                    "Tags": _tags(env),
                },
            },
            "ReadTarget": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "dynamodb",
                    "ResourceId": {"Fn::Sub": "table/${Table}"},
                    "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
                    "MinCapacity": 5,
                    "MaxCapacity": 50,
                },
            },
            "ReadPolicy": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": f"svc-{env}-read",
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": {"Ref": "ReadTarget"},
                    "TargetTrackingScalingPolicyConfiguration": {
                        "TargetValue": 70.0,
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": "DynamoDBReadCapacityUtilization"},
                    },
                },
            },
            "Dlq": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": f"svc-{env}-dlq", "KmsMasterKeyId": {"Ref": "Key"}},
            },
            "DlqPolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "Dlq"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                                       "Action": "sqs:*", "Resource": {"Fn::GetAtt": ["Dlq", "Arn"]},
                                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
                    },
                },
            },
            "FunctionLogs": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {"LogGroupName": f"/aws/lambda/svc-{env}-api", "RetentionInDays": 30},
            },
            "FunctionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                       "Action": "sts:AssumeRole"}],
                    },
                    "Policies": [{
                        "PolicyName": "table",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"],
                                           "Resource": {"Fn::GetAtt": ["Table", "Arn"]}}],
                        },
                    }],
                },
            },
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"svc-{env}-api",
                    "Runtime": "python3.12",
                    "Handler": "app.handler",
                    "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
                    "Code": {"S3Bucket": CODE_BUCKET, "S3Key": CODE_KEY},
                    "MemorySize": 256,
                    "Timeout": 10,
                    "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
                    "TracingConfig": {"Mode": "Active"},
                    "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
                    "VpcConfig": {"SubnetIds": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
                                  "SecurityGroupIds": [{"Ref": "FunctionSg"}]},
                    "Environment": {"Variables": {"TABLE_NAME": {"Ref": "Table"}, "TTL_DAYS": "30"}},
                    "Tags": _tags(env),
                },
            },
            "Api": {
                "Type": "AWS::ApiGateway::RestApi",
                "Properties": {"Name": f"svc-{env}", "Description": api_description,
                               "EndpointConfiguration": {"Types": ["REGIONAL"]}},
            },
            "ItemsResource": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {"RestApiId": {"Ref": "Api"}, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                               "PathPart": "items"},
            },
            "ItemsGet": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Ref": "ItemsResource"},
                    "HttpMethod": "GET",
                    "AuthorizationType": "NONE",
                    "ApiKeyRequired": True,
                    "Integration": {
                        "Type": "AWS_PROXY",
                        "IntegrationHttpMethod": "POST",
                        "Uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function.Arn}/invocations"},
                    },
                },
            },
            "ItemsOptions": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Ref": "ItemsResource"},
                    "HttpMethod": "OPTIONS",
                    "AuthorizationType": "NONE",
                    "ApiKeyRequired": False,
                    "Integration": {
                        "Type": "MOCK",
                        "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                        "IntegrationResponses": [{
                            "StatusCode": "204",
                            "ResponseParameters": {
                                "method.response.header.Access-Control-Allow-Origin": "'https://app.example.com'",
                                "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
                                "method.response.header.Access-Control-Allow-Headers": "'content-type,x-api-key'",
                            },
                        }],
                    },
                    "MethodResponses": [{
                        "StatusCode": "204",
                        "ResponseParameters": {
                            "method.response.header.Access-Control-Allow-Origin": True,
                            "method.response.header.Access-Control-Allow-Methods": True,
                            "method.response.header.Access-Control-Allow-Headers": True,
                        },
                    }],
                },
            },
            "Validator": {
                "Type": "AWS::ApiGateway::RequestValidator",
                "Properties": {"RestApiId": {"Ref": "Api"}, "Name": "body-and-params",
                               "ValidateRequestBody": True, "ValidateRequestParameters": True},
            },
            "Deployment": {
                "Type": "AWS::ApiGateway::Deployment",
                "DependsOn": ["ItemsGet", "ItemsOptions"],
                "Properties": {"RestApiId": {"Ref": "Api"}, "Description": "content hash abc123"},
            },
            "AccessLogs": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {"LogGroupName": f"/aws/apigateway/svc-{env}-access", "RetentionInDays": 30},
            },
            "Stage": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "DeploymentId": {"Ref": "Deployment"},
                    "StageName": env,
                    "TracingEnabled": True,
                    "Variables": {"env": env},
                    "AccessLogSetting": {
                        "DestinationArn": {"Fn::GetAtt": ["AccessLogs", "Arn"]},
                        "Format": '{"requestId":"$context.requestId","status":"$context.status"}',
                    },
                    "MethodSettings": [{
                        "ResourcePath": "/*",
                        "HttpMethod": "*",
                        "LoggingLevel": "INFO",
                        "MetricsEnabled": True,
                        "DataTraceEnabled": False,
                        "ThrottlingRateLimit": rate,
                        "ThrottlingBurstLimit": burst,
                    }],
                    "Tags": _tags(env),
                },
            },
            "ApiKey": {
                "Type": "AWS::ApiGateway::ApiKey",
                "Properties": {"Name": f"svc-{env}-key", "Enabled": True, "Tags": _tags(env)},
            },
            "UsagePlan": {
                "Type": "AWS::ApiGateway::UsagePlan",
                "DependsOn": ["Stage"],
                "Properties": {
                    "UsagePlanName": f"svc-{env}-plan",
                    "ApiStages": [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Stage"}}],
                    "Throttle": {"RateLimit": rate, "BurstLimit": burst},
                    "Tags": _tags(env),
                },
            },
            "UsagePlanKey": {
                "Type": "AWS::ApiGateway::UsagePlanKey",
                "Properties": {"KeyId": {"Ref": "ApiKey"}, "KeyType": "API_KEY",
                               "UsagePlanId": {"Ref": "UsagePlan"}},
            },
            "Cors4xx": {
                "Type": "AWS::ApiGateway::GatewayResponse",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResponseType": "DEFAULT_4XX",
                    "ResponseParameters": {
                        "gatewayresponse.header.Access-Control-Allow-Origin": "'https://app.example.com'",
                        "gatewayresponse.header.Access-Control-Allow-Headers": "'content-type,x-api-key'",
                    },
                },
            },
            "Cors5xx": {
                "Type": "AWS::ApiGateway::GatewayResponse",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResponseType": "DEFAULT_5XX",
                    "ResponseParameters": {
                        "gatewayresponse.header.Access-Control-Allow-Origin": "'https://app.example.com'"},
                },
            },
            "InvokePermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Ref": "Function"},
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"},
                },
            },
        },
        "Outputs": {
            "ApiUrl": {"Value": {"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"}},
            "TableName": {"Value": {"Ref": "Table"}},
            "FunctionName": {"Value": {"Ref": "Function"}},
            "ApiKeyId": {"Value": {"Ref": "ApiKey"}},
        },
    }
    return copy.deepcopy(t)


def body(t: dict[str, Any]) -> str:
    return json.dumps(t, indent=1, sort_keys=True)


def upload_code(s3) -> None:
    """The function's code, uploaded before the stack (as `blueprint package` would)."""
    try:
        s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=handler_zip())


def deploy(cfn, stack_name: str, t: dict[str, Any], change_set_type: str | None = None) -> dict[str, Any]:
    """Create a change set, wait for it, execute it, wait for the stack; returns describe_change_set."""
    if change_set_type is None:
        try:
            cfn.describe_stacks(StackName=stack_name)
            change_set_type = "UPDATE"
        except cfn.exceptions.ClientError:
            change_set_type = "CREATE"
    name = f"cs-{int(time.time() * 1000)}"
    cfn.create_change_set(StackName=stack_name, ChangeSetName=name, TemplateBody=body(t),
                          ChangeSetType=change_set_type, Capabilities=["CAPABILITY_IAM"],
                          Tags=[{"Key": "Environment", "Value": "dev"}])
    cfn.get_waiter("change_set_create_complete").wait(
        StackName=stack_name, ChangeSetName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    described = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name, IncludePropertyValues=True)
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=name)
    waiter = "stack_create_complete" if change_set_type == "CREATE" else "stack_update_complete"
    cfn.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return described


def outputs(cfn, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def physical_ids(cfn, stack_name: str) -> dict[str, str]:
    res = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in res}
