"""Custom fields: an organisation's own fields on its entities, their values checked on every write.

Definitions (``riveredge.db.config.CustomField``) are written by the custom-fields function and read
here from the per-container cache (kind ``custom_fields``): a warm account write costs no read for
them once the request has checked its stamps. Values live on the entity itself, in its
``custom_fields`` map, keyed by field key; an entity's routes accept ``custom_fields`` and call:

- :func:`validate` on create and update: the values to store (defaults filled in on create, given
  values merged over the stored ones, ``null`` clears one, keys of removed fields dropped), or a 422
  naming ``custom_fields.<key>``;
- :func:`present` on read: the stored values of the entity's enabled fields (a value left by a removed
  field, or of another type, is not shown; nothing stored is rewritten by a removal);
- :func:`filters` / :func:`condition` / :func:`matches` for ``?custom_field=<key>:<value>`` list filters;
- :func:`export_cell` / :func:`import_value` for Excel columns ``cf.<key>``.

Every value is checked against the field's JSON Schema (draft 2020-12, the one that
:func:`json_schema` serves for dynamic forms, with :func:`formily_schema` beside it), then against
what a schema cannot say: decimal places, and that a user or department exists in the organisation.

The entity types are :data:`ENTITIES`; a later module (approvals, records ...) opens its entity to
custom fields by adding one line there and calling the functions above from its routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition

from riveredge import config_cache, dictionaries, keys
from riveredge.db.config import CustomField
from riveredge.db.models import Department, User
from riveredge.errors import FieldProblem, ValidationError
from riveredge.scope import Scope

KIND = "custom_fields"

ENTITIES: dict[str, str] = {"user": "Accounts", "department": "Departments"}
FieldType = Literal[
    "text",
    "long_text",
    "number",
    "decimal",
    "date",
    "datetime",
    "boolean",
    "select",
    "multi_select",
    "user",
    "department",
]
TYPES: tuple[str, ...] = get_args(FieldType)
OPTION_TYPES = ("select", "multi_select")
MAX_FIELDS = 50  # per entity type
TEXT_MAX = {"text": 200, "long_text": 5000}  # the longest value when the field sets no max_length
EXCEL_PREFIX = "cf."
_ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"

# which validation rules each type takes
RULES: dict[str, tuple[str, ...]] = {
    "text": ("min_length", "max_length", "pattern", "allowed"),
    "long_text": ("min_length", "max_length"),
    "number": ("minimum", "maximum", "allowed"),
    "decimal": ("minimum", "maximum", "scale", "allowed"),
    "date": (),
    "datetime": (),
    "boolean": (),
    "select": (),
    "multi_select": ("min_items", "max_items"),
    "user": (),
    "department": (),
}


@dataclass(frozen=True)
class Definition:
    """One custom field as forms and validation see it."""

    entity: str
    key: str
    label: str
    type: str
    required: bool = False
    default: Any = None
    has_default: bool = False
    validation: Mapping[str, Any] = field(default_factory=dict)
    dictionary: str | None = None
    order: int = 0
    enabled: bool = True
    description: str | None = None
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def field_id(self) -> str:
        return f"{self.entity}.{self.key}"


def definition_of(item: CustomField) -> Definition:
    stored_default = item.default if isinstance(item.default, dict) else None
    return Definition(
        entity=item.entity_type,
        key=item.key,
        label=item.label,
        type=item.type,
        required=bool(item.required),
        default=stored_default.get("value") if stored_default else None,
        has_default=stored_default is not None and "value" in stored_default,
        validation=dict(item.validation or {}),
        dictionary=item.dictionary,
        order=int(item.order or 0),
        enabled=bool(item.enabled),
        description=item.description,
        version=int(item.version or 0),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _load(scope: Scope, entity: str) -> tuple[Definition, ...]:
    found = (
        definition_of(i) for i in CustomField.query(keys.custom_fields(scope, entity)) if isinstance(i, CustomField)
    )
    return tuple(sorted(found, key=lambda d: (d.order, d.key)))


def definitions(scope: Scope, entity: str, *, enabled_only: bool = False) -> tuple[Definition, ...]:
    """The entity type's fields by order then key (cached: one read of the stamps per request)."""
    every = config_cache.cached(scope, KIND, entity, lambda: _load(scope, entity))
    return tuple(d for d in every if d.enabled or not enabled_only)


