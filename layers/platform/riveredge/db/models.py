"""The entities several functions share: tenants, users, credentials, sessions, roles, logs.

Each is a TableModel subclass told apart by its ``entity`` discriminator. Build
instances through the class methods, which take their keys from riveredge.keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope


def map_values(value: Any) -> dict[str, Any]:
    """A raw map attribute's value as a plain dict ({} when absent): pynamodb answers a MapAttribute."""
    if value is None:
        return {}
    return value.as_dict() if isinstance(value, MapAttribute) else dict(value)


class Tenant(TableModel, discriminator="tenant"):
    tenant_id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    tier = UnicodeAttribute()
    status = UnicodeAttribute()  # provisioning | active | suspended | failed (onboarding failed: retry it)
    admin_email = UnicodeAttribute()
    onboarding_attempt = NumberAttribute(null=True)  # the workflow run that onboards it (1, then each retry)
    password_policy = JSONAttribute(null=True)  # the site settings' policy, copied for sign-in (riveredge.passwords)
    session_seconds = NumberAttribute(null=True)  # the site settings' session length, copied (None: the default)
    quotas = JSONAttribute(null=True)
    disabled_apps = UnicodeSetAttribute(null=True)  # the apps its admins switched off (riveredge.apps)

    noun: ClassVar[str] = "tenant"
    id_attribute: ClassVar[str] = "tenant_id"

    def snapshot(self) -> dict[str, Any]:
        """The tenant as the operation log shows it."""
        return {
            "code": self.code,
            "name": self.name,
            "tier": self.tier,
            "status": self.status,
            "onboarding_attempt": self.onboarding_attempt,
        }

    @classmethod
    def new(cls, tenant_id: str, **attributes: Any) -> Tenant:
        key = keys.tenant(tenant_id)
        return cls(key.pk, key.sk, tenant_id=tenant_id, gsi1pk=keys.TENANTS_INDEX_PK, gsi1sk=tenant_id, **attributes)


class TenantCode(TableModel, discriminator="tenant_code"):
    tenant_id = UnicodeAttribute()

    @classmethod
    def new(cls, code: str, tenant_id: str) -> TenantCode:
        key = keys.tenant_code(code)
        return cls(key.pk, key.sk, tenant_id=tenant_id)


class PendingAdmin(TableModel, discriminator="pending_admin"):
    """The first admin of a tenant, waiting for the onboarding workflow (password already hashed)."""

    email = UnicodeAttribute()
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute()

    @classmethod
    def new(cls, tenant_id: str, **attributes: Any) -> PendingAdmin:
        key = keys.pending_admin(tenant_id)
        return cls(key.pk, key.sk, **attributes)


