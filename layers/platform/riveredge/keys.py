"""Every DynamoDB key of the application is built here, and nowhere else.

Key schema of the single table (documented beside the table in template.yaml):

====================  =============================  ====================  ======================  ==============
entity                pk                             sk                    gsi1pk                  gsi1sk
====================  =============================  ====================  ======================  ==============
tenant                T#<tid>#TENANT                 TENANT                P#TENANTS               <tid>
tenant code           P#TENANT_CODE                  <code>
user                  <scope>USER                    <uid>                 <scope>USER_EMAIL       <email>
  (gsi2)                                                                     <scope>USER_TREE        <dept path>#<uid>
department            <scope>DEPT                    <did>                 <scope>DEPT_TREE        <path>
department code       <scope>DEPT_CODE               <code, lower case>
position              <scope>POSITION                <pid>                 <scope>DEPT_POSITIONS#<did>  <pid>
position code         <scope>POSITION_CODE           <code, lower case>
menu                  <scope>MENU                    <mid>                 <scope>MENU_TREE        <path>
invitation            <scope>INVITATION              <code>
activation            <scope>ACTIVATION              <token digest>
preferences           <scope>PREFERENCES             <uid>
job                   <scope>JOB                     <jid>
login identity        <scope>LOGIN                   <email>
login throttle        <scope>LOGIN_THROTTLE#<email>  ACCOUNT | IP#<ip>
  (per client IP)     <scope>LOGIN_THROTTLE_IP#<ip>  IP
known login address   <scope>LOGIN_THROTTLE#<email>  KNOWN#<ip>
session               <scope>SESSION                 <sid>                 <scope>USER_SESSION#<uid>  <sid>
role                  <scope>ROLE                    <rid>
role code             <scope>ROLE_CODE               <code>
authorisation index   <scope>AUTHZ                   AUTHZ
pending admin         T#<tid>#ONBOARDING             ADMIN
operation log         <scope>OPLOG                   <ulid>
login log             <scope>LOGINLOG                <ulid>
idempotency record    <scope>IDEMPOTENCY             <function>#<hash>
outbox event          <scope>OUTBOX                  <ulid>
mail delivery         <scope>MAIL_DELIVERY#<day>     <ulid>
  (day: YYYY-MM-DD, UTC, of the ulid's time)
mail suppression      <scope>MAIL_SUPPRESSION        <email, lower case>[#<category>]
config stamp          <scope>CONFIG_STAMP            <kind>
site settings         <scope>SITE                    SETTINGS
dictionary type       <scope>DICT                    <type code>
dictionary item       <scope>DICT_ITEM#<type code>   <item code>
parameter             <scope>PARAM                   <key>
language              <scope>LANGUAGE                <code>
translation bundle    <scope>I18N_BUNDLE             <language code>
integration           <scope>INTEGRATION             <iid>
outbound allow-list   <scope>OUTBOUND                ALLOW_LIST
code rule             <scope>CODE_RULE               <rule id>
code rule code        <scope>CODE_RULE_CODE          <code, lower case>
code counter          <scope>CODE_SEQ#<rule id>      <context>#<period>
custom field          <scope>CUSTOM_FIELD#<entity>   <field key>
mail global variable  <scope>MAIL_GLOBAL             <key>
mail template         <scope>EMAIL_TEMPLATE          <template id>
mail template code    <scope>EMAIL_TEMPLATE_CODE     <code>#<language>
mail template version <scope>EMAIL_TEMPLATE_VERSION#<template id>  <version, 8 digits>
message config        <scope>MESSAGE_CONFIG          <channel>
message template      <scope>MESSAGE_TEMPLATE        <template id>
message template code <scope>MESSAGE_TEMPLATE_CODE   <code, lower case>
message send          <scope>MESSAGE_SEND            <send id>
message delivery      <scope>MESSAGE_DELIVERY#<sid>  <user id>#<channel>
fan-out page marker   <scope>MESSAGE_PAGE#<sid>      <page, 6 digits>
inbox message         <scope>INBOX#<uid>             <message ulid>        <scope>INBOX_UNREAD#<uid>  <message ulid>
  (gsi1 while unread)
inbox unread counter  <scope>INBOX#<uid>             #UNREAD
ws connection         <scope>WS_USER#<uid>           <connection id>
ws session connection <scope>WS_SESSION#<sid>        <connection id>
ws connection lookup  P#WS_CONNECTION#<conn id>      CONNECTION
data source           <scope>DATASOURCE              <datasource id>
dataset               <scope>DATASET                 <dataset id>
dataset result        <scope>DATASET_CACHE#<dsid>    <digest>              (TTL; a big result in S3)
dataset export        <scope>DATASET_EXPORT#<dsid>   <export id>
file                  <scope>FILE#<fid>              FILE                  <scope>FOLDER_FILES#<folder>  <name>#<fid>
  (gsi2: by size)                                                            <scope>FOLDER_FILES#<folder>  <size>#<fid>
  (gsi3: by creation)                                                        <scope>FOLDER_FILES#<folder>  <fid>
  (gsi1 while pending)                                                       <scope>FILES_PENDING    <expiry>#<fid>
  (gsi1 while deleted)                                                       <scope>FILES_DELETED    <deleted at>#<fid>
folder                <scope>FOLDER                  <folder id>           <scope>FOLDER_TREE      <path>
  (gsi2: children)                                                           <scope>FOLDER_CHILDREN#<pid>  <name>#<id>
storage quota         <scope>STORAGE                 QUOTA
file settings         <scope>FILE_SETTINGS           SETTINGS
file share            <scope>FILE#<fid>              SHARE#<share id>      (in its file's partition)
interface             <scope>INTERFACE               <interface id>
interface route       <scope>INTERFACE_ROUTE         <METHOD> <path>       (one interface per method and path)
interface test run    <scope>INTERFACE_TEST#<iid>    <test ulid>           (TTL: kept 30 days)
====================  =============================  ====================  ======================  ==============

Files and folders: ``<folder>`` / ``<pid>`` is a folder id or ``ROOT``, ``<name>`` the case-folded name
(riveredge.db.files.name_key), ``<size>`` 16 digits.

``<scope>`` is ``T#<tenant_id>#`` for a tenant and ``P#`` for the platform, so
every partition key of the table and of the index starts with the prefix of the
scope that owns it. Collections of one kind share a partition and are listed
with one Query, newest last (ids are ULIDs).
"""

