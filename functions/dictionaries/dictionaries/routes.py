"""Dictionary and parameter routes."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.http import (
    AUTHENTICATED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    requested_language,
    with_if_match,
)

from dictionaries import service
from dictionaries.models import (
    BatchUpdateRequest,
    CreateDictionaryRequest,
    CreateItemRequest,
    CreateParameterRequest,
    DictionaryListResponse,
    DictionaryResponse,
    ItemListResponse,
    ItemResponse,
    ParameterDocument,
    ParameterImportResponse,
    ParameterListResponse,
    ParameterResponse,
    UpdateDictionaryRequest,
    UpdateItemRequest,
    UpdateParameterRequest,
)

dictionaries_router = ApiRouter("dictionaries")
parameters_router = ApiRouter("parameters")
TYPE, ITEM, KEY = "<type_code>", "<item_code>", "<key>"
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def _language(asked: str | None) -> str | None:
    return requested_language(dictionaries_router, asked)


# -- dictionaries -----------------------------------------------------------------------
@dictionaries_router.get(
    "/api/dictionaries",
    permission="dictionary.view",
    permission_name="View data dictionaries",
    summary="Every dictionary type: the system ones, then the organisation's own",
)
def list_dictionaries() -> DictionaryListResponse:
    kinds = service.list_types(actor_of(dictionaries_router))
    return DictionaryListResponse(items=[DictionaryResponse.of(k) for k in kinds])


@dictionaries_router.post(
    "/api/dictionaries",
    permission="dictionary.create",
    permission_name="Create data dictionaries",
    status_code=201,
    summary="Create a dictionary type (its code never changes)",
    responses=created_as(DictionaryResponse),
)
def create_dictionary(body: CreateDictionaryRequest) -> Response[dict[str, Any]]:
    kind = DictionaryResponse.of(service.create_type(actor_of(dictionaries_router), body))
    return created(kind, f"/api/dictionaries/{kind.code}")


@dictionaries_router.get(f"/api/dictionaries/{TYPE}", permission="dictionary.view", summary="One dictionary type")
def get_dictionary(type_code: str) -> DictionaryResponse:
    return DictionaryResponse.of(service.get_type(actor_of(dictionaries_router), type_code))


@dictionaries_router.put(
    f"/api/dictionaries/{TYPE}",
    permission="dictionary.edit",
    permission_name="Edit data dictionaries and their items",
    summary="Rename a dictionary type, describe it, switch it on or off (not a system one)",
)
def update_dictionary(type_code: str, body: UpdateDictionaryRequest) -> DictionaryResponse:
    actor = actor_of(dictionaries_router)
    return DictionaryResponse.of(service.update_type(actor, type_code, with_if_match(dictionaries_router, body)))


@dictionaries_router.delete(
    f"/api/dictionaries/{TYPE}",
    permission="dictionary.delete",
    permission_name="Delete data dictionaries",
    status_code=204,
    summary="Delete a dictionary type that has no items left (not a system one)",
)
def delete_dictionary(type_code: str, version: VersionQuery = None) -> Response[str]:
    actor = actor_of(dictionaries_router)
    service.delete_type(actor, type_code, expected_version(dictionaries_router, version))
    return no_content()


@dictionaries_router.get(
    f"/api/dictionaries/{TYPE}/items",
    permission=AUTHENTICATED,
    summary="A dictionary's items for a form, by order (every signed-in member may read them; served from cache)",
)
def list_items(
    type_code: str,
    lang: Annotated[
        str | None, Query(pattern=LANGUAGE, description="Labels in this language (default: Accept-Language)")
    ] = None,
    parent: Annotated[
        str | None, Query(max_length=64, description="Only the items under this one ('' for the top level)")
    ] = None,
    include_disabled: Annotated[bool, Query(description="Disabled items too (for the editor)")] = False,
) -> ItemListResponse:
    language = _language(lang)
    entries = service.list_items(
        actor_of(dictionaries_router), type_code, language=language, parent=parent, enabled_only=not include_disabled
    )
    return ItemListResponse(type=type_code, language=language, items=[ItemResponse.of(e, language) for e in entries])


@dictionaries_router.post(
    f"/api/dictionaries/{TYPE}/items",
    permission="dictionary.edit",
    status_code=201,
    summary="Add an item to a dictionary (optionally under another item of it, for cascading lists)",
    responses=created_as(ItemResponse),
)
def create_item(type_code: str, body: CreateItemRequest) -> Response[dict[str, Any]]:
    item = ItemResponse.of(service.create_item(actor_of(dictionaries_router), type_code, body))
    return created(item, f"/api/dictionaries/{type_code}/items/{item.code}")


@dictionaries_router.put(
    f"/api/dictionaries/{TYPE}/items/{ITEM}",
    permission="dictionary.edit",
    summary="Change an item's label, value, order, translations, parent or whether it is enabled",
)
def update_item(type_code: str, item_code: str, body: UpdateItemRequest) -> ItemResponse:
    actor = actor_of(dictionaries_router)
    entry = service.update_item(actor, type_code, item_code, with_if_match(dictionaries_router, body))
    return ItemResponse.of(entry)


@dictionaries_router.delete(
    f"/api/dictionaries/{TYPE}/items/{ITEM}",
    permission="dictionary.edit",
    status_code=204,
    summary="Delete an item that no other item lies under",
)
def delete_item(type_code: str, item_code: str, version: VersionQuery = None) -> Response[str]:
    actor = actor_of(dictionaries_router)
    service.delete_item(actor, type_code, item_code, expected_version(dictionaries_router, version))
    return no_content()


# -- parameters -------------------------------------------------------------------------
@parameters_router.get(
    "/api/parameters",
    permission="parameter.view",
    permission_name="View system parameters",
    summary="Every system parameter by key (secret values masked)",
)
def list_parameters() -> ParameterListResponse:
    found = service.list_parameters(actor_of(parameters_router))
    return ParameterListResponse(items=[service.response(p) for p in found])


@parameters_router.post(
    "/api/parameters",
    permission="parameter.create",
    permission_name="Create system parameters",
    status_code=201,
    summary="Create a typed parameter (string, number, boolean or json with an optional JSON Schema)",
    responses=created_as(ParameterResponse),
)
def create_parameter(body: CreateParameterRequest) -> Response[dict[str, Any]]:
    parameter = service.response(service.create_parameter(actor_of(parameters_router), body))
    return created(parameter, f"/api/parameters/{parameter.key}")


@parameters_router.post(
    "/api/parameters/batch",
    permission="parameter.edit",
    permission_name="Change system parameters",
    summary="Set several parameters' values at once: all are saved, or none (each checked against its type; "
    "one changed by someone else since this request read it is a 412)",
)
def batch_update(body: BatchUpdateRequest) -> ParameterListResponse:
    found = service.batch_update(actor_of(parameters_router), body)
    return ParameterListResponse(items=[service.response(p) for p in found])


@parameters_router.get(
    "/api/parameters/export",
    permission="parameter.view",
    summary="Every parameter as an importable JSON document (secret values left out)",
)
def export_parameters() -> ParameterDocument:
    return service.export(actor_of(parameters_router))


@parameters_router.post(
    "/api/parameters/import",
    permission="parameter.import",
    permission_name="Import system parameters",
    summary="Create and update parameters from an exported document, in one transaction (all or nothing)",
)
def import_parameters(body: ParameterDocument) -> ParameterImportResponse:
    return service.import_document(actor_of(parameters_router), body)


@parameters_router.get(f"/api/parameters/{KEY}", permission="parameter.view", summary="One parameter")
def get_parameter(key: str) -> ParameterResponse:
    return service.response(service.get_parameter(actor_of(parameters_router), key))


@parameters_router.put(
    f"/api/parameters/{KEY}",
    permission="parameter.edit",
    summary="Change a parameter's value, description or schema (its type never changes)",
)
def update_parameter(key: str, body: UpdateParameterRequest) -> ParameterResponse:
    actor = actor_of(parameters_router)
    return service.response(service.update_parameter(actor, key, with_if_match(parameters_router, body)))


@parameters_router.delete(
    f"/api/parameters/{KEY}",
    permission="parameter.delete",
    permission_name="Delete system parameters",
    status_code=204,
    summary="Delete an editable parameter",
)
def delete_parameter(key: str, version: VersionQuery = None) -> Response[str]:
    service.delete_parameter(actor_of(parameters_router), key, expected_version(parameters_router, version))
    return no_content()