class User(TableModel, discriminator="user"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute()  # active | disabled
    role_ids = UnicodeSetAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    department_id = UnicodeAttribute(null=True)
    department_path = UnicodeAttribute(null=True)
    position_id = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    avatar_key = UnicodeAttribute(null=True)
    bio = UnicodeAttribute(null=True)
    contacts = JSONAttribute(null=True)
    search = UnicodeAttribute(null=True)  # lower-case name and email, for ?q= filters
    activation_digest = UnicodeAttribute(null=True)  # an invited account's set-password link (SHA-256)
    activation_expires = UTCDateTimeAttribute(null=True)
    custom_fields: MapAttribute[str, Any] = MapAttribute(null=True)  # riveredge.custom_fields, by field key

    noun: ClassVar[str] = "user"
    id_attribute: ClassVar[str] = "user_id"

    def snapshot(self) -> dict[str, Any]:
        """The account as the operation log shows it (no credential, no activation secret)."""
        return {
            "email": self.email,
            "name": self.name,
            "phone": self.phone,
            "status": self.status,
            "department_id": self.department_id,
            "position_id": self.position_id,
            "role_ids": sorted(self.role_ids or []),
            "avatar_key": self.avatar_key,
            "bio": self.bio,
            "contacts": self.contacts,
            "custom_fields": map_values(self.custom_fields),
        }

    @classmethod
    def new(cls, scope: Scope, user_id: str, email: str, **attributes: Any) -> User:
        key = keys.user(scope, user_id)
        user = cls(
            key.pk,
            key.sk,
            user_id=user_id,
            email=email.lower(),
            gsi1pk=keys.user_email_index(scope),
            gsi1sk=email.lower(),
            gsi2pk=keys.user_tree_index(scope),
            **attributes,
        )
        user.place(user.department_id, user.department_path)
        return user

    def stamp(self, now: datetime | None = None) -> None:
        self.search = f"{(self.name or '').lower()} {self.email}"
        super().stamp(now)

    def place(self, department_id: str | None, department_path: str | None) -> None:
        """Put the account in a department (None: in none) and keep its tree key in step."""
        self.department_id, self.department_path = department_id, department_path
        self.gsi2sk = keys.user_tree_sort_key(department_path, self.user_id)


class LoginIdentity(TableModel, discriminator="login"):
    """What sign-in checks: the credential of one email (failed sign-ins are counted in LoginThrottle)."""

    user_id = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    password_changed_at = UTCDateTimeAttribute(null=True)  # when the password was set (its age for expiry)
    password_history = JSONAttribute(null=True)  # the hashes of earlier ones the policy remembers, newest first
    status = UnicodeAttribute(default="active")  # mirrors the user's status: active | disabled

    @classmethod
    def new(cls, scope: Scope, email: str, **attributes: Any) -> LoginIdentity:
        key = keys.login(scope, email)
        return cls(key.pk, key.sk, **attributes)


class Session(TableModel, discriminator="session"):
    noun: ClassVar[str] = "session"
    id_attribute: ClassVar[str] = "session_id"

    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    refresh_digest = UnicodeAttribute()
    previous_refresh_digest = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # live | revoked
    revoked_reason = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)

    @classmethod
    def new(cls, scope: Scope, session_id: str, user_id: str, **attributes: Any) -> Session:
        key = keys.session(scope, session_id)
        return cls(
            key.pk,
            key.sk,
            session_id=session_id,
            user_id=user_id,
            gsi1pk=keys.user_sessions_index(scope, user_id),
            gsi1sk=session_id,
            **attributes,
        )


class Role(TableModel, discriminator="role"):
    role_id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    permissions = UnicodeSetAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)
    data_scope = UnicodeAttribute(default="all")
    departments = UnicodeSetAttribute(null=True)  # the departments of a "custom" data scope
    system = BooleanAttribute(default=False)

    noun: ClassVar[str] = "role"
    id_attribute: ClassVar[str] = "role_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "parent_id": self.parent_id,
            "data_scope": self.data_scope,
            "departments": sorted(self.departments or []),
            "permissions": sorted(self.permissions or []),
        }

    @classmethod
    def new(cls, scope: Scope, role_id: str, **attributes: Any) -> Role:
        key = keys.role(scope, role_id)
        return cls(key.pk, key.sk, role_id=role_id, **attributes)


class RoleCode(TableModel, discriminator="role_code"):
    """Claims a role code within a scope (system roles' too, so that no role can take their names)."""

    owner = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, code: str, role_id: str) -> RoleCode:
        key = keys.role_code(scope, code)
        return cls(key.pk, key.sk, owner=role_id)


class AuthzIndex(TableModel, discriminator="authz"):
    """Every role of a scope with what it grants: the authorizer reads it in the same call as the session."""

    roles = JSONAttribute(default=dict)

    @classmethod
    def new(cls, scope: Scope, **attributes: Any) -> AuthzIndex:
        key = keys.authz(scope)
        return cls(key.pk, key.sk, **attributes)


class OperationLogEntry(TableModel, discriminator="oplog"):
    actor_id = UnicodeAttribute()
    action = UnicodeAttribute()
    resource = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    request_id = UnicodeAttribute(null=True)


class OutboxEvent(TableModel, discriminator="outbox"):
    """A domain event waiting in the table's stream for the event relay (riveredge.outbox)."""

    event_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    source = UnicodeAttribute()
    detail_type = UnicodeAttribute()
    detail = JSONAttribute(null=True)
    occurred_at = UnicodeAttribute()
    correlation_id = UnicodeAttribute(null=True)


