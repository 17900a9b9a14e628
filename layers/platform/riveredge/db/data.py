"""Data sources: the databases (PostgreSQL, MySQL / MariaDB) and HTTP APIs a tenant's datasets read.

Written by the datasources function through the one write path; read by :mod:`riveredge.datasources`
(connections, queries, API calls) and by the datasets functions. The password or API token is never on the
item: it lives in Secrets Manager (`secret_arn`, write-only through the API).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope

DATABASE_TYPES = frozenset({"postgresql", "mysql"})
TYPES = DATABASE_TYPES | {"http"}


class DataSource(TableModel, discriminator="datasource"):
    """One data source of a tenant, at ``keys.datasource(scope, datasource_id)``.

    `type` is ``postgresql``, ``mysql`` (MySQL or MariaDB: which one is told by the server's version) or
    ``http``. `config` holds the type's fields, never a secret:

    - postgresql / mysql: ``host``, ``port``, ``database``, ``username``, ``ssl`` (bool: TLS required and
      the server's certificate checked), ``ca_certificate`` (PEM or None: the authorities to check it against
      instead of the system's), ``connect_timeout_ms``;
    - http: ``base_url``, ``headers`` (non-secret, name -> value), ``auth`` (``none`` | ``bearer`` |
      ``basic`` | ``header``), ``auth_header`` (the header's name for ``header``), ``username`` (for
      ``basic``), ``connect_timeout_ms``.

    `secret_arn` names the Secrets Manager secret holding the password (databases, basic auth) or the token
    (bearer / header auth); None when the source has none.
    """

    datasource_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    type = UnicodeAttribute()  # postgresql | mysql | http
    config = JSONAttribute(null=True)  # the type's fields, never a secret
    secret_arn = UnicodeAttribute(null=True)
    secret_updated_at = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "data source"
    id_attribute: ClassVar[str] = "datasource_id"

    @property
    def is_database(self) -> bool:
        return self.type in DATABASE_TYPES

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "config": dict(self.config or {}),
            "secret_updated_at": self.secret_updated_at,
        }

    @classmethod
    def new(cls, scope: Scope, datasource_id: str, **attributes: Any) -> DataSource:
        key = keys.datasource(scope, datasource_id)
        return cls(key.pk, key.sk, datasource_id=datasource_id, **attributes)

    @classmethod
    def all_of(cls, scope: Scope) -> list[DataSource]:
        """Every data source of `scope` (one Query), oldest first (ids are ULIDs)."""
        return [found for found in cls.query(keys.datasources(scope)) if isinstance(found, cls)]
