"""Custom-field routes."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.custom_fields import ENTITIES
from riveredge.http import (
    AUTHENTICATED,
    DELETED,
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

from custom_fields import service
from custom_fields.models import (
    ENTITY_PATTERN,
    CreateCustomFieldRequest,
    CustomFieldEntity,
    CustomFieldListResponse,
    CustomFieldResponse,
    CustomFieldSchemaResponse,
    UpdateCustomFieldRequest,
)

router = ApiRouter("custom_fields")
FIELD = "<field_id>"
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


@router.get(
    "/api/custom-fields",
    permission="custom_field.view",
    permission_name="View custom fields",
    summary="The custom fields of every entity type (or of one), by order then key, switched-off ones included",
)
def list_fields(
    entity: Annotated[str | None, Query(pattern=ENTITY_PATTERN, description="Only this entity type's")] = None,
) -> CustomFieldListResponse:
    found = service.list_fields(actor_of(router), entity)
    return CustomFieldListResponse(
        items=[CustomFieldResponse.of(d) for d in found],
        entities=[CustomFieldEntity(code=code, name=name) for code, name in ENTITIES.items()],
    )


@router.post(
    "/api/custom-fields",
    permission="custom_field.create",
    permission_name="Create custom fields",
    status_code=201,
    summary="Define a custom field of an entity type (its entity, key and type never change)",
    responses=created_as(CustomFieldResponse),
)
def create_field(body: CreateCustomFieldRequest) -> Response[dict[str, Any]]:
    found = CustomFieldResponse.of(service.create(actor_of(router), body))
    return created(found, f"/api/custom-fields/{found.id}")


@router.get(
    f"/api/custom-fields/{FIELD}", permission="custom_field.view", summary="One custom field (`<entity>.<key>`)"
)
def get_field(field_id: str) -> CustomFieldResponse:
    return CustomFieldResponse.of(service.get(actor_of(router), field_id))


@router.put(
    f"/api/custom-fields/{FIELD}",
    permission="custom_field.edit",
    permission_name="Edit custom fields",
    summary="Change a custom field's label, rules, default, options, order or switch (applies to later writes)",
)
def update_field(field_id: str, body: UpdateCustomFieldRequest) -> CustomFieldResponse:
    actor = actor_of(router)
    return CustomFieldResponse.of(service.update(actor, field_id, with_if_match(router, body)))


@router.delete(
    f"/api/custom-fields/{FIELD}",
    permission="custom_field.delete",
    permission_name="Delete custom fields",
    status_code=204,
    summary="Delete a custom field; values stored on entities stay untouched and are no longer shown",
    responses=DELETED,
)
def delete_field(field_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), field_id, expected_version(router, version))
    return no_content()


@router.get(
    "/api/custom-fields/<entity>/schema",
    permission=AUTHENTICATED,
    summary="JSON Schema and Formily schema of an entity type's enabled custom fields, for dynamic forms",
)
def get_schema(
    entity: str,
    lang: Annotated[
        str | None, Query(pattern=LANGUAGE, description="Option labels in this language (default: Accept-Language)")
    ] = None,
) -> CustomFieldSchemaResponse:
    language = requested_language(router, lang)
    json_schema, formily = service.schemas(actor_of(router), entity, language)
    return CustomFieldSchemaResponse(entity=entity, json_schema=json_schema, formily=formily)
