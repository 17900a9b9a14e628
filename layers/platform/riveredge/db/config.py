"""A tenant's configuration items: dictionary types and items, system parameters, languages.

Read through :mod:`riveredge.dictionaries` and :mod:`riveredge.parameters` (cached per container);
written by the dictionaries function through the one write path, each change bumping its kind's stamp.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope


class DictionaryType(TableModel, discriminator="dictionary_type"):
    """A tenant's own dictionary type (the system ones live in :data:`riveredge.dictionaries.SYSTEM`)."""

    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(default=True)

    noun: ClassVar[str] = "dictionary"
    id_attribute: ClassVar[str] = "code"

    def snapshot(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "description": self.description, "enabled": self.enabled}

    @classmethod
    def new(cls, scope: Scope, code: str, **attributes: Any) -> DictionaryType:
        key = keys.dictionary_type(scope, code)
        return cls(key.pk, key.sk, code=code, **attributes)


class DictionaryItem(TableModel, discriminator="dictionary_item"):
    """One item of a dictionary type; `parent` names another item of the same type (cascading lists)."""

    type_code = UnicodeAttribute()
    code = UnicodeAttribute()
    label = UnicodeAttribute()
    value = UnicodeAttribute()
    order = NumberAttribute(default=0)
    enabled = BooleanAttribute(default=True)
    translations = JSONAttribute(null=True)  # language code -> label
    parent = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "dictionary item"
    id_attribute: ClassVar[str] = "code"

    @property
    def object_id(self) -> str:
        return f"{self.type_code}/{self.code}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "type": self.type_code,
            "code": self.code,
            "label": self.label,
            "value": self.value,
            "order": int(self.order or 0),
            "enabled": self.enabled,
            "translations": dict(self.translations or {}),
            "parent": self.parent,
        }

    @classmethod
    def new(cls, scope: Scope, type_code: str, code: str, **attributes: Any) -> DictionaryItem:
        key = keys.dictionary_item(scope, type_code, code)
        return cls(key.pk, key.sk, type_code=type_code, code=code, **attributes)


class Parameter(TableModel, discriminator="parameter"):
    """A typed system parameter: `value` is JSON of its `type`; `json_schema` constrains a json one."""

    key = UnicodeAttribute()
    type = UnicodeAttribute()  # string | number | boolean | json
    value = JSONAttribute(null=True)
    description = UnicodeAttribute(null=True)
    editable = BooleanAttribute(default=True)
    secret = BooleanAttribute(default=False)
    json_schema = JSONAttribute(null=True)

    noun: ClassVar[str] = "parameter"
    id_attribute: ClassVar[str] = "key"

    def snapshot(self) -> dict[str, Any]:
        """The parameter as the operation log shows it: a secret one's value never."""
        return {
            "key": self.key,
            "type": self.type,
            "value": "[redacted]" if self.secret else self.value,
            "description": self.description,
            "editable": self.editable,
            "secret": self.secret,
            "json_schema": self.json_schema,
        }

    @classmethod
    def new(cls, scope: Scope, key: str, **attributes: Any) -> Parameter:
        item_key = keys.parameter(scope, key)
        return cls(item_key.pk, item_key.sk, key=key, **attributes)


class Language(TableModel, discriminator="language"):
    """A language of a tenant: one of its own, or a shipped one it renamed or switched off."""

    code = UnicodeAttribute()
    name = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)

    noun: ClassVar[str] = "language"
    id_attribute: ClassVar[str] = "code"

    def snapshot(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "enabled": self.enabled}

    @classmethod
    def new(cls, scope: Scope, code: str, **attributes: Any) -> Language:
        key = keys.language(scope, code)
        return cls(key.pk, key.sk, code=code, **attributes)


class TranslationBundle(TableModel, discriminator="translation_bundle"):
    """A tenant's own keys of one language (key -> text), over the shipped bundle of that language."""

    language = UnicodeAttribute()
    translations = JSONAttribute(null=True)

    noun: ClassVar[str] = "translations"
    id_attribute: ClassVar[str] = "language"

    def snapshot(self) -> dict[str, Any]:
        """The bundle as the operation log shows it: its size, not its thousands of texts."""
        return {"language": self.language, "keys": len(self.translations or {})}

    @classmethod
    def new(cls, scope: Scope, language: str, **attributes: Any) -> TranslationBundle:
        key = keys.translation_bundle(scope, language)
        return cls(key.pk, key.sk, language=language, **attributes)