from __future__ import annotations

from typing import NamedTuple

from riveredge.scope import Scope, tenant_scope

PARTITION_KEYS = frozenset({"pk", "gsi1pk", "gsi2pk", "gsi3pk"})


class Key(NamedTuple):
    pk: str
    sk: str


def collection(scope: Scope, kind: str) -> str:
    """The partition that holds every item of `kind` in `scope`."""
    return f"{scope.prefix}{kind}"


# -- tenants --------------------------------------------------------------------------
def tenant(tenant_id: str) -> Key:
    return Key(collection(tenant_scope(tenant_id), "TENANT"), "TENANT")


TENANTS_INDEX_PK = "P#TENANTS"
TENANT_CODES_PK = "P#TENANT_CODE"


def tenant_code(code: str) -> Key:
    return Key(TENANT_CODES_PK, code)


def pending_admin(tenant_id: str) -> Key:
    return Key(collection(tenant_scope(tenant_id), "ONBOARDING"), "ADMIN")


# -- identity -------------------------------------------------------------------------
def user(scope: Scope, user_id: str) -> Key:
    return Key(collection(scope, "USER"), user_id)


def user_email_index(scope: Scope) -> str:
    return collection(scope, "USER_EMAIL")


def login(scope: Scope, email: str) -> Key:
    return Key(collection(scope, "LOGIN"), email.lower())


def login_throttle_account(scope: Scope, email: str) -> Key:
    """The failed-sign-in counter of one address, whichever client IP the attempts come from."""
    return Key(collection(scope, f"LOGIN_THROTTLE#{email.lower()}"), "ACCOUNT")


def login_throttle_account_ip(scope: Scope, email: str, ip: str) -> Key:
    """The failed-sign-in counter of one address from one client IP (beside the address's own counter)."""
    return Key(collection(scope, f"LOGIN_THROTTLE#{email.lower()}"), f"IP#{ip}")


def login_throttle_ip(scope: Scope, ip: str) -> Key:
    """The failed-sign-in counter of one client IP across every address of the scope."""
    return Key(collection(scope, f"LOGIN_THROTTLE_IP#{ip}"), "IP")


def known_login_address(scope: Scope, email: str, ip: str) -> Key:
    """The mark of a client IP that `email` signed in from, in the address's throttle partition."""
    return Key(collection(scope, f"LOGIN_THROTTLE#{email.lower()}"), f"KNOWN#{ip}")


def session(scope: Scope, session_id: str) -> Key:
    return Key(collection(scope, "SESSION"), session_id)


