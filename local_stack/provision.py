"""Create in moto every resource template.yaml declares, in dependency order."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

from local_stack.event_sources import Mapping
from local_stack.lambdas import FunctionRegistry, LocalFunction
from local_stack.template import Resolver, merged_function_properties
from local_stack.worker import FunctionSpec

LAMBDA_ROLE = "riveredge-local-lambda"
ORDER = [
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::Events::EventBus",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SES::EmailIdentity",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::ConfigurationSetEventDestination",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::IAM::Role",
    "AWS::SNS::Topic",
    "AWS::CloudWatch::Alarm",
    "AWS::Logs::LogGroup",
    "AWS::Serverless::LayerVersion",
    "AWS::ApiGatewayV2::Api",
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::Serverless::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::RouteResponse",
    "AWS::ApiGatewayV2::Stage",
    "AWS::Lambda::Permission",
]


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "runs in-process in the local stack")
    return buffer.getvalue()


class Provisioner:
    """Turns the template's resources into moto resources and records their physical ids."""

    def __init__(self, template: dict[str, Any], resolver: Resolver, registry: FunctionRegistry) -> None:
        self.template = template
        self.resolver = resolver
        self.registry = registry
        self.region = resolver.region
        self.account = resolver.account_id
        self.mappings: list[Mapping] = []

    def client(self, name: str) -> Any:
        return boto3.client(name, region_name=self.region)  # type: ignore[call-overload]

    def run(self) -> None:
        resources = self.template["Resources"]
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Service": ["lambda.amazonaws.com", "states.amazonaws.com", "scheduler.amazonaws.com"]
                    },
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        self.role_arn = iam.create_role(RoleName=LAMBDA_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        for kind in ORDER:
            chosen = [(i, r) for i, r in resources.items() if r["Type"] == kind]
            if kind == "AWS::SQS::Queue":  # dead-letter queues first: a redrive policy names one
                chosen.sort(key=lambda pair: "RedrivePolicy" in pair[1].get("Properties", {}))
            for logical_id, resource in chosen:
                getattr(self, "_" + kind.split("::", 1)[1].replace("::", "_").lower())(logical_id, resource)
            if kind == "AWS::Serverless::StateMachine":
                for logical_id, resource in resources.items():
                    if resource["Type"] == "AWS::Serverless::Function":
                        self._function_events(logical_id, resource)
        unknown = {r["Type"] for r in resources.values()} - set(ORDER)
        if unknown:
            raise NotImplementedError(f"the local stack cannot create {sorted(unknown)}")

    def props(self, resource: dict[str, Any]) -> dict[str, Any]:
        return self.resolver.resolve(resource.get("Properties", {}))  # type: ignore[no-any-return]

    # -- resources ---------------------------------------------------------------------
    def _kms_key(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        meta = self.client("kms").create_key(
            KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            Description=props.get("Description", logical_id),
        )["KeyMetadata"]
        self.resolver.refs[logical_id] = meta["KeyId"]
        self.resolver.attributes[(logical_id, "Arn")] = meta["Arn"]

    def _secretsmanager_secret(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        client = self.client("secretsmanager")
        generate = props.get("GenerateSecretString", {})
        value = client.get_random_password(
            PasswordLength=int(generate.get("PasswordLength", 32)),
            ExcludePunctuation=bool(generate.get("ExcludePunctuation", False)),
        )["RandomPassword"]
        arn = client.create_secret(Name=props["Name"], SecretString=value)["ARN"]
        self.resolver.refs[logical_id] = arn

    def _events_eventbus(self, logical_id: str, resource: dict[str, Any]) -> None:
        name = self.props(resource)["Name"]
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = arn
        self.resolver.attributes[(logical_id, "Name")] = name

    def _dynamodb_table(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        client = self.client("dynamodb")
        args: dict[str, Any] = {
            "TableName": props["TableName"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = client.create_table(**args)["TableDescription"]
        if props.get("TimeToLiveSpecification"):
            client.update_time_to_live(
                TableName=props["TableName"], TimeToLiveSpecification=props["TimeToLiveSpecification"]
            )
        self.resolver.refs[logical_id] = props["TableName"]
        self.resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
        if description.get("LatestStreamArn"):
            self.resolver.attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]

    def _s3_bucket(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        name = props["BucketName"]
        client = self.client("s3")
        client.create_bucket(Bucket=name)
        if "PublicAccessBlockConfiguration" in props:
            client.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if props.get("VersioningConfiguration"):
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"

    def _ses_emailidentity(self, logical_id: str, resource: dict[str, Any]) -> None:
        identity = self.props(resource)["EmailIdentity"]
        self.client("sesv2").create_email_identity(EmailIdentity=identity)
        self.resolver.refs[logical_id] = identity

    def _ses_configurationset(self, logical_id: str, resource: dict[str, Any]) -> None:
        name = self.props(resource)["Name"]
        self.client("sesv2").create_configuration_set(ConfigurationSetName=name)
        self.resolver.refs[logical_id] = name

    def _ses_configurationseteventdestination(self, logical_id: str, resource: dict[str, Any]) -> None:
        # moto sends no bounces or complaints; tests put SES's events on the default bus themselves.
        self.resolver.refs[logical_id] = logical_id

    def _sqs_queue(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        attributes = {
            "VisibilityTimeout": str(props.get("VisibilityTimeout", 30)),
            "MessageRetentionPeriod": str(props.get("MessageRetentionPeriod", 345600)),
        }
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = self.client("sqs").create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        self.resolver.refs[logical_id] = url
        self.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{self.region}:{self.account}:{props['QueueName']}"
        self.resolver.attributes[(logical_id, "QueueName")] = props["QueueName"]
        self.resolver.attributes[(logical_id, "QueueUrl")] = url

    def _sqs_queuepolicy(self, logical_id: str, resource: dict[str, Any]) -> None:
        self.resolver.refs[logical_id] = logical_id  # IAM is not enforced locally

    def _iam_role(self, logical_id: str, resource: dict[str, Any]) -> None:
        """A role as a name and an ARN (IAM is not enforced locally: its policies are not created)."""
        properties = resource.get("Properties", {})
        trust = self.resolver.resolve(properties.get("AssumeRolePolicyDocument", {}))
        name = str(properties.get("RoleName") or f"riveredge-local-{logical_id}")
        arn = self.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = arn

    def _sns_topic(self, logical_id: str, resource: dict[str, Any]) -> None:
        arn = self.client("sns").create_topic(Name=self.props(resource)["TopicName"])["TopicArn"]
        self.resolver.refs[logical_id] = arn

    def _cloudwatch_alarm(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        self.client("cloudwatch").put_metric_alarm(
            **{
                k: v
                for k, v in props.items()
                if k
                in {
                    "AlarmName",
                    "AlarmDescription",
                    "Namespace",
                    "MetricName",
                    "Dimensions",
                    "Statistic",
                    "Period",
                    "EvaluationPeriods",
                    "Threshold",
                    "ComparisonOperator",
                    "TreatMissingData",
                    "AlarmActions",
                }
            }
        )
        self.resolver.refs[logical_id] = props["AlarmName"]

    def _logs_loggroup(self, logical_id: str, resource: dict[str, Any]) -> None:
        name = self.props(resource)["LogGroupName"]
        self.client("logs").create_log_group(logGroupName=name)
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*"

    def _serverless_layerversion(self, logical_id: str, resource: dict[str, Any]) -> None:
        # The layer's code is on sys.path already (layers/platform); nothing to create.
        self.resolver.refs[logical_id] = f"arn:aws:lambda:{self.region}:{self.account}:layer:{logical_id}:1"

    def _serverless_function(self, logical_id: str, resource: dict[str, Any]) -> None:
        raw = merged_function_properties(self.template, logical_id)
        name = self.resolver.resolve(raw.get("FunctionName") or logical_id)
        timeout = int(raw.get("Timeout", 3))
        memory = int(raw.get("MemorySize", 128))
        self.client("lambda").create_function(
            FunctionName=name,
            Runtime=raw.get("Runtime", "python3.13"),
            Role=self.role_arn,
            Handler=raw["Handler"],
            Code={"ZipFile": _empty_zip()},
            Timeout=timeout,
            MemorySize=memory,
        )
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = arn
        reserved = raw.get("ReservedConcurrentExecutions")
        spec = FunctionSpec(
            logical_id, name, arn, raw["Handler"], str(self.registry.code_dir(raw["CodeUri"])), memory, timeout
        )
        self.registry.add(LocalFunction(spec, int(self.resolver.resolve(reserved)) if reserved else None))

    def _serverless_statemachine(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = resource["Properties"]
        name = self.resolver.resolve(props.get("Name") or logical_id)
        definition = (self.registry.code_dir(props["DefinitionUri"])).read_text()
        substitutions = self.resolver.resolve(props.get("DefinitionSubstitutions", {}))
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", str(value))
        arn = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=self.role_arn, type=props.get("Type", "STANDARD")
        )["stateMachineArn"]
        self.resolver.refs[logical_id] = arn
        self.resolver.attributes[(logical_id, "Arn")] = arn
        self.resolver.attributes[(logical_id, "Name")] = name

    def _events_rule(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        client = self.client("events")
        name = props.get("Name", logical_id)
        bus = props.get("EventBusName", "default")
        client.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
        )
        client.put_targets(
            Rule=name,
            EventBusName=bus,
            Targets=[
                {k: v for k, v in t.items() if k in {"Id", "Arn", "Input", "InputPath"}}
                for t in props.get("Targets", [])
            ],
        )
        self.resolver.refs[logical_id] = name

    def _scheduler_schedule(self, logical_id: str, resource: dict[str, Any]) -> None:
        props = self.props(resource)
        name = props.get("Name", logical_id)
        self.client("scheduler").create_schedule(
            Name=name,
            ScheduleExpression=props["ScheduleExpression"],
            FlexibleTimeWindow=props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
            Target={
                "Arn": props["Target"]["Arn"],
                "RoleArn": props["Target"].get("RoleArn", self.role_arn),
                **({"Input": props["Target"]["Input"]} if "Input" in props["Target"] else {}),
            },
            State=props.get("State", "ENABLED"),
        )
        self.resolver.refs[logical_id] = name

    def _function_events(self, logical_id: str, resource: dict[str, Any]) -> None:
        """A function's non-API events: bus rules, queue and stream mappings, bucket notifications, schedules."""
        function = self.registry.get(logical_id)
        for event_name, event in (resource.get("Properties", {}).get("Events") or {}).items():
            kind = event["Type"]
            if kind == "Api":
                continue  # served by the local gateway
            props = self.resolver.resolve(event.get("Properties", {}))
            name = f"{logical_id}-{event_name}"
            if kind == "EventBridgeRule":
                bus = props.get("EventBusName", "default")
                events = self.client("events")
                events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(props["Pattern"]), State="ENABLED")
                events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "function", "Arn": function.arn}])
            elif kind in {"SQS", "DynamoDB"}:
                self.mappings.append(
                    Mapping(
                        name=name,
                        function=function,
                        kind=kind.lower(),
                        source_arn=props["Queue"] if kind == "SQS" else props["Stream"],
                        batch_size=int(props.get("BatchSize", 10 if kind == "SQS" else 100)),
                        report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                        filters=list((props.get("FilterCriteria") or {}).get("Filters") or []),
                        maximum_retries=int(props.get("MaximumRetryAttempts", -1)),
                        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                        on_failure_arn=((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                            "Destination"
                        ),
                        concurrency=int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 2))
                        if kind == "SQS"
                        else 1,
                    )
                )
            elif kind == "S3":
                kinds = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
                configuration: dict[str, Any] = {"LambdaFunctionArn": function.arn, "Events": kinds}
                rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
                if rules:  # CloudFormation's NotificationFilter, in the shape S3's API takes
                    configuration["Filter"] = {
                        "Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
                    }
                client = self.client("s3")
                existing = client.get_bucket_notification_configuration(Bucket=props["Bucket"])
                client.put_bucket_notification_configuration(
                    Bucket=props["Bucket"],
                    NotificationConfiguration={
                        "LambdaFunctionConfigurations": [
                            *existing.get("LambdaFunctionConfigurations", []),
                            configuration,
                        ]
                    },
                )
            elif kind == "ScheduleV2":
                self.client("scheduler").create_schedule(
                    Name=props.get("Name", name),
                    ScheduleExpression=props["ScheduleExpression"],
                    FlexibleTimeWindow={"Mode": "OFF"},
                    Target={
                        "Arn": function.arn,
                        "RoleArn": self.role_arn,
                        **({"Input": props["Input"]} if "Input" in props else {}),
                    },
                    State=props.get("State", "ENABLED"),
                )
            else:
                raise NotImplementedError(f"the local stack cannot run {kind} events ({name})")

    def _serverless_api(self, logical_id: str, resource: dict[str, Any]) -> None:
        # Served by the local gateway (local_stack.gateway), not by moto.
        self.resolver.refs[logical_id] = "local"

    # The WebSocket API is served by local_stack.websocket (a real WebSocket server running the handlers), not by
    # moto; its resources only need ids here. Lambda permissions are not enforced locally.
    def _apigatewayv2_api(self, logical_id: str, resource: dict[str, Any]) -> None:
        self.resolver.refs[logical_id] = "localws"

    def _apigatewayv2_integration(self, logical_id: str, resource: dict[str, Any]) -> None:
        self.resolver.refs[logical_id] = logical_id

    def _apigatewayv2_route(self, logical_id: str, resource: dict[str, Any]) -> None:
        self.resolver.refs[logical_id] = logical_id

    def _apigatewayv2_routeresponse(self, logical_id: str, resource: dict[str, Any]) -> None:
        self.resolver.refs[logical_id] = logical_id

    def _apigatewayv2_stage(self, logical_id: str, resource: dict[str, Any]) -> None:
        self.resolver.refs[logical_id] = str(self.props(resource)["StageName"])

    def _lambda_permission(self, logical_id: str, resource: dict[str, Any]) -> None:
        self.resolver.refs[logical_id] = logical_id

    def function_environments(self) -> dict[str, dict[str, str]]:
        """Each function's resolved environment (Globals merged), by logical id."""
        found: dict[str, dict[str, str]] = {}
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            variables = self.resolver.resolve(
                merged_function_properties(self.template, logical_id)["Environment"]["Variables"]
            )
            found[logical_id] = {key: str(value) for key, value in variables.items()}
        return found


def shared_environment(environments: dict[str, dict[str, str]]) -> dict[str, str]:
    """The variables no two functions disagree on (what code outside any function, such as a test, may read)."""
    merged: dict[str, str] = {}
    conflicting: set[str] = set()
    for variables in environments.values():
        for key, value in variables.items():
            if key in merged and merged[key] != value:
                conflicting.add(key)
            merged.setdefault(key, value)
    return {key: value for key, value in merged.items() if key not in conflicting}