# -- schemas ---------------------------------------------------------------------------------
def _options(scope: Scope, definition: Definition) -> tuple[dictionaries.Entry, ...]:
    found = dictionaries.items(scope, definition.dictionary or "") or ()
    return tuple(e for e in found if e.enabled)


_RULE_KEYWORDS = {
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "min_items": "minItems",
    "max_items": "maxItems",
    "allowed": "enum",
}
_BASE: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "maxLength": TEXT_MAX["text"]},
    "long_text": {"type": "string", "maxLength": TEXT_MAX["long_text"]},
    "number": {"type": "integer"},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
    "select": {"type": "string"},
    "multi_select": {"type": "array", "uniqueItems": True},
    "user": {"type": "string", "pattern": _ULID},  # an id of the organisation's
    "department": {"type": "string", "pattern": _ULID},
}


def value_schema(scope: Scope, definition: Definition) -> dict[str, Any]:
    """The JSON Schema of one (non-null) value of the field: its type's base, then its rules."""
    schema = dict(_BASE[definition.type])
    if definition.type == "select":
        schema["enum"] = [e.code for e in _options(scope, definition)]
    elif definition.type == "multi_select":
        schema["items"] = {"type": "string", "enum": [e.code for e in _options(scope, definition)]}
    for rule, value in definition.validation.items():
        keyword = _RULE_KEYWORDS.get(rule)
        if keyword is not None:
            schema[keyword] = list(value) if rule == "allowed" else value
    return schema


def field_schema(scope: Scope, definition: Definition) -> dict[str, Any]:
    """The JSON Schema of the field in a body: its value, or null when it is not required."""
    inner = {"title": definition.label, **value_schema(scope, definition)}
    if definition.description:
        inner["description"] = definition.description
    if "scale" in definition.validation:
        inner["x-scale"] = int(definition.validation["scale"])
    if definition.has_default:
        inner["default"] = definition.default
    return inner if definition.required else {"anyOf": [inner, {"type": "null"}]}


def json_schema(scope: Scope, entity: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an entity's ``custom_fields`` object, as a write accepts it."""
    enabled = definitions(scope, entity, enabled_only=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Custom fields of {ENTITIES.get(entity, entity)}",
        "type": "object",
        "properties": {d.key: field_schema(scope, d) for d in enabled},
        "required": [d.key for d in enabled if d.required],
        "additionalProperties": False,
    }


_COMPONENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "text": ("Input", {}),
    "long_text": ("Input.TextArea", {"rows": 4}),
    "number": ("NumberPicker", {"precision": 0}),
    "decimal": ("NumberPicker", {}),
    "date": ("DatePicker", {"format": "YYYY-MM-DD"}),
    "datetime": ("DatePicker", {"showTime": True}),
    "boolean": ("Switch", {}),
    "select": ("Select", {"allowClear": True}),
    "multi_select": ("Select", {"mode": "multiple", "allowClear": True}),
    "user": ("Select", {"showSearch": True, "filterOption": False, "allowClear": True}),
    "department": ("TreeSelect", {"showSearch": True, "allowClear": True}),
}
_SOURCES = {"user": "/api/users", "department": "/api/departments"}


def _formily_field(scope: Scope, definition: Definition, language: str | None, index: int) -> dict[str, Any]:
    component, shipped = _COMPONENTS[definition.type]
    props = dict(shipped)
    rules = definition.validation
    schema = value_schema(scope, definition)
    kind = "array" if definition.type == "multi_select" else str(schema["type"])
    node: dict[str, Any] = {
        "type": "number" if kind == "integer" else kind,
        "title": definition.label,
        "required": definition.required,
        "x-decorator": "FormItem",
        "x-component": component,
        "x-index": index,
    }
    if definition.description:
        node["description"] = definition.description
    if definition.has_default:
        node["default"] = definition.default
    if definition.type in OPTION_TYPES:
        node["enum"] = [{"label": e.label_in(language), "value": e.code} for e in _options(scope, definition)]
    elif "allowed" in rules:
        node["enum"] = [{"label": str(v), "value": v} for v in rules["allowed"]]
    if definition.type in _SOURCES:
        node["x-data"] = {"source": _SOURCES[definition.type]}  # where the options are listed
    if "scale" in rules:
        props["precision"] = int(rules["scale"])
    if "minimum" in rules:
        props["min"] = rules["minimum"]
    if "maximum" in rules:
        props["max"] = rules["maximum"]
    validator: dict[str, Any] = {}
    for rule, name in (("min_length", "minLength"), ("max_length", "maxLength"), ("pattern", "pattern")):
        if rule in rules:
            validator[name] = rules[rule]
    if definition.type in TEXT_MAX and "max_length" not in rules:
        validator["maxLength"] = TEXT_MAX[definition.type]
    if validator:
        node["x-validator"] = [validator]
    node["x-component-props"] = props
    return node