def user_sessions_index(scope: Scope, user_id: str) -> str:
    return collection(scope, f"USER_SESSION#{user_id}")


def role(scope: Scope, role_id: str) -> Key:
    return Key(collection(scope, "ROLE"), role_id)


def role_code(scope: Scope, code: str) -> Key:
    """The item that keeps role codes unique within a scope."""
    return Key(collection(scope, "ROLE_CODE"), code)


def authz(scope: Scope) -> Key:
    return Key(collection(scope, "AUTHZ"), "AUTHZ")


# -- organisation ---------------------------------------------------------------------
def department(scope: Scope, department_id: str) -> Key:
    return Key(collection(scope, "DEPT"), department_id)


def department_tree_index(scope: Scope) -> str:
    return collection(scope, "DEPT_TREE")


def department_code(scope: Scope, code: str) -> Key:
    """The item that keeps department codes unique within a scope (case-insensitively)."""
    return Key(collection(scope, "DEPT_CODE"), code.lower())


def position(scope: Scope, position_id: str) -> Key:
    return Key(collection(scope, "POSITION"), position_id)


def department_positions_index(scope: Scope, department_id: str) -> str:
    return collection(scope, f"DEPT_POSITIONS#{department_id}")


def position_code(scope: Scope, code: str) -> Key:
    """The item that keeps position codes unique within a scope (case-insensitively)."""
    return Key(collection(scope, "POSITION_CODE"), code.lower())


def user_tree_index(scope: Scope) -> str:
    """gsi2 partition of users ordered by department path, so a subtree is one begins_with Query."""
    return collection(scope, "USER_TREE")


NO_DEPARTMENT_PATH = "~/"  # sorts after every real path ("/...")


def user_tree_sort_key(department_path: str | None, user_id: str) -> str:
    return f"{department_path or NO_DEPARTMENT_PATH}#{user_id}"


def menu(scope: Scope, menu_id: str) -> Key:
    return Key(collection(scope, "MENU"), menu_id)


def menu_tree_index(scope: Scope) -> str:
    return collection(scope, "MENU_TREE")


def invitation(scope: Scope, code: str) -> Key:
    return Key(collection(scope, "INVITATION"), code)


def activation(scope: Scope, token_digest: str) -> Key:
    return Key(collection(scope, "ACTIVATION"), token_digest)


def preferences(scope: Scope, user_id: str) -> Key:
    return Key(collection(scope, "PREFERENCES"), user_id)


def job(scope: Scope, job_id: str) -> Key:
    return Key(collection(scope, "JOB"), job_id)


# -- logs and bookkeeping -------------------------------------------------------------
def oplog(scope: Scope, entry_id: str) -> Key:
    return Key(collection(scope, "OPLOG"), entry_id)


def login_log(scope: Scope, entry_id: str) -> Key:
    return Key(collection(scope, "LOGINLOG"), entry_id)


def idempotency(scope: Scope, record: str) -> Key:
    return Key(collection(scope, "IDEMPOTENCY"), record)


def outbox(scope: Scope, event_id: str) -> Key:
    return Key(collection(scope, "OUTBOX"), event_id)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_day(ulid: str) -> str:
    """The UTC day (YYYY-MM-DD) of a ULID's time (its first 10 characters: milliseconds since the epoch).

    ValueError for a string that is not a ULID.
    """
    from datetime import UTC, datetime

    if len(ulid) != 26 or any(c not in _CROCKFORD for c in ulid.upper()):
        raise ValueError(f"not a ULID: {ulid!r}")
    milliseconds = 0
    for character in ulid[:10].upper():
        milliseconds = milliseconds * 32 + _CROCKFORD.index(character)
    return datetime.fromtimestamp(milliseconds / 1000, UTC).strftime("%Y-%m-%d")


def mail_deliveries(scope: Scope, day: str) -> str:
    """The partition of a tenant's delivery records of one UTC day (YYYY-MM-DD): the mail log's bucket."""
    return collection(scope, f"MAIL_DELIVERY#{day}")


def mail_delivery(scope: Scope, delivery_id: str) -> Key:
    """A delivery record: in the bucket of its id's day, so the id alone still finds it (one GetItem)."""
    return Key(mail_deliveries(scope, ulid_day(delivery_id)), delivery_id)


def mail_suppression(scope: Scope, email: str, category: str | None = None) -> Key:
    """An address the tenant no longer mails: for every category (a bounce, a complaint), or for one."""
    address = email.lower()
    return Key(collection(scope, "MAIL_SUPPRESSION"), f"{address}#{category}" if category else address)


