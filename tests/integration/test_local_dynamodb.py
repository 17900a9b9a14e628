"""The local stack's DynamoDB: transactions and queries cost per item touched, and answer as moto does."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from riveredge.scope import tenant_scope, use_scope
from ulid import ULID

from local_stack.stack import ACCOUNT_ID, REGION, LocalStack

STORED = 10_000


@pytest.fixture(scope="module")
def bulk_tenant(stack: LocalStack) -> str:
    """A tenant of its own with 10,000 items stored in the table (written straight into moto)."""
    tenant_id = str(ULID())
    prefix = f"T#{tenant_id}#"
    backend = dynamodb_backends[ACCOUNT_ID][REGION]
    table = stack.environment["TABLE_NAME"]
    for n in range(STORED):
        backend.put_item(
            table,
            {
                "pk": {"S": f"{prefix}BULK"},
                "sk": {"S": f"{n:05d}"},
                "gsi1pk": {"S": f"{prefix}BULK_BY#{n % 10}"},
                "gsi1sk": {"S": f"{n:05d}"},
                "payload": {"S": "x" * 200},
            },
        )
    return tenant_id


@pytest.fixture
def bulk(bulk_tenant: str) -> Iterator[str]:
    """The bulk tenant's key prefix, with its scope set (the tenant guard checks these requests too)."""
    with use_scope(tenant_scope(bulk_tenant)):
        yield f"T#{bulk_tenant}#"


@pytest.fixture
def client() -> Any:
    return boto3.session.Session().client("dynamodb", region_name=REGION)


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every stored item moto deep-copies (the server runs in this process)."""
    counted = [0]

    def counting_deepcopy(self: Item, memo: dict[int, Any]) -> Item:
        counted[0] += 1
        new = Item.__new__(Item)
        memo[id(self)] = new
        for name, value in self.__dict__.items():
            setattr(new, name, copy.deepcopy(value, memo))
        return new

    monkeypatch.setattr(Item, "__deepcopy__", counting_deepcopy, raising=False)
    return counted


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the times moto lists every item of a table (what a query on moto 5.2.5 does by itself)."""
    counted = [0]
    every_item = Table.all_items

    def counting(self: Table) -> list[Item]:
        counted[0] += 1
        return every_item(self)

    monkeypatch.setattr(Table, "all_items", counting)
    return counted


def _put(prefix: str, sk: str, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": f"{prefix}BULK"}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}


def _key(prefix: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": f"{prefix}BULK"}, "sk": {"S": sk}}


def test_a_transaction_on_a_table_of_10000_items_copies_only_the_items_it_names(
    stack: LocalStack, bulk: str, client: Any, copies: list[int]
) -> None:
    table = stack.environment["TABLE_NAME"]
    # When a transaction writes three items of a table holding 10,000 more
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _put(bulk, "new-1")}},
            {
                "Update": {
                    "TableName": table,
                    "Key": _key(bulk, "00001"),
                    "UpdateExpression": "SET payload = :p",
                    "ExpressionAttributeValues": {":p": {"S": "changed"}},
                }
            },
            {"Delete": {"TableName": table, "Key": _key(bulk, "00002")}},
        ]
    )
    # Then no more items were copied than the three it names
    assert copies[0] <= 3
    assert client.get_item(TableName=table, Key=_key(bulk, "00001"))["Item"]["payload"]["S"] == "changed"
    assert "Item" not in client.get_item(TableName=table, Key=_key(bulk, "00002"))