class MailDelivery(TableModel, discriminator="mail_delivery"):
    """One message the mailer sends for a tenant, and what became of it (the mail module's delivery log).

    Keyed into one partition per tenant and UTC day of its id (keys.mail_delivery): the id's time gives
    the day, so a record is still one GetItem by id, and a busy tenant's log is spread over days.
    """

    delivery_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # activation | password_reset | welcome | a template code | message ... (what sent it)
    category = UnicodeAttribute(null=True)  # auth | notification | collaboration | marketing
    template_code = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)  # None: the system default (or no template)
    template_version = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)
    test = BooleanAttribute(default=False)
    sender = UnicodeAttribute(null=True)  # the From header, display name and address
    reply_to = UnicodeAttribute(null=True)
    recipients = UnicodeSetAttribute()
    subject = UnicodeAttribute()  # as rendered
    attachments = JSONAttribute(null=True)  # the attachments' file names
    status = UnicodeAttribute()  # queued | sent | failed | suppressed | delivered | bounced | complained
    history = JSONAttribute(null=True)  # [{"status", "at", "detail"?}], oldest first
    attempts = NumberAttribute(default=0)
    ses_message_id = UnicodeAttribute(null=True)
    sent_to = JSONAttribute(null=True)  # {recipient: SES message id} when each recipient got a message of its own
    suppressed = UnicodeSetAttribute(null=True)  # recipients it did not go to (bounced, complained, unsubscribed)
    error = UnicodeAttribute(null=True)
    correlation_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def new(cls, scope: Scope, delivery_id: str, **attributes: Any) -> MailDelivery:
        key = keys.mail_delivery(scope, delivery_id)
        return cls(key.pk, key.sk, delivery_id=delivery_id, **attributes)


class MailSuppression(TableModel, discriminator="mail_suppression"):
    """An address the tenant's mail no longer goes to: it bounced for good or its owner complained (every
    category), or its owner unsubscribed from one category (`category`; keys.mail_suppression)."""

    email = UnicodeAttribute()
    reason = UnicodeAttribute()  # bounce | complaint | unsubscribe
    category = UnicodeAttribute(null=True)  # None: every category
    delivery_id = UnicodeAttribute(null=True)

    @classmethod
    def new(cls, scope: Scope, email: str, category: str | None = None, **attributes: Any) -> MailSuppression:
        key = keys.mail_suppression(scope, email, category)
        return cls(key.pk, key.sk, email=email.lower(), category=category, **attributes)


class LoginLogEntry(TableModel, discriminator="login_log"):
    email = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    success = BooleanAttribute()
    reason = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)

    @classmethod
    def new(cls, scope: Scope, entry_id: str, **attributes: Any) -> LoginLogEntry:
        key = keys.login_log(scope, entry_id)
        return cls(key.pk, key.sk, **attributes)


class Department(TableModel, discriminator="department"):
    """A node of a tenant's organisation tree.

    ``path`` is the materialised path ``/<root id>/.../<own id>/`` and the gsi1 sort key, so the whole tree is
    one Query and a subtree one ``begins_with(path)`` Query. ``depth`` is the number of ids in the path (a root
    is 1). ``moving_to`` holds the target path of a move that spans several transactions, until it completes.
    """

    department_id = UnicodeAttribute()
    name = UnicodeAttribute()
    code = UnicodeAttribute()
    parent_id = UnicodeAttribute(null=True)
    path = UnicodeAttribute()
    depth = NumberAttribute()
    order = NumberAttribute(default=0)
    leader_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")  # active | disabled
    created_by = UnicodeAttribute(null=True)
    moving_to = UnicodeAttribute(null=True)
    custom_fields: MapAttribute[str, Any] = MapAttribute(null=True)  # riveredge.custom_fields, by field key

    noun: ClassVar[str] = "department"
    id_attribute: ClassVar[str] = "department_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "code": self.code,
            "parent_id": self.parent_id,
            "path": self.path,
            "order": int(self.order or 0),
            "leader_id": self.leader_id,
            "status": self.status,
            "custom_fields": map_values(self.custom_fields),
        }

    @classmethod
    def new(cls, scope: Scope, department_id: str, parent_path: str | None, **attributes: Any) -> Department:
        """A department under the department at `parent_path` (None: a root)."""
        key = keys.department(scope, department_id)
        department = cls(
            key.pk, key.sk, department_id=department_id, gsi1pk=keys.department_tree_index(scope), **attributes
        )
        department.relocate(f"{parent_path or '/'}{department_id}/")
        return department

    def relocate(self, path: str) -> None:
        """Put the department at `path`, keeping its depth and its tree key in step."""
        self.path, self.gsi1sk = path, path
        self.depth = len(path.strip("/").split("/"))

    @property
    def ancestor_ids(self) -> list[str]:
        """The ids of the departments above this one, the root first."""
        return self.path.strip("/").split("/")[:-1]


class DepartmentCode(TableModel, discriminator="department_code"):
    """Claims a department code within a tenant (written in the same transaction as the department)."""

    department_id = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, code: str, department_id: str) -> DepartmentCode:
        key = keys.department_code(scope, code)
        return cls(key.pk, key.sk, department_id=department_id)