def formily_schema(scope: Scope, entity: str, language: str | None = None) -> dict[str, Any]:
    """A Formily schema (``@formily/antd-v5`` components) of the entity's enabled fields, labels in `language`."""
    enabled = definitions(scope, entity, enabled_only=True)
    return {
        "type": "object",
        "properties": {d.key: _formily_field(scope, d, language, i) for i, d in enumerate(enabled)},
    }


# -- values ----------------------------------------------------------------------------------
_MESSAGES: dict[str, Callable[[Any], str]] = {
    "type": lambda s: {
        "string": "must be text",
        "integer": "must be a whole number",
        "number": "must be a number",
        "boolean": "must be true or false",
        "array": "must be a list",
    }.get(str(s), f"must be of type {s}"),
    "maxLength": lambda s: f"must be at most {s} characters",
    "minLength": lambda s: f"must be at least {s} characters",
    "minimum": lambda s: f"must be at least {s}",
    "maximum": lambda s: f"must be at most {s}",
    "pattern": lambda s: f"must match the pattern {s}",
    "enum": lambda s: f"must be one of: {', '.join(map(str, s))}" if s else "has no options to choose from",
    "uniqueItems": lambda s: "must not repeat an option",
    "minItems": lambda s: f"must have at least {s} options",
    "maxItems": lambda s: f"must have at most {s} options",
}
_FORMATS = {"date": "must be a date (YYYY-MM-DD)", "date-time": "must be a date and time (RFC 3339, with an offset)"}


def _schema_problem(schema: dict[str, Any], value: Any) -> str | None:
    """What is wrong with `value` under `schema` (None: nothing), in words a form can show."""
    from jsonschema import Draft202012Validator, FormatChecker

    errors = sorted(
        Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(value),
        key=lambda e: (len(e.path), str(e.validator)),
    )
    if not errors:
        return None
    error = errors[0]
    if error.validator == "format":
        return _FORMATS.get(str(error.validator_value), "has the wrong format")
    message = _MESSAGES.get(str(error.validator))
    return message(error.validator_value) if message else str(error.message)


def _normalise(definition: Definition, value: Any) -> Any:
    if definition.type == "datetime":
        moment = datetime.fromisoformat(str(value).replace("z", "Z"))
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if definition.type == "number":
        return int(value)  # JSON Schema counts 3.0 as an integer
    return value


Known = Callable[[str, str], bool | None]  # (type, id) -> whether it exists; None: not known, read it


def _exists(scope: Scope, definition: Definition, value: str, known: Known | None = None) -> bool:
    answer = known(definition.type, value) if known is not None else None
    if answer is not None:
        return answer
    if definition.type == "user":
        return User.find(keys.user(scope, value), consistent=False) is not None
    return Department.find(keys.department(scope, value), consistent=False) is not None


def value_problem(scope: Scope, definition: Definition, value: Any, known: Known | None = None) -> str | None:
    """What is wrong with a (non-null) value of the field, None when it may be stored."""
    problem = _schema_problem(value_schema(scope, definition), value)
    if problem is not None:
        return f"no such {definition.type}" if definition.type in ("user", "department") else problem
    scale = definition.validation.get("scale")
    if scale is not None and not isinstance(value, bool):
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > int(scale):
            return f"must have at most {scale} decimal places"
    if definition.type in ("user", "department") and not _exists(scope, definition, str(value), known):
        return f"no such {definition.type}"
    return None


def _invalid(problems: list[FieldProblem]) -> ValidationError:
    return ValidationError("custom field values are not valid", errors=problems)