def test_a_cancelled_transaction_undoes_its_writes_and_names_the_failed_condition(
    stack: LocalStack, bulk: str, client: Any
) -> None:
    table = stack.environment["TABLE_NAME"]
    # When a transaction puts one item, changes another, and then fails a condition on a third
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _put(bulk, "never")}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key(bulk, "00003"),
                        "UpdateExpression": "SET gsi1pk = :g",
                        "ExpressionAttributeValues": {":g": {"S": f"{bulk}BULK_BY#moved"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": _key(bulk, "00004"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    # Then it is cancelled with moto's reasons, one per item, and nothing it wrote is left
    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None", "None", "ConditionalCheckFailed"]
    assert "Item" not in client.get_item(TableName=table, Key=_key(bulk, "never"))
    assert client.get_item(TableName=table, Key=_key(bulk, "00003"))["Item"]["gsi1pk"]["S"] == f"{bulk}BULK_BY#3"
    # And the index does not show the undone change
    moved = client.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :g",
        ExpressionAttributeValues={":g": {"S": f"{bulk}BULK_BY#moved"}},
    )
    assert moved["Items"] == []


def test_the_same_item_twice_in_a_transaction_is_refused(stack: LocalStack, bulk: str, client: Any) -> None:
    table = stack.environment["TABLE_NAME"]
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _put(bulk, "twice")}},
                {"Delete": {"TableName": table, "Key": _key(bulk, "twice")}},
            ]
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Item" not in client.get_item(TableName=table, Key=_key(bulk, "twice"))


def test_queries_read_their_partition_and_index_key_without_walking_the_table(
    stack: LocalStack, bulk: str, client: Any, walks: list[int]
) -> None:
    table = stack.environment["TABLE_NAME"]
    # When one page of the bulk partition, and one page of an index key, are read
    page = client.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues={":p": {"S": f"{bulk}BULK"}, ":s": {"S": "001"}},
        Limit=5,
    )
    by_index = client.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :g",
        ExpressionAttributeValues={":g": {"S": f"{bulk}BULK_BY#7"}},
        Limit=3,
    )
    # Then they answer what moto answers: in key order, paged
    assert [i["sk"]["S"] for i in page["Items"]] == ["00100", "00101", "00102", "00103", "00104"]
    assert "LastEvaluatedKey" in page
    assert [i["gsi1sk"]["S"] for i in by_index["Items"]] == ["00007", "00017", "00027"]
    # And neither walked the 10,000 items of the table
    assert walks[0] == 0


def test_the_index_follows_puts_updates_and_deletes(stack: LocalStack, bulk: str, client: Any) -> None:
    table = stack.environment["TABLE_NAME"]

    def on_index(value: str) -> list[str]:
        answer = client.query(
            TableName=table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues={":g": {"S": f"{bulk}{value}"}},
        )
        return [i["sk"]["S"] for i in answer["Items"]]

    # Given an item on index key A
    client.put_item(TableName=table, Item=_put(bulk, "moving", gsi1pk=f"{bulk}A", gsi1sk="1"))
    assert on_index("A") == ["moving"]
    # When it moves to B, it is on B only
    client.update_item(
        TableName=table,
        Key=_key(bulk, "moving"),
        UpdateExpression="SET gsi1pk = :b",
        ExpressionAttributeValues={":b": {"S": f"{bulk}B"}},
    )
    assert (on_index("A"), on_index("B")) == ([], ["moving"])
    # When it loses its index key, it is on no index key
    client.update_item(TableName=table, Key=_key(bulk, "moving"), UpdateExpression="REMOVE gsi1pk")
    assert on_index("B") == []
    # When it is put back on A and then deleted (in a batch), it is gone from A
    client.put_item(TableName=table, Item=_put(bulk, "moving", gsi1pk=f"{bulk}A", gsi1sk="1"))
    assert on_index("A") == ["moving"]
    client.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": _key(bulk, "moving")}}]})
    assert on_index("A") == []


def test_answered_queries_leave_nothing_behind_in_moto(stack: LocalStack, bulk: str, client: Any) -> None:
    # Given moto's list of every Item object it made (its dashboard's; moto never empties it)
    table = stack.environment["TABLE_NAME"]
    tracked = len(Item.instances_tracked)  # type: ignore[attr-defined]
    # When 20 queries each answer 50 items (moto copies every item it answers)
    for _ in range(20):
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"{bulk}BULK"}},
            Limit=50,
        )
    # Then none of those copies is kept
    assert len(Item.instances_tracked) == tracked  # type: ignore[attr-defined]
