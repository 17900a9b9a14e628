"""Languages and translation bundles: the shipped ones, a tenant's own, and the fallback between them.

Two languages ship with the platform (:data:`riveredge.site.SHIPPED_LANGUAGES`), each with a bundle in
this package (``zh-CN.json``, ``en-US.json``: key -> text, problem titles under ``problem.<type>``). A
tenant adds languages and overrides or adds keys through ``/api/languages``. A bundle is resolved as::

    system language (en-US, shipped)  <-  tenant's default language  <-  the language asked for

each level the shipped bundle of that language (if any) overlaid by the tenant's own, so a key missing
in the language asked for shows in the default language, then in English, never as nothing::

    from riveredge.i18n import bundles

    bundles.bundle(scope, "zh-CN")            # (language served, {key: text})
    bundles.text(scope, "zh-CN", "common.save")

This module holds what needs no table (imported by every HTTP function): the shipped bundles, the
caller's language from ``Accept-Language`` (set by the resolver with :func:`use_request_language`) and
:func:`problem_title`, which translates a problem's title from the shipped bundles. A tenant's bundles
are in :mod:`riveredge.i18n.bundles`, read through :mod:`riveredge.config_cache` (kind ``languages``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from types import MappingProxyType

SYSTEM_LANGUAGE = "en-US"  # the language of the platform itself (problem titles, the fallback bundle)
SHIPPED_LANGUAGES = ("zh-CN", "en-US")
_HERE = Path(__file__).resolve().parent
_request_language: ContextVar[str | None] = ContextVar("riveredge_request_language", default=None)


@cache
def shipped(language: str) -> MappingProxyType[str, str]:
    """The bundle the platform ships for `language` (empty for one it does not ship)."""
    if language not in SHIPPED_LANGUAGES:
        return MappingProxyType({})
    return MappingProxyType(json.loads((_HERE / f"{language}.json").read_text(encoding="utf-8")))


# -- the caller's language (problem titles) ----------------------------------------------
def preferred(accept_language: str | None, offered: tuple[str, ...] = SHIPPED_LANGUAGES) -> str | None:
    """The first language of an Accept-Language header (by q) that `offered` has, or whose base it has."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, n, tag.strip()))
    for _, _, tag in sorted(ranked):
        for language in offered:
            if language.lower() == tag.lower():
                return language
        base = tag.split("-")[0].lower()
        for language in offered:
            if language.split("-")[0].lower() == base:
                return language
    return None


def first_language(accept_language: str | None) -> str | None:
    """The first tag of an Accept-Language header as sent (None: none, or ``*``), for labels of any language."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip()
    return first if first and first != "*" else None


@contextmanager
def use_request_language(accept_language: str | None) -> Iterator[str | None]:
    """Within the block, problem titles are in the caller's language (when a shipped bundle has it)."""
    token = _request_language.set(preferred(accept_language))
    try:
        yield _request_language.get()
    finally:
        _request_language.reset(token)


def request_language() -> str | None:
    return _request_language.get()


def problem_title(problem_type: str, title: str) -> tuple[str, str]:
    """`title` of `problem_type` in the request's language, and that language (the title as is: en-US)."""
    language = _request_language.get()
    if language is None:
        return title, SYSTEM_LANGUAGE
    translated = shipped(language).get(f"problem.{problem_type}")
    return (translated, language) if translated else (title, SYSTEM_LANGUAGE)