# -- configuration --------------------------------------------------------------------
def config_stamps(scope: Scope) -> str:
    """The partition of the scope's configuration stamps (one item per kind: one Query reads them all)."""
    return collection(scope, "CONFIG_STAMP")


def config_stamp(scope: Scope, kind: str) -> Key:
    return Key(config_stamps(scope), kind)


def site_settings(scope: Scope) -> Key:
    return Key(collection(scope, "SITE"), "SETTINGS")


# -- configuration: dictionaries and parameters ---------------------------------------
def dictionary_types(scope: Scope) -> str:
    return collection(scope, "DICT")


def dictionary_type(scope: Scope, code: str) -> Key:
    return Key(dictionary_types(scope), code)


def dictionary_items(scope: Scope, type_code: str) -> str:
    """The partition of one type's items: the whole list is one Query."""
    return collection(scope, f"DICT_ITEM#{type_code}")


def dictionary_item(scope: Scope, type_code: str, code: str) -> Key:
    return Key(dictionary_items(scope, type_code), code)


def parameters(scope: Scope) -> str:
    return collection(scope, "PARAM")


def parameter(scope: Scope, key: str) -> Key:
    return Key(parameters(scope), key)


# -- configuration: languages ---------------------------------------------------------------
def languages(scope: Scope) -> str:
    return collection(scope, "LANGUAGE")


def language(scope: Scope, code: str) -> Key:
    return Key(languages(scope), code)


def translation_bundle(scope: Scope, language_code: str) -> Key:
    """A tenant's own keys of one language: one item, apart from the languages' list."""
    return Key(collection(scope, "I18N_BUNDLE"), language_code)


# -- configuration: integrations -------------------------------------------------------------
def integration(scope: Scope, integration_id: str) -> Key:
    return Key(collection(scope, "INTEGRATION"), integration_id)


def integrations(scope: Scope) -> str:
    return collection(scope, "INTEGRATION")


def outbound_allow_list(scope: Scope) -> Key:
    return Key(collection(scope, "OUTBOUND"), "ALLOW_LIST")


# -- configuration: code rules ----------------------------------------------------------
def code_rules(scope: Scope) -> str:
    return collection(scope, "CODE_RULE")


def code_rule(scope: Scope, rule_id: str) -> Key:
    return Key(code_rules(scope), rule_id)


def code_rule_code(scope: Scope, code: str) -> Key:
    """The item that keeps code-rule codes unique within a scope (case-insensitively)."""
    return Key(collection(scope, "CODE_RULE_CODE"), code.lower())


# -- configuration: custom fields -----------------------------------------------------------
def custom_fields(scope: Scope, entity: str) -> str:
    """The partition of one entity type's custom-field definitions: the whole set is one Query."""
    return collection(scope, f"CUSTOM_FIELD#{entity}")


def custom_field(scope: Scope, entity: str, key: str) -> Key:
    return Key(custom_fields(scope, entity), key)


# -- mail templates --------------------------------------------------------------------------
def mail_globals(scope: Scope) -> str:
    return collection(scope, "MAIL_GLOBAL")


def mail_global(scope: Scope, key: str) -> Key:
    return Key(mail_globals(scope), key)


def email_templates(scope: Scope) -> str:
    """The partition of a tenant's mail templates (current state, no bodies): the whole set is one Query."""
    return collection(scope, "EMAIL_TEMPLATE")


def email_template(scope: Scope, template_id: str) -> Key:
    return Key(email_templates(scope), template_id)


def email_template_code(scope: Scope, code: str, language: str) -> Key:
    """The item that keeps one template per code and language within a scope."""
    return Key(collection(scope, "EMAIL_TEMPLATE_CODE"), f"{code}#{language}")


def email_template_versions(scope: Scope, template_id: str) -> str:
    """The partition of one template's versions (each its own item: a long history never makes one big item)."""
    return collection(scope, f"EMAIL_TEMPLATE_VERSION#{template_id}")


def email_template_version(scope: Scope, template_id: str, number: int) -> Key:
    return Key(email_template_versions(scope, template_id), f"{number:08d}")


def code_counter(scope: Scope, rule_id: str, context: str, period: str) -> Key:
    """The sequence of one rule for one context value ("" without one) in one reset period."""
    return Key(collection(scope, f"CODE_SEQ#{rule_id}"), f"{context}#{period}")


