"""AWS clients, created once per container and only when first used.

Clients come straight from botocore (the layer never needs boto3's resources,
and importing boto3 adds ~15 ms to a cold start). The DynamoDB tenant guard
(riveredge.guard) is installed before any client exists, so every DynamoDB
client built here or by a library is guarded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

import botocore.session
from botocore.config import Config

import riveredge.guard  # noqa: F401  (installs the guard before the first client)

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def _client(name: str) -> Any:
    return _session().create_client(name, config=_CONFIG)


@lru_cache(maxsize=1)
def dynamodb() -> DynamoDBClient:
    return _client("dynamodb")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def kms() -> KMSClient:
    return _client("kms")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def events() -> EventBridgeClient:
    return _client("events")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def sesv2() -> SESV2Client:
    return _client("sesv2")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def sqs() -> SQSClient:
    return _client("sqs")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def stepfunctions() -> SFNClient:
    return _client("stepfunctions")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def secretsmanager() -> SecretsManagerClient:
    return _client("secretsmanager")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def sns() -> SNSClient:
    return _client("sns")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def scheduler() -> EventBridgeSchedulerClient:
    return _client("scheduler")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def s3() -> S3Client:
    # SigV4 for presigned URLs and POST policies (botocore would otherwise presign with the legacy SigV2)
    return cast("S3Client", _session().create_client("s3", config=_CONFIG.merge(Config(signature_version="s3v4"))))


@lru_cache(maxsize=4)
def apigateway_management(endpoint_url: str) -> ApiGatewayManagementApiClient:
    """The management API of a WebSocket API stage (post to, close connections): its endpoint is the stage's."""
    client = _session().create_client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=_CONFIG)
    return cast("ApiGatewayManagementApiClient", client)


def reset_clients() -> None:
    """Forget every cached client (the local stack and tests call this when endpoints change)."""
    for getter in (
        dynamodb,
        kms,
        events,
        sesv2,
        sqs,
        stepfunctions,
        secretsmanager,
        s3,
        apigateway_management,
        sns,
        scheduler,
        _session,
    ):
        getter.cache_clear()