def _given_problem(scope: Scope, definition: Definition | None, value: Any, known: Known | None) -> str | None:
    if definition is None:
        return "no such custom field"
    if not definition.enabled:
        return "this custom field is switched off"
    return None if value is None else value_problem(scope, definition, value, known)


def validate(
    scope: Scope,
    entity: str,
    given: Mapping[str, Any] | None,
    stored: Mapping[str, Any] | None = None,
    *,
    creating: bool,
    field: str = "custom_fields",
    known: Known | None = None,
) -> dict[str, Any] | None:
    """The custom-field values to store on an entity being created or updated (None: it has none).

    `given` is what the request sent (None: it sent no ``custom_fields``; on an update the stored values
    stay as they are). Given values are merged over the stored ones; ``null`` clears a value; a key the
    entity type has no field for, or a switched-off field, is refused. On create, a field left out takes
    its default. Every given value is checked; a required field must end up with a value. Problems are
    named ``<field>.<key>``; `known` may answer whether a user or department exists without a read.
    """
    every = {d.key: d for d in definitions(scope, entity)}
    if given is None and not creating:
        return dict(stored) if stored else None
    values = {k: v for k, v in (stored or {}).items() if k in every}  # a removed field's value goes
    problems: dict[str, str] = {}
    for key, value in (given or {}).items():
        definition = every.get(key)
        problem = _given_problem(scope, definition, value, known)
        if problem is not None:
            problems[key] = problem
        elif value is None:
            values.pop(key, None)
        elif definition is not None:
            values[key] = _normalise(definition, value)
    for definition in (d for d in every.values() if d.enabled):
        if creating and definition.key not in (given or {}) and definition.has_default:
            values[definition.key] = definition.default
        if definition.required and values.get(definition.key) in (None, "", []):
            problems.setdefault(definition.key, "is required")
    if problems:
        raise _invalid([FieldProblem(f"{field}.{key}", message) for key, message in problems.items()])
    return values or None


def _conforms(definition: Definition, value: Any) -> bool:
    """Whether a stored value still has the field's shape (a value of a removed namesake may not)."""
    kind = definition.type
    if kind in ("number",):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "decimal":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "multi_select":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


