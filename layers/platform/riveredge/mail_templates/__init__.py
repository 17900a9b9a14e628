"""Mail template types: what each kind of mail is for, the variables it is given, its shipped default.

The seven system types of the seed ship in ``system.json`` beside this module (name, description and
trigger in every shipped language; typed variables with labels and examples; a default subject, HTML and
text body in zh-CN and en-US, written in the template syntax of :mod:`riveredge.rendering`). A later
module registers its own types (approvals, quotas, automation rules) with :func:`register` at import, so
that the metadata routes, previews and senders know them the same way. Stdlib only: read once per
container, never at cold start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from riveredge.i18n import SYSTEM_LANGUAGE

Category = Literal["auth", "notification", "collaboration", "marketing"]
VariableType = Literal["string", "number", "url", "datetime", "list", "object"]
CATEGORIES: tuple[str, ...] = get_args(Category)
VARIABLE_TYPES: tuple[str, ...] = get_args(VariableType)
_SHIPPED = Path(__file__).with_name("system.json")


def text_in(texts: Mapping[str, str], language: str | None) -> str:
    """`texts` in `language` (or its base language), else in the system language, else any."""
    if language:
        if language in texts:
            return texts[language]
        base = language.split("-")[0].lower()
        for code, text in texts.items():
            if code.split("-")[0].lower() == base:
                return text
    return texts.get(SYSTEM_LANGUAGE) or next(iter(texts.values()), "")


@dataclass(frozen=True)
class Variable:
    key: str
    labels: Mapping[str, str]
    type: str
    example: Any = None
    required: bool = False

    def label(self, language: str | None = None) -> str:
        return text_in(self.labels, language)


@dataclass(frozen=True)
class Body:
    """A template's three parts in one language."""

    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class TemplateType:
    code: str
    category: str
    names: Mapping[str, str]
    descriptions: Mapping[str, str]
    triggers: Mapping[str, str]
    variables: tuple[Variable, ...]
    defaults: Mapping[str, Body] = field(default_factory=lambda: MappingProxyType({}))
    order: int = 0
    system: bool = True

    def name(self, language: str | None = None) -> str:
        return text_in(self.names, language)

    def default(self, language: str | None = None) -> Body | None:
        """The shipped body in `language` (its base language, else the system's)."""
        if not self.defaults:
            return None
        chosen = text_in({code: code for code in self.defaults}, language)
        return self.defaults[chosen]

    def examples(self) -> dict[str, Any]:
        return {v.key: v.example for v in self.variables if v.example is not None}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(v.key for v in self.variables if v.required)


def _frozen(texts: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(texts))


def type_of(raw: Mapping[str, Any]) -> TemplateType:
    """A template type from its JSON shape (what system.json holds; what a module may register)."""
    if raw["category"] not in CATEGORIES:
        raise ValueError(f"template type {raw['code']}: category must be one of {CATEGORIES}")
    variables = []
    for v in raw.get("variables", ()):
        if v["type"] not in VARIABLE_TYPES:
            raise ValueError(f"template type {raw['code']}: variable {v['key']} has type {v['type']!r}")
        variables.append(Variable(v["key"], _frozen(v["label"]), v["type"], v.get("example"), bool(v.get("required"))))
    defaults = {lang: Body(b["subject"], b["html"], b["text"]) for lang, b in raw.get("defaults", {}).items()}
    return TemplateType(
        code=raw["code"],
        category=raw["category"],
        names=_frozen(raw["name"]),
        descriptions=_frozen(raw.get("description", {})),
        triggers=_frozen(raw.get("trigger", {})),
        variables=tuple(variables),
        defaults=MappingProxyType(defaults),
        order=int(raw.get("order", 0)),
        system=bool(raw.get("system", True)),
    )


_registered: dict[str, TemplateType] = {}


@lru_cache(maxsize=1)
def _shipped() -> dict[str, TemplateType]:
    found = json.loads(_SHIPPED.read_text(encoding="utf-8"))["types"]
    return {t.code: t for t in map(type_of, found)}


def register(template_type: TemplateType) -> None:
    """Make a module's own template type known (at import; a code is registered once)."""
    if template_type.code in _shipped() or _registered.get(template_type.code, template_type) != template_type:
        raise ValueError(f"template type {template_type.code} is registered already")
    _registered[template_type.code] = template_type


def types() -> tuple[TemplateType, ...]:
    """Every known template type, by order then code."""
    every = {**_shipped(), **_registered}
    return tuple(sorted(every.values(), key=lambda t: (t.order, t.code)))


def get(code: str) -> TemplateType | None:
    return _shipped().get(code) or _registered.get(code)