class Position(TableModel, discriminator="position"):
    """A position (job title) of a department; accounts may hold one."""

    position_id = UnicodeAttribute()
    department_id = UnicodeAttribute()
    name = UnicodeAttribute()
    code = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    order = NumberAttribute(default=0)
    created_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "position"
    id_attribute: ClassVar[str] = "position_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "department_id": self.department_id,
            "name": self.name,
            "code": self.code,
            "description": self.description,
            "order": int(self.order or 0),
        }

    @classmethod
    def new(cls, scope: Scope, position_id: str, department_id: str, **attributes: Any) -> Position:
        key = keys.position(scope, position_id)
        position = cls(key.pk, key.sk, position_id=position_id, **attributes)
        position.assign(scope, department_id)
        return position

    def assign(self, scope: Scope, department_id: str) -> None:
        """Put the position in `department_id`, keeping its department index key in step."""
        self.department_id = department_id
        self.gsi1pk, self.gsi1sk = keys.department_positions_index(scope, department_id), self.position_id


class PositionCode(TableModel, discriminator="position_code"):
    """Claims a position code within a tenant (written in the same transaction as the position)."""

    position_id = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, code: str, position_id: str) -> PositionCode:
        key = keys.position_code(scope, code)
        return cls(key.pk, key.sk, position_id=position_id)


class Job(TableModel, discriminator="job"):
    """A long-running task of a tenant (an account import...): its state, counts and first problems.

    ``status`` is queued | running | succeeded | failed. ``principal`` is the authority the job acts with: its
    creator's, as the authorizer described them when the job was created. The full report is an object of the
    exports bucket (``report_key``); ``problems`` holds only the first ones, so the item stays small.
    """

    job_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # user.import
    status = UnicodeAttribute()
    created_by = UnicodeAttribute()
    dry_run = BooleanAttribute(default=False)
    source_key = UnicodeAttribute(null=True)
    report_key = UnicodeAttribute(null=True)
    counts = JSONAttribute(null=True)
    problems = JSONAttribute(null=True)
    problem_count = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    principal = JSONAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def new(cls, scope: Scope, job_id: str, **attributes: Any) -> Job:
        key = keys.job(scope, job_id)
        return cls(key.pk, key.sk, job_id=job_id, **attributes)


class LoginThrottle(TableModel, discriminator="login_throttle"):
    """Failed sign-ins of one subject in its window: an address, an address from one client IP, or one client IP.

    The window opens at the subject's first failure. The item is only ever changed by atomic UpdateItems
    (``ADD failures``), never saved whole, so that concurrent failures are each counted and never conflict; it
    carries no version. Its TTL outlives the window; a closed window reads as no failures.
    """

    failures = NumberAttribute(default=0)
    window_started = UTCDateTimeAttribute(null=True)
    next_check_at = UTCDateTimeAttribute(null=True)  # an address being slowed down: its next password check


class KnownLoginAddress(TableModel, discriminator="known_login_address"):
    """A client IP an address signed in from lately (until its TTL): the address's slow-down spares it."""


class ConfigStamp(TableModel, discriminator="config_stamp"):
    """How many times one kind of a scope's configuration changed (see :mod:`riveredge.config_cache`)."""

    value = NumberAttribute(default=0)

    @classmethod
    def new(cls, scope: Scope, kind: str) -> ConfigStamp:
        key = keys.config_stamp(scope, kind)
        return cls(key.pk, key.sk)


class SiteSettings(TableModel, discriminator="site_settings"):
    """A tenant's site settings: one document (see :mod:`riveredge.site` for its fields and defaults)."""

    settings = JSONAttribute(null=True)

    noun: ClassVar[str] = "site settings"
    id_attribute: ClassVar[str] = "sk"

    def snapshot(self) -> dict[str, Any]:
        return dict(self.settings or {})

    @classmethod
    def new(cls, scope: Scope, settings: dict[str, Any] | None = None) -> SiteSettings:
        key = keys.site_settings(scope)
        return cls(key.pk, key.sk, settings=settings or {})


