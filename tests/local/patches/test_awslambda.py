"""blueprint/local/patches/awslambda.py: the rendered function's configuration on the local AWS is the template's,
and plain moto still drops its tracing and dead-letter queue."""
from __future__ import annotations

import stack as S


# ---- lambda_function_properties

def test_function_tracing_dlq_kms_logging_vpc_and_tags(client, deployed):
    ids, props = deployed["ids"], deployed["template"]["Resources"]["Function"]["Properties"]
    lam = client("lambda")
    cfg = lam.get_function_configuration(FunctionName=props["FunctionName"])
    assert cfg["TracingConfig"] == {"Mode": "Active"}
    dlq_arn = client("sqs").get_queue_attributes(
        QueueUrl=ids["DeadLetterQueue"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert cfg["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    assert cfg["KMSKeyArn"].endswith(ids["KmsKey"])
    assert cfg["Architectures"] == props["Architectures"]
    assert cfg["LoggingConfig"] == {"LogGroup": ids["FunctionLogGroup"], "LogFormat": "JSON"}
    assert sorted(cfg["VpcConfig"]["SubnetIds"]) == sorted([ids["PrivateSubnet1"], ids["PrivateSubnet2"]])
    variables = props["Environment"]["Variables"]
    assert cfg["Environment"]["Variables"] == {**variables, "TABLE_NAME": ids["Table"]}
    assert lam.get_function(FunctionName=props["FunctionName"])["Tags"]["Environment"] == "development"


def test_canary_function_tracing_and_dlq_dropped(plain):
    cfn = plain("cloudformation")
    parameters = S.upload_code(plain("s3"))
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Function"))
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    cfg = plain("lambda").get_function_configuration(FunctionName=S.physical_ids(cfn, "canary")["Function"])
    S.still_broken(cfg["TracingConfig"]["Mode"] != "Active", "applies Lambda TracingConfig from CloudFormation",
                   "lambda_function_properties")
    S.still_broken("DeadLetterConfig" not in cfg, "shows a Lambda DeadLetterConfig", "lambda_function_properties")