# -- messages (channel configs, message templates, sends and their deliveries) ---------------
def message_configs(scope: Scope) -> str:
    """The partition of a tenant's channel configs: one item per channel, the whole set is one Query."""
    return collection(scope, "MESSAGE_CONFIG")


def message_config(scope: Scope, channel: str) -> Key:
    return Key(message_configs(scope), channel)


# -- my messages (one inbox per user) and real-time connections ---------------------------------
INBOX_UNREAD = "#UNREAD"  # the unread counter's sort key: sorts before every message id (ULIDs)


def inbox(scope: Scope, user_id: str) -> str:
    """One user's inbox: a partition of its own, so a push to a big tenant spreads over as many partitions as
    it has recipients (one partition per tenant would make one hot key)."""
    return collection(scope, f"INBOX#{user_id}")


def inbox_message(scope: Scope, user_id: str, message_id: str) -> Key:
    """A message of one user's inbox; `message_id` is a ULID chosen by the writer (newest last in the partition)."""
    return Key(inbox(scope, user_id), message_id)


def inbox_unread_index(scope: Scope, user_id: str) -> str:
    """gsi1 partition of a user's unread messages (sparse: a message leaves it when read), for the unread
    filter and read-all without reading every message."""
    return collection(scope, f"INBOX_UNREAD#{user_id}")


def inbox_unread(scope: Scope, user_id: str) -> Key:
    """The counter of a user's unread messages, in the inbox's partition, kept in step by every inbox write."""
    return Key(inbox(scope, user_id), INBOX_UNREAD)


def connections(scope: Scope, user_id: str) -> str:
    """The open WebSocket connections of one user: what a push Queries."""
    return collection(scope, f"WS_USER#{user_id}")


def connection(scope: Scope, user_id: str, connection_id: str) -> Key:
    return Key(connections(scope, user_id), connection_id)


def session_connections(scope: Scope, session_id: str) -> str:
    """The connections one session opened: what revoking the session closes (a consistent Query)."""
    return collection(scope, f"WS_SESSION#{session_id}")


def session_connection(scope: Scope, session_id: str, connection_id: str) -> Key:
    return Key(session_connections(scope, session_id), connection_id)


def connection_lookup(connection_id: str) -> Key:
    """Whose connection an id is: a $disconnect names only the connection, not its tenant, so this one item is
    in the platform scope, in a partition of its own (connection ids are random: no hot key)."""
    return Key(f"P#WS_CONNECTION#{connection_id}", "CONNECTION")


def message_templates(scope: Scope) -> str:
    return collection(scope, "MESSAGE_TEMPLATE")


def message_template(scope: Scope, template_id: str) -> Key:
    return Key(message_templates(scope), template_id)


def message_template_code(scope: Scope, code: str) -> Key:
    """The item that keeps message-template codes unique within a scope (case-insensitively)."""
    return Key(collection(scope, "MESSAGE_TEMPLATE_CODE"), code.lower())


def message_sends(scope: Scope) -> str:
    """The partition of a tenant's sends (a few a day per tenant, ULIDs: newest first is one reverse Query)."""
    return collection(scope, "MESSAGE_SEND")


def message_send(scope: Scope, send_id: str) -> Key:
    return Key(message_sends(scope), send_id)


def message_deliveries(scope: Scope, send_id: str) -> str:
    """The partition of one send's delivery records: one per recipient and channel, a partition per send."""
    return collection(scope, f"MESSAGE_DELIVERY#{send_id}")


def message_delivery(scope: Scope, send_id: str, user_id: str, channel: str) -> Key:
    """A delivery's key is its send, recipient and channel: a retried fan-out writes the same key."""
    return Key(message_deliveries(scope, send_id), f"{user_id}#{channel}")


def message_page(scope: Scope, send_id: str, page: int) -> Key:
    """The marker of one fan-out page of a send, written with the page's records (a retried page is skipped)."""
    return Key(collection(scope, f"MESSAGE_PAGE#{send_id}"), f"{page:06d}")


# -- data sources (databases and HTTP APIs that datasets read) --------------------------------
def datasources(scope: Scope) -> str:
    """The partition of a tenant's data sources (a few dozen at most): the whole list is one Query."""
    return collection(scope, "DATASOURCE")


def datasource(scope: Scope, datasource_id: str) -> Key:
    return Key(datasources(scope), datasource_id)


# -- files and folders (riveredge.db.files) ---------------------------------------------------
ROOT_FOLDER = "ROOT"  # the folder id of the root in the listing partitions (real ids are ULIDs)


