"""Real PostgreSQL and MariaDB servers for the tests, started on first use and stopped at the session's end.

The servers are Debian's packages (``postgresql``, ``mariadb-server``; ``make dbservers`` installs them when the
binaries are missing and never starts the system services). Each session fixture starts its own server in a
temporary directory on a free 127.0.0.1 port — ``initdb`` + ``postgres``, ``mariadb-install-db`` + ``mariadbd`` —
with durability switched off (a test database is thrown away) and stops it when the session ends, tests failed or
not. The servers are this process's own children (not daemonised by pg_ctl), started through ``setpriv``, which
sets a parent-death signal and execs the server: the process the fixture stops is the server, and a session that
is killed outright stops them too. As root (CI) setpriv also makes them the unprivileged ``nobody`` (initdb
refuses root; mariadbd wants a user).

Each server has one database (``riveredge``) and two accounts besides the superuser:

- ``owner`` (password in ``DatabaseServer.password``): owns the database; tests create and seed tables with it
  (``server.execute(...)``);
- ``reader`` (``DatabaseServer.reader_password``): SELECT on the database's tables and nothing else, what a data
  source should sign in as (``server.source_config()`` is the DataSource config naming it).

Fixtures (registered in tests/integration/conftest.py): ``postgres_server``, ``mariadb_server``.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

DATABASE = "riveredge"
OWNER = "owner"
READER = "reader"
ADMIN = "admin"  # the superuser tests sign in as (MariaDB's root keeps its socket-only accounts)
START_TIMEOUT_S = 60.0
UNPRIVILEGED_USER = "nobody"


class ServerUnavailable(RuntimeError):
    """The server's binaries are missing or it did not start (the message says which, with its log)."""