class InboxMessage(TableModel, discriminator="inbox_message"):
    """A message in one user's inbox (my messages): what an in-app send left for them, read or not.

    Written by the message fan-out through :func:`riveredge.inbox.deliver` (which counts it unread in the same
    transaction); read, marked read and deleted by its owner only (functions/inbox). While unread it is also in
    the user's sparse unread index (gsi1), which marking it read takes it out of.
    """

    message_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    type = UnicodeAttribute()  # notice | system | task | approval | ... (the send's message type)
    title = UnicodeAttribute()
    content = UnicodeAttribute()
    send_id = UnicodeAttribute(null=True)  # the send (POST /api/messages/send) it came from
    link = UnicodeAttribute(null=True)  # where the web app opens it (a task, an approval)
    read = BooleanAttribute(default=False)
    read_at = UTCDateTimeAttribute(null=True)

    noun: ClassVar[str] = "message"
    id_attribute: ClassVar[str] = "message_id"

    def snapshot(self) -> dict[str, Any]:
        return {"type": self.type, "title": self.title, "send_id": self.send_id, "read": self.read}

    @classmethod
    def new(cls, scope: Scope, user_id: str, message_id: str, **attributes: Any) -> InboxMessage:
        key = keys.inbox_message(scope, user_id, message_id)
        message = cls(key.pk, key.sk, message_id=message_id, user_id=user_id, **attributes)
        if not message.read:
            message.gsi1pk, message.gsi1sk = keys.inbox_unread_index(scope, user_id), message_id
        return message


class InboxUnread(TableModel, discriminator="inbox_unread"):
    """How many messages of one user's inbox are unread: changed only by ``ADD`` in the transaction that
    delivers, reads or deletes them (riveredge.inbox), never saved whole; created by its first ``ADD``."""

    unread = NumberAttribute(default=0)

    @classmethod
    def new(cls, scope: Scope, user_id: str) -> InboxUnread:
        key = keys.inbox_unread(scope, user_id)
        return cls(key.pk, key.sk)


class Connection(TableModel, discriminator="ws_connection"):
    """An open WebSocket connection of a user (riveredge.realtime), until its TTL: API Gateway closes a
    connection after two hours at most, and the connection never outlives its session."""

    connection_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    session_id = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()

    @classmethod
    def new(cls, scope: Scope, user_id: str, connection_id: str, **attributes: Any) -> Connection:
        key = keys.connection(scope, user_id, connection_id)
        return cls(key.pk, key.sk, connection_id=connection_id, user_id=user_id, **attributes)


class SessionConnection(TableModel, discriminator="ws_session_connection"):
    """A connection filed under the session that opened it, so that revoking the session closes it."""

    connection_id = UnicodeAttribute()
    user_id = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, session_id: str, connection_id: str, **attributes: Any) -> SessionConnection:
        key = keys.session_connection(scope, session_id, connection_id)
        return cls(key.pk, key.sk, connection_id=connection_id, **attributes)


class ConnectionLookup(TableModel, discriminator="ws_connection_lookup"):
    """Whose a connection id is (platform scope: a $disconnect names only the connection)."""

    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    session_id = UnicodeAttribute()

    @classmethod
    def new(cls, connection_id: str, **attributes: Any) -> ConnectionLookup:
        key = keys.connection_lookup(connection_id)
        return cls(key.pk, key.sk, **attributes)


DEFAULT_NOTIFICATIONS: dict[str, bool] = {"email": True, "in_app": True, "sms": False}


class Preferences(TableModel, discriminator="preferences"):
    """One user's preferences: edited by their owner (functions/me); ``notifications`` (channel -> wanted) is
    what a send without its own channels goes out on (riveredge.messaging), over :data:`DEFAULT_NOTIFICATIONS`."""

    user_id = UnicodeAttribute()
    theme = UnicodeAttribute()
    language = UnicodeAttribute()
    timezone = UnicodeAttribute()
    notifications = JSONAttribute()

    noun: ClassVar[str] = "preferences"
    id_attribute: ClassVar[str] = "user_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "language": self.language,
            "timezone": self.timezone,
            "notifications": self.notifications,
        }

    def wanted_channels(self) -> dict[str, bool]:
        """The notification channels over their defaults (channel -> wanted)."""
        stored = self.notifications if isinstance(self.notifications, dict) else {}
        return {**DEFAULT_NOTIFICATIONS, **{k: bool(v) for k, v in stored.items() if k in DEFAULT_NOTIFICATIONS}}

    @classmethod
    def new(cls, scope: Scope, user_id: str, **attributes: Any) -> Preferences:
        key = keys.preferences(scope, user_id)
        return cls(key.pk, key.sk, user_id=user_id, **attributes)
