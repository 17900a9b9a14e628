"""Email-template routes: template types (metadata) and global variables."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.http import ApiRouter, VersionQuery, actor_of, created, expected_version, with_if_match
from riveredge.i18n import first_language
from riveredge.mail_templates import Category
from riveredge.mail_templates.global_variables import GlobalVariable

from email_templates import service
from email_templates.models import (
    CreateGlobalVariableRequest,
    GlobalVariableListResponse,
    GlobalVariableResponse,
    TemplateDefaultResponse,
    TemplateTypeDetailResponse,
    TemplateTypeListResponse,
    TemplateTypeResponse,
    UpdateGlobalVariableRequest,
)

router = ApiRouter("email_templates")
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
Lang = Annotated[str | None, Query(pattern=LANGUAGE, description="Texts in this language (default: Accept-Language)")]


def _language(asked: str | None) -> str | None:
    headers = {k.lower(): v for k, v in (router.current_event.headers or {}).items()}
    return asked or first_language(headers.get("accept-language"))


@router.get(
    "/api/email-templates/metadata",
    permission="template.view",
    permission_name="View mail templates",
    summary="Every template type: what it is for, when it is sent, its typed variables (by order, then code)",
)
def list_metadata(category: Annotated[Category | None, Query()] = None, lang: Lang = None) -> TemplateTypeListResponse:
    language = _language(lang)
    return TemplateTypeListResponse(
        items=[TemplateTypeResponse.of(t, language) for t in service.template_types(category)]
    )


@router.get(
    "/api/email-templates/metadata/<code>",
    permission="template.view",
    summary="One template type, with its shipped default subject, HTML and text body in the asked-for language",
)
def get_metadata(code: str, lang: Lang = None) -> TemplateTypeDetailResponse:
    language = _language(lang)
    kind = service.template_type(code)
    body = kind.default(language)
    default = None
    if body is not None:
        chosen = next(k for k, v in kind.defaults.items() if v is body)
        default = TemplateDefaultResponse(
            language=chosen, subject=body.subject, html_body=body.html, text_body=body.text
        )
    return TemplateTypeDetailResponse(**TemplateTypeResponse.of(kind, language).model_dump(), default=default)


@router.get(
    "/api/email-templates/global-variables",
    permission="template.view",
    summary="The variables every template may use, with their values now (static, config or dynamic)",
)
def list_global_variables(lang: Lang = None) -> GlobalVariableListResponse:
    language = _language(lang)
    found = service.global_variables(actor_of(router))
    return GlobalVariableListResponse(items=[GlobalVariableResponse.of(v, value, language) for v, value in found])


def _answer(variable: GlobalVariable) -> GlobalVariableResponse:
    found, value = service.valued(actor_of(router), variable)
    return GlobalVariableResponse.of(found, value, _language(None))


@router.post(
    "/api/email-templates/global-variables",
    permission="template.edit",
    permission_name="Edit mail templates and their variables",
    status_code=201,
    summary="Add a static global variable of the organisation's own",
    responses={201: {"description": "Created", "content": {"application/json": {"model": GlobalVariableResponse}}}},
)
def create_global_variable(body: CreateGlobalVariableRequest) -> Response[dict[str, Any]]:
    variable = service.create(actor_of(router), body)
    return created(_answer(variable), f"/api/email-templates/global-variables/{variable.key}")


@router.put(
    "/api/email-templates/global-variables/<key>",
    permission="template.edit",
    summary="Set a static variable's value (a built-in one such as support_email, or one of the organisation's)",
)
def update_global_variable(key: str, body: UpdateGlobalVariableRequest) -> GlobalVariableResponse:
    variable = service.update(actor_of(router), key, with_if_match(router, body))
    return _answer(variable)


@router.delete(
    "/api/email-templates/global-variables/<key>",
    permission="template.edit",
    status_code=204,
    summary="Delete a global variable of the organisation's own (built-in ones cannot be)",
    responses={204: {"description": "Deleted"}},
)
def delete_global_variable(key: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), key, expected_version(router, version))
    return Response(status_code=204, body="")