@dataclass
class DatabaseServer:
    kind: Literal["postgresql", "mariadb"]
    host: str
    port: int
    user: str
    password: str
    database: str
    reader: str
    reader_password: str
    admin_user: str
    admin_password: str
    directory: Path
    started_in_s: float = 0.0  # how long starting it took (initialising the data directory included)
    log: Path | None = None
    _stop: list[Any] = field(default_factory=list, repr=False)
    _tls_ca: str = field(default="", repr=False)

    # -- connections (DB-API, autocommit) ---------------------------------------------------------------
    def connect(self, user: str | None = None, password: str | None = None, database: str | None = None) -> Any:
        """A DB-API connection (pg8000.dbapi / PyMySQL), autocommit, as `user` (default: the owner)."""
        user = user or self.user
        password = self.password if password is None and user == self.user else password
        if self.kind == "postgresql":
            import pg8000.dbapi

            connection = pg8000.dbapi.connect(
                user=user,
                password=password,
                host=self.host,
                port=self.port,
                database=database or self.database,
                timeout=30,
            )
            connection.autocommit = True
            return connection
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=user,
            password=password or "",
            database=database or self.database,
            autocommit=True,
            charset="utf8mb4",
            read_timeout=30,
        )

    def admin(self, database: str | None = None) -> Any:
        """A superuser connection (autocommit): for what only an administrator may do in a test."""
        return self.connect(self.admin_user, self.admin_password, database)

    def execute(self, sql: str, params: Sequence[Any] = (), *, admin: bool = False) -> list[tuple[Any, ...]]:
        """Run one statement (``%s`` placeholders) as the owner (or the superuser); answers its rows, if any."""
        connection = self.admin() if admin else self.connect()
        try:
            cursor = connection.cursor()
            if params:
                cursor.execute(sql, tuple(params))
            else:  # no %-formatting of the text at all (PyMySQL formats whenever it is given arguments)
                cursor.execute(sql)
            rows = [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            cursor.close()
            return rows
        finally:
            connection.close()

    def source_config(self, **overrides: Any) -> dict[str, Any]:
        """The data source config that signs in as the reader (its password goes in the request's `secret`)."""
        config: dict[str, Any] = {
            "type": "postgresql" if self.kind == "postgresql" else "mysql",
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "username": self.reader,
            "ssl": False,
            "connect_timeout_ms": 5000,
        }
        return {**config, **overrides}

    def enable_tls(self) -> str:
        """Switch TLS on (PostgreSQL only: a reload, no restart) with a server certificate for 127.0.0.1 signed by
        a CA made here; answers the CA's PEM certificate. Connections that do not ask for TLS still work."""
        if self.kind != "postgresql":
            raise NotImplementedError("TLS is switched on for the PostgreSQL test server only")
        if self._tls_ca:
            return self._tls_ca
        ca_pem, cert_pem, key_pem = make_certificates()
        for name, data in (("server.crt", cert_pem), ("server.key", key_pem)):
            path = self.directory / name
            path.write_bytes(data)
            path.chmod(0o600)
            if os.geteuid() == 0:
                account = pwd.getpwnam(UNPRIVILEGED_USER)
                os.chown(path, account.pw_uid, account.pw_gid)
        admin = self.admin()
        try:
            cursor = admin.cursor()
            cursor.execute(f"ALTER SYSTEM SET ssl_cert_file = '{self.directory / 'server.crt'}'")
            cursor.execute(f"ALTER SYSTEM SET ssl_key_file = '{self.directory / 'server.key'}'")
            cursor.execute("ALTER SYSTEM SET ssl = on")
            cursor.execute("SELECT pg_reload_conf()")
        finally:
            admin.close()

        def offers_tls() -> None:
            import ssl

            import pg8000.dbapi

            context = ssl.create_default_context(cadata=ca_pem)
            pg8000.dbapi.connect(
                user=self.admin_user,
                password=self.admin_password,
                host=self.host,
                port=self.port,
                database="postgres",
                ssl_context=context,
                timeout=5,
            ).close()

        _wait_for(offers_tls, "PostgreSQL's TLS", self.log or self.directory / "server.log")
        self._tls_ca = ca_pem
        return ca_pem

    def stop(self) -> None:
        while self._stop:
            self._stop.pop()()
        shutil.rmtree(self.directory, ignore_errors=True)


# -- helpers -------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_unprivileged(command: list[str]) -> list[str]:
    """`command` as the unprivileged user when we are root (exec'd by setpriv: no process in between)."""
    if os.geteuid() != 0:
        return command
    account = pwd.getpwnam(UNPRIVILEGED_USER)
    return [
        "setpriv",
        f"--reuid={account.pw_uid}",
        f"--regid={account.pw_gid}",
        "--clear-groups",
        "--",
        *command,
    ]


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server as a child of this process that dies with it: setpriv sets the parent-death signal (and,
    as root, the unprivileged user) and execs the server, so even a test session that is killed outright leaves
    no server behind."""
    wrapped = _as_unprivileged(command)
    if wrapped[0] != "setpriv":
        wrapped = ["setpriv", "--", *wrapped]
    wrapped.insert(1, "--pdeathsig=TERM")
    with log.open("ab") as output:
        return subprocess.Popen(
            wrapped, env=_environment(), stdin=subprocess.DEVNULL, stdout=output, stderr=output, cwd="/"
        )


def _stopper(process: subprocess.Popen[bytes], stop_signal: int) -> Any:
    def stop() -> None:
        if process.poll() is None:
            process.send_signal(stop_signal)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    return stop


def _directory(prefix: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        account = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(directory, account.pw_uid, account.pw_gid)
    return directory


def _environment() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "HOME": "/tmp"}


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    done = subprocess.run(
        _as_unprivileged(command),
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
        cwd="/",
    )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise ServerUnavailable(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}")


def _binary(name: str, *patterns: str) -> str:
    found = shutil.which(name) or next(
        (path for pattern in patterns for path in sorted(glob.glob(pattern), reverse=True)), None
    )
    if not found:
        raise ServerUnavailable(f"{name} not found: run `make dbservers` (installs postgresql and mariadb-server)")
    return found


def _wait_for(check: Any, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            check()
            return
        except Exception as error:  # any failure means: not ready yet
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise ServerUnavailable(f"{what} did not start: {error}\n{tail}") from error
            time.sleep(0.1)


def make_certificates() -> tuple[str, bytes, bytes]:
    """A CA (its PEM certificate) and a server certificate for 127.0.0.1 / localhost signed by it (PEM cert, key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RiverEdge test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        ca.public_bytes(serialization.Encoding.PEM).decode(),
        server.public_bytes(serialization.Encoding.PEM),
        key_pem,
    )


# -- PostgreSQL ----------------------------------------------------------------------------------------
def start_postgres() -> DatabaseServer:
    started = time.monotonic()
    patterns = ("/usr/lib/postgresql/*/bin/{}",)
    initdb = _binary("initdb", *(p.format("initdb") for p in patterns))
    postgres = _binary("postgres", *(p.format("postgres") for p in patterns))
    directory = _directory("riveredge-pg-")
    data, log, password_file = directory / "data", directory / "server.log", directory / "admin-password"
    admin_password = secrets.token_urlsafe(16)
    password_file.write_text(admin_password)
    if os.geteuid() == 0:
        account = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(password_file, account.pw_uid, account.pw_gid)
    port = _free_port()
    server = DatabaseServer(
        kind="postgresql",
        host="127.0.0.1",
        port=port,
        user=OWNER,
        password=secrets.token_urlsafe(16),
        database=DATABASE,
        reader=READER,
        reader_password=secrets.token_urlsafe(16),
        admin_user=ADMIN,
        admin_password=admin_password,
        directory=directory,
        log=log,
    )
    try:
        _run(
            [
                initdb,
                "--pgdata",
                str(data),
                "--username",
                ADMIN,
                "--pwfile",
                str(password_file),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
                "--no-instructions",
            ],
            "initdb",
        )
        process = _spawn(
            [
                postgres,
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(directory),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "shared_buffers=32MB",
                "-c",
                "max_connections=50",
            ],
            log,
        )
        server._stop.append(_stopper(process, signal.SIGINT))  # PostgreSQL's fast shutdown

        def admin_connects() -> None:
            if process.poll() is not None:
                raise ServerUnavailable(f"postgres exited with {process.returncode}")
            server.admin("postgres").close()

        _wait_for(admin_connects, "PostgreSQL", log)
        admin = server.admin("postgres")
        try:
            cursor = admin.cursor()
            cursor.execute(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{server.password}'")
            cursor.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{server.reader_password}'")
            cursor.execute(f"CREATE DATABASE {DATABASE} OWNER {OWNER}")
        finally:
            admin.close()
        owner = server.connect()
        try:
            cursor = owner.cursor()
            cursor.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public GRANT SELECT ON TABLES TO {READER}"
            )
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public GRANT SELECT ON SEQUENCES TO {READER}"
            )
        finally:
            owner.close()
    except BaseException:
        server.stop()
        raise
    server.started_in_s = round(time.monotonic() - started, 2)
    return server


