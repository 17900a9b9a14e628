"""Email-template routes: template types (metadata), global variables, and the organisation's templates
(versions, rollback, reset, preview and test send)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.clock import iso
from riveredge.db.mail_templates import EmailTemplate, EmailTemplateVersion
from riveredge.errors import NotFoundError
from riveredge.http import (
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
from riveredge.mail_templates import Category, store
from riveredge.mail_templates.global_variables import GlobalVariable
from riveredge.schemas import stored_fields

from email_templates import service
from email_templates.models import (
    LANGUAGE,
    CreateEmailTemplateRequest,
    CreateGlobalVariableRequest,
    DefaultPreviewRequest,
    DefaultTestSendRequest,
    GlobalVariableListResponse,
    GlobalVariableResponse,
    PreviewRequest,
    PreviewResponse,
    ResetRequest,
    RollbackRequest,
    TemplateDefaultResponse,
    TemplateListResponse,
    TemplateResponse,
    TemplateSummaryResponse,
    TemplateTypeDetailResponse,
    TemplateTypeListResponse,
    TemplateTypeResponse,
    TemplateVariableResponse,
    TestSendRequest,
    TestSendResponse,
    UpdateEmailTemplateRequest,
    UpdateGlobalVariableRequest,
    VersionListResponse,
    VersionResponse,
    VersionSummaryResponse,
)

router = ApiRouter("email_templates")
Lang = Annotated[str | None, Query(pattern=LANGUAGE, description="Texts in this language (default: Accept-Language)")]


def _language(asked: str | None) -> str | None:
    return requested_language(router, asked)


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
    responses=created_as(GlobalVariableResponse),
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
    responses=DELETED,
)
def delete_global_variable(key: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), key, expected_version(router, version))
    return no_content()


# -- templates ---------------------------------------------------------------------------------

PATH = "/api/email-templates"
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def _summary_fields(item: EmailTemplate) -> dict[str, Any]:
    return {
        **stored_fields(item, item.template_id),
        "code": item.code,
        "language": item.language,
        "name": item.name,
        "category": item.category,
        "description": item.description,
        "is_active": bool(item.is_active),
        "is_system": bool(item.is_system),
        "html_bytes": int(item.html_bytes or 0),
        "text_bytes": int(item.text_bytes or 0),
        "created_by": item.created_by,
        "updated_by": item.updated_by,
    }


def _template(item: EmailTemplate, content: store.Content) -> TemplateResponse:
    language = _language(None)
    return TemplateResponse(
        **_summary_fields(item),
        variables=[TemplateVariableResponse.of(v, language) for v in service.effective_variables(item)],
        subject=content.body.subject,
        html_body=content.body.html,
        text_body=content.body.text,
    )


def _version_fields(item: EmailTemplateVersion) -> dict[str, Any]:
    return {
        "template_id": item.template_id,
        "version": int(item.number),
        "action": item.action,
        "source_version": None if item.source_version is None else int(item.source_version),
        "name": item.name,
        "is_active": bool(item.is_active),
        "created_at": iso(item.created_at) if item.created_at else "",
        "created_by": item.created_by,
    }


@router.get(
    PATH,
    permission="template.view",
    summary="The organisation's templates (overrides of system types and its own codes), oldest first",
)
def list_templates(
    code: Annotated[str | None, Query(max_length=50)] = None,
    category: Annotated[Category | None, Query()] = None,
    language: Annotated[str | None, Query(pattern=LANGUAGE, max_length=35)] = None,
    is_active: Annotated[bool | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TemplateListResponse:
    items, next_cursor = service.list_templates(
        actor_of(router),
        code=code,
        category=category,
        language=language,
        is_active=is_active,
        limit=limit,
        cursor=cursor,
    )
    return TemplateListResponse(
        items=[TemplateSummaryResponse(**_summary_fields(i)) for i in items], next_cursor=next_cursor
    )


@router.post(
    PATH,
    permission="template.create",
    permission_name="Create mail templates",
    status_code=201,
    summary="A template of a code in a language: a system type's (overrides its default) or an own code's",
    responses=created_as(TemplateResponse),
)
def create_template(body: CreateEmailTemplateRequest) -> Response[dict[str, Any]]:
    item, content = service.create_template(actor_of(router), body)
    return created(_template(item, content), f"{PATH}/{item.template_id}")


@router.get(f"{PATH}/<template_id>", permission="template.view", summary="One template with its current version")
def get_template(template_id: str) -> TemplateResponse:
    return _template(*service.get_template(actor_of(router), template_id))


@router.put(
    f"{PATH}/<template_id>",
    permission="template.edit",
    summary="Change a template: every save is a new version (the bodies are checked before it is stored)",
)
def update_template(template_id: str, body: UpdateEmailTemplateRequest) -> TemplateResponse:
    return _template(*service.update_template(actor_of(router), template_id, with_if_match(router, body)))


@router.delete(
    f"{PATH}/<template_id>",
    permission="template.delete",
    permission_name="Delete mail templates",
    status_code=204,
    summary="Delete a template of an own code (a system type's cannot be deleted: reset it)",
    responses=DELETED,
)
def delete_template(template_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_template(actor_of(router), template_id, expected_version(router, version))
    return no_content()


@router.get(
    f"{PATH}/<template_id>/versions",
    permission="template.view",
    summary="A template's versions, newest first (without their bodies)",
)
def list_versions(template_id: str, limit: Limit = 50, cursor: Cursor = None) -> VersionListResponse:
    items, next_cursor = service.versions(actor_of(router), template_id, limit, cursor)
    return VersionListResponse(
        items=[VersionSummaryResponse(**_version_fields(v)) for v in items], next_cursor=next_cursor
    )


@router.get(
    f"{PATH}/<template_id>/versions/<number>",
    permission="template.view",
    summary="One version of a template, with its bodies as they were saved",
)
def get_version(template_id: str, number: str) -> VersionResponse:
    if not number.isdigit() or len(number) > 8:
        raise NotFoundError(f"the template has no version {number[:20]}")
    template, item = service.version(actor_of(router), template_id, int(number))
    language = _language(None)
    variables = store.variables_for(template.code, store.variables_of(item.variables))
    return VersionResponse(
        **_version_fields(item),
        category=item.category,  # type: ignore[arg-type]  # checked when it was saved
        description=item.description,
        variables=[TemplateVariableResponse.of(v, language) for v in variables],
        subject=item.subject,
        html_body=item.html_body,
        text_body=item.text_body or "",
    )


@router.post(
    f"{PATH}/<template_id>/rollback",
    permission="template.edit",
    versioned=True,
    summary="A new version with the content of an earlier one (whether the template is active stays)",
)
def rollback_template(template_id: str, body: RollbackRequest) -> TemplateResponse:
    return _template(*service.rollback(actor_of(router), template_id, with_if_match(router, body)))


@router.post(
    f"{PATH}/<template_id>/reset",
    permission="template.edit",
    versioned=True,
    summary="A system type's template back to its shipped default (a new version)",
)
def reset_template(template_id: str, body: ResetRequest | None = None) -> TemplateResponse:
    request = with_if_match(router, body or ResetRequest())
    return _template(*service.reset(actor_of(router), template_id, request))


@router.post(
    f"{PATH}/<template_id>/preview",
    permission="template.view",
    summary="Render the template (or an unsaved draft of its parts) with its examples under the values sent",
)
def preview_template(template_id: str, body: PreviewRequest | None = None) -> PreviewResponse:
    item, (subject, html, text) = service.preview(actor_of(router), template_id, body or PreviewRequest())
    return PreviewResponse(
        code=item.code,
        language=item.language,
        template_id=item.template_id,
        version=int(item.version or 0),
        subject=subject,
        html=html,
        text=text,
    )


def _accepted(answer: TestSendResponse) -> Response[dict[str, Any]]:
    return Response(
        status_code=202,
        content_type="application/json",
        body=answer.model_dump(mode="json"),
        headers={"Location": f"/api/mail-logs/{answer.delivery_id}"},
    )


_QUEUED = {202: {"description": "Queued", "content": {"application/json": {"model": TestSendResponse}}}}


@router.post(
    f"{PATH}/<template_id>/test",
    permission="template.edit",
    status_code=202,
    summary="Queue the rendered template to the caller (or, with mail.send, another address), marked as a test",
    responses=_QUEUED,
)
def send_test(template_id: str, body: TestSendRequest | None = None) -> Response[dict[str, Any]]:
    delivery_id, to, item, subject = service.send_test(actor_of(router), template_id, body or TestSendRequest())
    answer = TestSendResponse(
        delivery_id=delivery_id, to=to, template_id=item.template_id, version=int(item.version or 0), subject=subject
    )
    return _accepted(answer)


@router.post(
    "/api/email-templates/metadata/<code>/preview",
    permission="template.view",
    summary="Render a system type's shipped default (or a draft of a new override) with its examples",
)
def preview_default(code: str, body: DefaultPreviewRequest | None = None) -> PreviewResponse:
    request = body or DefaultPreviewRequest()
    language, (subject, html, text) = service.preview_default(
        actor_of(router), code, request.language or _language(None), request
    )
    return PreviewResponse(
        code=code, language=language, template_id=None, version=None, subject=subject, html=html, text=text
    )


@router.post(
    "/api/email-templates/metadata/<code>/test",
    permission="template.edit",
    status_code=202,
    summary="Queue a system type's shipped default to the caller (or, with mail.send, another address) as a test",
    responses=_QUEUED,
)
def send_default_test(code: str, body: DefaultTestSendRequest | None = None) -> Response[dict[str, Any]]:
    request = body or DefaultTestSendRequest()
    delivery_id, to, _, subject = service.send_default_test(
        actor_of(router), code, request.language or _language(None), request
    )
    return _accepted(TestSendResponse(delivery_id=delivery_id, to=to, template_id=None, version=None, subject=subject))