def file(scope: Scope, file_id: str) -> Key:
    """One file: a partition of its own, so a tenant's uploads spread over as many partitions as it has files."""
    return Key(collection(scope, f"FILE#{file_id}"), "FILE")


def folder_files(scope: Scope, folder_id: str | None) -> str:
    """The listing partition of one folder's files (None: the root), in gsi1 by name, gsi2 by size and gsi3 by
    creation: a folder's page in any of the three orders is one Query, and each folder is its own partition."""
    return collection(scope, f"FOLDER_FILES#{folder_id or ROOT_FOLDER}")


def pending_files(scope: Scope) -> str:
    """gsi1 partition of the files whose upload has not arrived yet, by expiry: what reclaims stale reservations."""
    return collection(scope, "FILES_PENDING")


def deleted_files(scope: Scope) -> str:
    """gsi1 partition of the soft-deleted files (the recycle bin), by deletion time."""
    return collection(scope, "FILES_DELETED")


def folder(scope: Scope, folder_id: str) -> Key:
    return Key(collection(scope, "FOLDER"), folder_id)


def folder_tree_index(scope: Scope) -> str:
    """gsi1 partition of the folders by materialised path: a subtree is one begins_with Query."""
    return collection(scope, "FOLDER_TREE")


def folder_children(scope: Scope, parent_id: str | None) -> str:
    """gsi2 partition of one folder's sub-folders (None: the root's), by name."""
    return collection(scope, f"FOLDER_CHILDREN#{parent_id or ROOT_FOLDER}")


def storage_quota(scope: Scope) -> Key:
    """The tenant's storage counters and limits (riveredge.storage): one item, updated conditionally."""
    return Key(collection(scope, "STORAGE"), "QUOTA")


def file_settings(scope: Scope) -> Key:
    return Key(collection(scope, "FILE_SETTINGS"), "SETTINGS")


# -- datasets (queries on data sources), their result cache and their exports -----------------
def datasets(scope: Scope) -> str:
    """The partition of a tenant's datasets (definitions only, a few hundred at most): the list is one Query."""
    return collection(scope, "DATASET")


def dataset(scope: Scope, dataset_id: str) -> Key:
    return Key(datasets(scope), dataset_id)


def dataset_results(scope: Scope, dataset_id: str) -> str:
    """One dataset's cached results: a partition per dataset, so previews of many datasets never share a key."""
    return collection(scope, f"DATASET_CACHE#{dataset_id}")


def dataset_result(scope: Scope, dataset_id: str, digest: str) -> Key:
    """A cached result; `digest` hashes what the result depends on (dataset and source versions, parameters)."""
    return Key(dataset_results(scope, dataset_id), digest)


def dataset_exports(scope: Scope, dataset_id: str) -> str:
    """One dataset's export jobs: a partition per dataset (newest last: ULIDs)."""
    return collection(scope, f"DATASET_EXPORT#{dataset_id}")


def dataset_export(scope: Scope, dataset_id: str, export_id: str) -> Key:
    return Key(dataset_exports(scope, dataset_id), export_id)


# -- share links of files (riveredge.db.file_shares) -------------------------------------------
SHARE_PREFIX = "SHARE#"


def file_share(scope: Scope, file_id: str, share_id: str) -> Key:
    """A share link of a file, in the file's own partition: the file's links are one Query (consistent), and the
    download counters of a popular link only ever write to that one file's partition."""
    return Key(collection(scope, f"FILE#{file_id}"), f"{SHARE_PREFIX}{share_id}")


# -- the API registry (riveredge.db.interfaces) --------------------------------------------------
def interfaces(scope: Scope) -> str:
    """The partition of a tenant's described interfaces (configuration: one Query lists or exports them)."""
    return collection(scope, "INTERFACE")


def interface(scope: Scope, interface_id: str) -> Key:
    return Key(interfaces(scope), interface_id)


def interface_route(scope: Scope, method: str, path: str) -> Key:
    """The claim that keeps one interface per method and path (`path` as the OpenAPI export keys it, its
    templates' names left out: ``/users/{}``)."""
    return Key(collection(scope, "INTERFACE_ROUTE"), f"{method} {path}")


def interface_tests(scope: Scope, interface_id: str) -> str:
    """The partition of one interface's test runs: a partition per interface, newest last (ULIDs)."""
    return collection(scope, f"INTERFACE_TEST#{interface_id}")


def interface_test(scope: Scope, interface_id: str, test_id: str) -> Key:
    return Key(interface_tests(scope, interface_id), test_id)