def present(scope: Scope, entity: str, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values a reader sees: those of the entity type's enabled fields that still fit their field."""
    if not stored:
        return {}
    shown: dict[str, Any] = {}
    for definition in definitions(scope, entity, enabled_only=True):
        value = stored.get(definition.key)
        if value is not None and _conforms(definition, value):
            shown[definition.key] = value
    return shown


# -- list filters ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    """``?custom_field=<key>:<value>``: equal to the value (a multi-select: holds the option)."""

    key: str
    value: Any
    contains: bool = False


def _bad_filter(field: str, message: str) -> ValidationError:
    return ValidationError("a custom-field filter is not valid", errors=[FieldProblem(field, message)])


def _parse_filter_value(definition: Definition, text: str) -> Any:
    kind = definition.type
    if kind == "number":
        return int(text)
    if kind == "decimal":
        number = float(Decimal(text))
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError("true or false")
        return lowered == "true"
    if kind == "date":
        return date.fromisoformat(text).isoformat()
    if kind == "datetime":
        return _normalise(definition, text)
    return text


def filters(scope: Scope, entity: str, wanted: Sequence[str] | None, field: str = "custom_field") -> tuple[Filter, ...]:
    """Parse list filters ``<key>:<value>``; an unknown key or a value of the wrong type is a 422."""
    if not wanted:
        return ()  # a list without custom-field filters reads no definitions
    every = {d.key: d for d in definitions(scope, entity, enabled_only=True)}
    parsed: list[Filter] = []
    for text in wanted or ():
        key, separator, raw = text.partition(":")
        if not separator:
            raise _bad_filter(field, f"'{text}' is not <key>:<value>")
        definition = every.get(key)
        if definition is None:
            raise _bad_filter(field, f"no such custom field: {key}")
        try:
            value = _parse_filter_value(definition, raw)
        except (ValueError, InvalidOperation) as error:
            raise _bad_filter(field, f"'{raw}' is not a value of {key} ({definition.type})") from error
        parsed.append(Filter(key, value, contains=definition.type == "multi_select"))
    return tuple(parsed)


def condition(attribute: Attribute[Any], wanted: Sequence[Filter]) -> Condition | None:
    """The DynamoDB filter of `wanted` on a model's ``custom_fields`` map attribute."""
    found: Condition | None = None
    for f in wanted:
        path: Any = attribute[f.key]  # type: ignore[index]
        part = path.contains(f.value) if f.contains else path == f.value
        found = part if found is None else found & part
    return found


def matches(stored: Mapping[str, Any] | None, wanted: Sequence[Filter]) -> bool:
    """Whether values stored on an entity pass `wanted` (for entities filtered in memory)."""
    values = stored or {}
    for f in wanted:
        value = values.get(f.key)
        if f.contains:
            if not isinstance(value, list) or f.value not in value:
                return False
        elif value != f.value:
            return False
    return True


# -- Excel -----------------------------------------------------------------------------------
def excel_header(definition: Definition) -> str:
    return f"{EXCEL_PREFIX}{definition.key}"


_HELP = {
    "text": "text",
    "long_text": "text",
    "number": "a whole number",
    "decimal": "a number",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (YYYY-MM-DDTHH:MM:SS, UTC unless it has an offset)",
    "boolean": "TRUE or FALSE",
    "user": "an account's email or id",
    "department": "a department's code or id",
}


def excel_help(scope: Scope, definition: Definition) -> str:
    """What a spreadsheet cell of the field holds, for the import template's Instructions sheet."""
    rules = definition.validation
    if definition.type in OPTION_TYPES:
        options = ", ".join(e.code for e in _options(scope, definition))
        many = "one or more, separated by commas, " if definition.type == "multi_select" else "one "
        text = f"{many}of: {options} (codes or labels)"
    else:
        text = _HELP[definition.type]
    limits = [f"{name.replace('_', ' ')} {value}" for name, value in rules.items() if name != "allowed"]
    if "allowed" in rules:
        limits.append("one of: " + ", ".join(map(str, rules["allowed"])))
    return f"{text}; {'; '.join(limits)}" if limits else text


def export_cell(definition: Definition, value: Any) -> Any:
    """A stored value as an exported cell (a multi-select: its options joined by commas)."""
    if value is None:
        return None
    if definition.type == "multi_select" and isinstance(value, list):
        return ", ".join(value)
    if definition.type == "boolean":
        return "TRUE" if value else "FALSE"
    return value


_TRUE, _FALSE = {"true", "yes", "y", "1", "是"}, {"false", "no", "n", "0", "否"}


def _option_code(scope: Scope, definition: Definition, text: str) -> str:
    """An option by code, or by its label in any language."""
    for entry in _options(scope, definition):
        if text in (entry.code, entry.label) or text in entry.translations.values():
            return entry.code
    return text  # left for validation to refuse, naming the options


def _import_number(definition: Definition, text: str) -> Any:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if definition.type == "number" and number == number.to_integral_value():
        return int(number)
    return float(number)


def _import_boolean(definition: Definition, text: str) -> Any:
    lowered = text.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else text


def _import_date(definition: Definition, text: str) -> Any:
    return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T00:00:00)?", text) else text


def _import_datetime(definition: Definition, text: str) -> Any:
    # a spreadsheet's time has no zone: read as UTC
    return f"{text}Z" if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?", text) else text


_IMPORTERS: dict[str, Callable[[Definition, str], Any]] = {
    "number": _import_number,
    "decimal": _import_number,
    "boolean": _import_boolean,
    "date": _import_date,
    "datetime": _import_datetime,
}


def import_value(
    scope: Scope, definition: Definition, text: str, *, resolve: Callable[[str, str], str | None] | None = None
) -> Any:
    """A cell's text as a value of the field (None: empty), for :func:`validate` to check.

    `resolve(kind, text)` may turn a department code or an account's email into its id.
    """
    text = text.strip()
    kind = definition.type
    if not text:
        return None
    if kind in _IMPORTERS:
        return _IMPORTERS[kind](definition, text)
    if kind == "select":
        return _option_code(scope, definition, text)
    if kind == "multi_select":
        return [_option_code(scope, definition, part.strip()) for part in text.split(",") if part.strip()]
    if kind in ("user", "department") and resolve is not None and not re.fullmatch(_ULID, text):
        return resolve(kind, text) or text
    return text
