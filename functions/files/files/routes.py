"""File-manager routes (thin: parse, call the service, answer): uploads, files, folders, usage and settings."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge import storage
from riveredge.http import (
    DELETED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)

from files import service
from files.models import (
    CompleteMultipartRequest,
    CreateFolderRequest,
    FileDownloadResponse,
    FileListResponse,
    FileResponse,
    FileSettingsResponse,
    FileSettingsUpdateRequest,
    FileUploadForm,
    FileUploadRequest,
    FileUploadResponse,
    FolderDetailResponse,
    FolderListResponse,
    FolderResponse,
    MultipartUploadResponse,
    StorageUsageResponse,
    UpdateFileRequest,
    UpdateFolderRequest,
    UploadPartUrl,
)

router = ApiRouter("files")
folders = ApiRouter("folders")

FILES = "/api/files"
FOLDERS = "/api/folders"
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
IdQuery = Annotated[str | None, Query(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="A folder (none: the root)")]


def _file(item: Any) -> FileResponse:
    return FileResponse.of(item, service.restorable_until(item))


# -- uploads ------------------------------------------------------------------------------
@router.post(
    f"{FILES}/uploads",
    permission="file.upload",
    permission_name="Upload files",
    status_code=201,
    summary="Start an upload: a pending file and a presigned S3 POST whose policy fixes its key, its type and "
    "1 byte up to the declared size; reserves the size in the storage quota (413 when it does not fit)",
    responses=created_as(FileUploadResponse),
)
def start_upload(body: FileUploadRequest) -> Response[dict[str, Any]]:
    item, post = service.start_upload(actor_of(router), body)
    form = FileUploadForm(
        url=str(post["url"]),
        fields={str(k): str(v) for k, v in post["fields"].items()},
        key=item.object_key,
        expires_in=service.UPLOAD_EXPIRES_SECONDS,
        max_bytes=int(item.declared_size),
    )
    return created(FileUploadResponse(file=_file(item), upload=form), f"{FILES}/{item.file_id}")


@router.post(
    f"{FILES}/uploads/multipart",
    permission="file.upload",
    status_code=201,
    summary="Start a multipart upload of a large file: a pending file, its upload id and a presigned PUT per "
    "part; reserves the declared size in the storage quota",
    responses=created_as(MultipartUploadResponse),
)
def start_multipart(body: FileUploadRequest) -> Response[dict[str, Any]]:
    item, chunk, urls = service.start_multipart(actor_of(router), body)
    answer = MultipartUploadResponse(
        file=_file(item),
        key=item.object_key,
        upload_id=str(item.upload_id),
        part_size=chunk,
        parts=[UploadPartUrl(part_number=n, url=u) for n, u in urls],
        expires_in=service.MULTIPART_EXPIRES_SECONDS,
    )
    return created(answer, f"{FILES}/{item.file_id}")


@router.post(
    f"{FILES}/uploads/multipart/<file_id>/complete",
    permission="file.upload",
    versioned=True,
    summary="Complete a multipart upload from its parts' numbers and ETags (the key and upload id it was "
    "started with); the file is settled when S3 reports the object",
)
def complete_multipart(file_id: str, body: CompleteMultipartRequest) -> FileResponse:
    return _file(service.complete_multipart(actor_of(router), file_id, with_if_match(router, body)))


@router.post(
    f"{FILES}/uploads/multipart/<file_id>/abort",
    permission="file.upload",
    versioned=True,
    status_code=204,
    summary="Abort a multipart upload: its parts are discarded, the pending file goes and its reservation is "
    "given back",
    responses=DELETED,
)
def abort_multipart(file_id: str, version: VersionQuery = None) -> Response[str]:
    service.abort_multipart(actor_of(router), file_id, expected_version(router, version))
    return no_content()


# -- the organisation's storage and settings (before /api/files/<file_id>) -------------------
@router.get(
    f"{FILES}/usage",
    permission="file.view",
    permission_name="View files and folders",
    summary="The organisation's storage: bytes and files used, reserved by uploads in progress, and the limits",
)
def get_usage() -> StorageUsageResponse:
    now = service.usage(actor_of(router))
    shown = now.as_dict()
    return StorageUsageResponse(**shown, used_percent=round(storage.ratio(now) * 100, 1))


@router.get(
    f"{FILES}/settings",
    permission="file.view",
    summary="The organisation's file settings: blocked types and name endings, the size limit of a file and "
    "the kkFileView address for previews (the defaults, version 0, until first saved)",
)
def get_settings() -> FileSettingsResponse:
    return FileSettingsResponse.of(service.get_settings(actor_of(router)))


@router.put(
    f"{FILES}/settings",
    permission="file.config",
    permission_name="Configure files",
    summary="Change the file settings (fields left out stay; kkfileview_base_url null turns kkFileView off)",
)
def update_settings(body: FileSettingsUpdateRequest) -> FileSettingsResponse:
    return FileSettingsResponse.of(service.update_settings(actor_of(router), with_if_match(router, body)))


# -- files ---------------------------------------------------------------------------------
@router.get(
    FILES,
    permission="file.view",
    summary="A folder's files (ready and quarantined; the root without folder_id) by name, created_at or size; "
    "q: names starting with it (case-insensitive); deleted=true: the recycle bin, newest deletion first",
)
def list_files(
    folder_id: IdQuery = None,
    sort: Annotated[service.Sort, Query()] = "name",
    order: Annotated[service.Order | None, Query(description="asc (default) or desc")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    deleted: Annotated[bool, Query(description="The recycle bin instead of a folder")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> FileListResponse:
    chosen = order or ("desc" if deleted else "asc")
    items, next_cursor = service.list_files(
        actor_of(router),
        folder_id=folder_id,
        sort=sort,
        order=chosen,
        q=q,
        deleted=deleted,
        limit=limit,
        cursor=cursor,
    )
    return FileListResponse(items=[_file(i) for i in items], next_cursor=next_cursor)


@router.get(f"{FILES}/<file_id>", permission="file.view", summary="One file, whatever its status")
def get_file(file_id: str) -> FileResponse:
    return _file(service.get_file(actor_of(router), file_id))


@router.put(
    f"{FILES}/<file_id>",
    permission="file.edit",
    permission_name="Rename and move files and folders",
    summary="Rename and / or move a file (folder_id null: the root)",
)
def update_file(file_id: str, body: UpdateFileRequest) -> FileResponse:
    return _file(service.update_file(actor_of(router), file_id, with_if_match(router, body)))


@router.delete(
    f"{FILES}/<file_id>",
    permission="file.delete",
    permission_name="Delete and restore files and folders",
    status_code=204,
    summary="Delete a file: restorable for 30 days (then S3 expires it), its bytes leave the quota at once; "
    "a pending upload is cancelled",
    responses=DELETED,
)
def delete_file(file_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_file(actor_of(router), file_id, expected_version(router, version))
    return no_content()


@router.post(
    f"{FILES}/<file_id>/restore",
    permission="file.delete",
    versioned=True,
    summary="Restore a deleted file within 30 days (into its folder, or the root if that is gone); 413 when "
    "the quota no longer has room for it",
)
def restore_file(file_id: str, version: VersionQuery = None) -> FileResponse:
    return _file(service.restore_file(actor_of(router), file_id, expected_version(router, version)))


@router.get(
    f"{FILES}/<file_id>/download",
    permission="file.view",
    summary="A five-minute presigned GET of a ready file, as an attachment under its name (RFC 6266); a "
    "pending, quarantined or deleted file answers 409",
)
def download_file(file_id: str) -> FileDownloadResponse:
    item, url, content_type = service.download(actor_of(router), file_id)
    return FileDownloadResponse(
        url=url, expires_in=service.DOWNLOAD_EXPIRES_SECONDS, filename=item.name, content_type=content_type
    )


# -- folders -------------------------------------------------------------------------------
@folders.get(
    FOLDERS,
    permission="file.view",
    summary="A folder's sub-folders by name (the root's without parent_id)",
)
def list_folders(parent_id: IdQuery = None, limit: Limit = 50, cursor: Cursor = None) -> FolderListResponse:
    items, next_cursor = service.list_folders(actor_of(folders), parent_id, limit, cursor)
    return FolderListResponse(items=[FolderResponse.of(i) for i in items], next_cursor=next_cursor)


@folders.post(
    FOLDERS,
    permission="file.edit",
    status_code=201,
    summary="Create a folder (in parent_id, or the root)",
    responses=created_as(FolderResponse),
)
def create_folder(body: CreateFolderRequest) -> Response[dict[str, Any]]:
    item = service.create_folder(actor_of(folders), body)
    return created(FolderResponse.of(item), f"{FOLDERS}/{item.folder_id}")


@folders.get(f"{FOLDERS}/<folder_id>", permission="file.view", summary="One folder, with the folders above it")
def get_folder(folder_id: str) -> FolderDetailResponse:
    item, ancestors = service.get_folder(actor_of(folders), folder_id)
    return FolderDetailResponse(
        **FolderResponse.of(item).model_dump(), ancestors=[FolderResponse.of(a) for a in ancestors]
    )


@folders.put(
    f"{FOLDERS}/<folder_id>",
    permission="file.edit",
    summary="Rename and / or move a folder with everything in it (parent_id null: the root; never into "
    "itself or below it)",
)
def update_folder(folder_id: str, body: UpdateFolderRequest) -> FolderResponse:
    return FolderResponse.of(service.update_folder(actor_of(folders), folder_id, with_if_match(folders, body)))


@folders.delete(
    f"{FOLDERS}/<folder_id>",
    permission="file.delete",
    status_code=204,
    summary="Delete an empty folder (409 while it holds sub-folders or files)",
    responses=DELETED,
)
def delete_folder(folder_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_folder(actor_of(folders), folder_id, expected_version(folders, version))
    return no_content()
