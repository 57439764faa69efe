"""E9103: a function with JSON logs sets Lambda's log levels, and they agree with Powertools'.

With `LogFormat: JSON` Lambda filters the function's logs itself and tells the runtime its level
through AWS_LAMBDA_LOG_LEVEL, INFO when ApplicationLogLevel is not set; Powertools' Logger prefers
that variable to POWERTOOLS_LOG_LEVEL (aws_lambda_powertools/logging/logger.py, _determine_log_level),
so a spec that says WARNING logs at INFO. Both levels must be set, and the application level must
be the one POWERTOOLS_LOG_LEVEL names (Lambda spells WARNING as WARN, CRITICAL as FATAL).
See docs/real-account.md, item 5.
"""
from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

LAMBDA_NAME = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "WARN": "WARN", "ERROR": "ERROR",
               "CRITICAL": "FATAL", "FATAL": "FATAL", "TRACE": "TRACE", "NOTSET": "TRACE"}


class LambdaLogLevels(CloudFormationLintRule):
    """JSON logs without ApplicationLogLevel/SystemLogLevel, or a level other than Powertools'."""

    id = "E9103"
    shortdesc = "Functions with JSON logs set ApplicationLogLevel and SystemLogLevel"
    description = ("Without ApplicationLogLevel Lambda logs at INFO and Powertools follows it, whatever "
                   "POWERTOOLS_LOG_LEVEL says")
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html"
    tags = ["resources", "lambda", "blueprint"]

    def match(self, cfn):
        matches = []
        for lid, resource in cfn.get_resources().items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
                continue
            props = resource.get("Properties", {})
            logging = props.get("LoggingConfig", {})
            if not isinstance(logging, dict) or logging.get("LogFormat") != "JSON":
                continue
            path = ["Resources", lid, "Properties", "LoggingConfig"]
            for key in ("ApplicationLogLevel", "SystemLogLevel"):
                if key not in logging:
                    matches.append(RuleMatch(path, f"{lid}: JSON logs without {key}: Lambda filters at INFO"))
            variables = props.get("Environment", {}).get("Variables", {})
            wanted = variables.get("POWERTOOLS_LOG_LEVEL") if isinstance(variables, dict) else None
            level = logging.get("ApplicationLogLevel")
            if isinstance(wanted, str) and isinstance(level, str) and LAMBDA_NAME.get(wanted.upper()) != level:
                matches.append(RuleMatch(path + ["ApplicationLogLevel"], (
                    f"{lid}: ApplicationLogLevel {level} but POWERTOOLS_LOG_LEVEL {wanted}: Powertools "
                    f"follows Lambda's level (set {LAMBDA_NAME.get(wanted.upper(), '?')})")))
        return matches