# -- MariaDB -------------------------------------------------------------------------------------------
def start_mariadb() -> DatabaseServer:
    started = time.monotonic()
    install_db = _binary("mariadb-install-db", "/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db")
    mariadbd = _binary("mariadbd", "/usr/sbin/mariadbd", "/usr/sbin/mysqld")
    directory = _directory("riveredge-mariadb-")
    data, log, sock = directory / "data", directory / "server.log", directory / "mysqld.sock"
    port = _free_port()
    server = DatabaseServer(
        kind="mariadb",
        host="127.0.0.1",
        port=port,
        user=OWNER,
        password=secrets.token_urlsafe(16),
        database=DATABASE,
        reader=READER,
        reader_password=secrets.token_urlsafe(16),
        admin_user=ADMIN,  # token_urlsafe passwords: no quoting needed where they are written into SQL
        admin_password=secrets.token_urlsafe(16),
        directory=directory,
        log=log,
    )
    try:
        _run(
            [
                install_db,
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=32M",
            ],
            "mariadb-install-db",
        )
        process = _spawn(
            [
                mariadbd,
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={sock}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={directory / 'mariadbd.pid'}",
                f"--log-error={log}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--max-connections=50",
            ],
            directory / "stdout.log",
        )
        server._stop.append(_stopper(process, signal.SIGTERM))

        def root_connects() -> None:
            import pymysql

            if process.poll() is not None:
                raise ServerUnavailable(f"mariadbd exited with {process.returncode}")
            pymysql.connect(unix_socket=str(sock), user="root", password="", connect_timeout=2).close()

        _wait_for(root_connects, "MariaDB", log)
        import pymysql

        root = pymysql.connect(unix_socket=str(sock), user="root", password="", autocommit=True)
        try:
            with root.cursor() as cursor:
                cursor.execute("SELECT host FROM mysql.user WHERE user = ''")
                for (host,) in cursor.fetchall():  # anonymous accounts would shadow ours from some hosts
                    cursor.execute("DROP USER ''@%s", (host,))
                cursor.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
                cursor.execute(f"CREATE USER '{OWNER}'@'%' IDENTIFIED BY '{server.password}'")
                cursor.execute(f"GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{OWNER}'@'%'")
                cursor.execute(f"CREATE USER '{READER}'@'%' IDENTIFIED BY '{server.reader_password}'")
                cursor.execute(f"GRANT SELECT ON {DATABASE}.* TO '{READER}'@'%'")
                # a superuser over TCP, with a password (root's own accounts are for the socket)
                cursor.execute(f"CREATE USER '{ADMIN}'@'%' IDENTIFIED BY '{server.admin_password}'")
                cursor.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'%' WITH GRANT OPTION")
        finally:
            root.close()
    except BaseException:
        server.stop()
        raise
    server.started_in_s = round(time.monotonic() - started, 2)
    return server


# -- fixtures --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[DatabaseServer]:
    """A PostgreSQL server of this session (started on first use; see the module's doc)."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[DatabaseServer]:
    """A MariaDB server of this session (started on first use; see the module's doc)."""
    server = start_mariadb()
    try:
        yield server
    finally:
        server.stop()