class Integration(TableModel, discriminator="integration"):
    """An integration config: OAuth 2, API or webhook. Its secret lives in Secrets Manager (`secret_arn`)."""

    integration_id = UnicodeAttribute()
    name = UnicodeAttribute()
    type = UnicodeAttribute()  # oauth2 | api | webhook
    config = JSONAttribute(null=True)  # the type's fields, never a secret
    enabled = BooleanAttribute(default=True)
    secret_arn = UnicodeAttribute(null=True)
    secret_updated_at = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "integration"
    id_attribute: ClassVar[str] = "integration_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "config": dict(self.config or {}),
            "enabled": self.enabled,
            "secret_updated_at": self.secret_updated_at,
        }

    @classmethod
    def new(cls, scope: Scope, integration_id: str, **attributes: Any) -> Integration:
        key = keys.integration(scope, integration_id)
        return cls(key.pk, key.sk, integration_id=integration_id, **attributes)


class OutboundAllowList(TableModel, discriminator="outbound_allow_list"):
    """Internal hosts (names or CIDR networks) a tenant's outbound calls may reach: set by an operator."""

    hosts = JSONAttribute(null=True)

    noun: ClassVar[str] = "outbound allow-list"
    id_attribute: ClassVar[str] = "pk"

    def snapshot(self) -> dict[str, Any]:
        return {"hosts": list(self.hosts or [])}

    @classmethod
    def new(cls, scope: Scope) -> OutboundAllowList:
        key = keys.outbound_allow_list(scope)
        return cls(key.pk, key.sk)


class CustomField(TableModel, discriminator="custom_field"):
    """One custom-field definition of an entity type (see :mod:`riveredge.custom_fields`).

    Its entity, key and type never change: values already stored on entities keep their meaning.
    """

    entity_type = UnicodeAttribute()  # `entity` is every item's discriminator
    key = UnicodeAttribute()
    label = UnicodeAttribute()
    type = UnicodeAttribute()
    required = BooleanAttribute(default=False)
    default = JSONAttribute(null=True)  # {"value": ...} when the field has a default
    validation = JSONAttribute(null=True)  # min_length, max_length, minimum, maximum, pattern, allowed, ...
    dictionary = UnicodeAttribute(null=True)  # select / multi_select: the dictionary type of the options
    order = NumberAttribute(default=0)
    enabled = BooleanAttribute(default=True)
    description = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "custom field"
    id_attribute: ClassVar[str] = "key"

    @property
    def object_id(self) -> str:
        return f"{self.entity_type}.{self.key}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "entity": self.entity_type,
            "key": self.key,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "validation": self.validation,
            "dictionary": self.dictionary,
            "order": int(self.order or 0),
            "enabled": self.enabled,
            "description": self.description,
        }

    @classmethod
    def new(cls, scope: Scope, entity: str, key: str, **attributes: Any) -> CustomField:
        item_key = keys.custom_field(scope, entity, key)
        return cls(item_key.pk, item_key.sk, entity_type=entity, key=key, **attributes)


class MailGlobal(TableModel, discriminator="mail_global"):
    """A static global mail variable of a tenant: its own, or the value of a built-in static one
    (see :mod:`riveredge.mail_templates.globals`)."""

    key = UnicodeAttribute()
    label = UnicodeAttribute()
    value = UnicodeAttribute()
    description = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "global variable"
    id_attribute: ClassVar[str] = "key"

    def snapshot(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "value": self.value, "description": self.description}

    @classmethod
    def new(cls, scope: Scope, key: str, **attributes: Any) -> MailGlobal:
        item_key = keys.mail_global(scope, key)
        return cls(item_key.pk, item_key.sk, key=key, **attributes)


MESSAGE_CHANNELS = ("in_app", "email", "sms", "webhook")


class MessageConfig(TableModel, discriminator="message_config"):
    """A tenant's config of one message channel (in_app, email, sms, webhook): one item per channel.

    `config` holds the channel's own fields (email: from_email, from_name, reply_to; sms: sender_id, ...;
    webhook: url, ...), never a secret: a webhook's signing secret lives in Secrets Manager (`secret_arn`).
    """

    channel = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)
    config = JSONAttribute(null=True)
    name = UnicodeAttribute(null=True)
    secret_arn = UnicodeAttribute(null=True)
    secret_updated_at = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "message config"
    id_attribute: ClassVar[str] = "channel"

    def snapshot(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "enabled": self.enabled,
            "config": dict(self.config or {}),
            "name": self.name,
            "secret_updated_at": self.secret_updated_at,
        }

    @classmethod
    def new(cls, scope: Scope, channel: str, **attributes: Any) -> MessageConfig:
        key = keys.message_config(scope, channel)
        return cls(key.pk, key.sk, channel=channel, **attributes)
