"""Demo languages: Japanese added with a few keys, and the organisation's own wording of two Chinese keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

JAPANESE = {
    "common.save": "保存",
    "common.cancel": "キャンセル",
    "auth.sign_in": "ログイン",
    "menu.system": "システム管理",
}
CHINESE = {"auth.organisation": "所属机构", "menu.apps": "应用市场"}


def seed(stack: LocalStack, token: str) -> None:
    expect(stack.request("POST", "/api/languages", token=token, json_body={"code": "ja-JP", "name": "日本語"}))
    for code, translations in (("ja-JP", JAPANESE), ("zh-CN", CHINESE)):
        body = {"translations": translations}
        path = f"/api/languages/{code}/translations/import"
        expect(stack.request("POST", path, token=token, json_body=body), 200)
