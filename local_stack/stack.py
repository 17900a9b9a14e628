"""The local stack: moto (in-process or as a server), resources from the template, handlers in-process."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, replace
from typing import Any

import boto3

from local_stack import dispatch, dynamodb, event_sources, eventbus, serialise, tracking
from local_stack.environments import LambdaRuntime
from local_stack.event_sources import EventSources
from local_stack.gateway import Gateway, GatewayResponse
from local_stack.lambdas import FunctionRegistry, install_moto_seam
from local_stack.provision import Provisioner, shared_environment
from local_stack.scheduler import LocalScheduler
from local_stack.template import ROOT, Resolver, load, parameter_defaults
from local_stack.websocket import WebSocketGateway, websocket_routes

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
STAGE = "local"
OPERATOR_EMAIL = "operator@riveredge.local"
DEMO_TENANT = "acme"
DEMO_ADMIN_EMAIL = "admin@acme.example"
DEFAULT_DEMO_PASSWORD = "RiverEdge-demo-2026"

BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "TABLE_NAME": f"riveredge-{STAGE}",
}


def prepare_environment() -> None:
    """Credentials, region and the names that modules read at import time (before any import of ours)."""
    for key, value in BASE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    # the layer, the project, and every function's code folder (each is a top-level package: see
    # docs/adding-a-domain.md on names)
    for path in (*sorted((ROOT / "functions").iterdir(), reverse=True), ROOT / "layers" / "platform", ROOT):
        if path.is_dir() and str(path) not in sys.path:
            sys.path.insert(0, str(path))


@dataclass
class Reply:
    """What a client of the local API sees."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalStack:
    """Everything template.yaml declares, running on this machine.

    moto runs as a server in this process (on `moto_port`, or a free port) and
    every function runs in execution environments of its own that call it over
    HTTP, as deployed functions call AWS. `function_environment` adds variables
    to every function's environment (after the template's); `function_log`
    sends the functions' output to a file instead of this process's.
    """

    def __init__(
        self,
        *,
        moto_port: int | None = None,
        parameters: dict[str, Any] | None = None,
        function_environment: dict[str, str] | None = None,
        function_log: str | None = None,
        concurrency: int | None = None,
        websocket_port: int | None = None,
        websocket_management_port: int | None = None,
    ) -> None:
        self.moto_port = moto_port or free_port()
        self.websocket_port = websocket_port or 0  # 0: a free port
        self.websocket_management_port = websocket_management_port or 0
        # links in mail point at the local API unless told otherwise
        self.parameters = {"Stage": STAGE, "AppBaseUrl": "http://127.0.0.1:3000", **(parameters or {})}
        self.function_overrides = dict(function_environment or {})
        self.function_log = function_log
        self.concurrency = concurrency
        self.registry = FunctionRegistry()
        self._server: Any = None
        self.gateway: Gateway
        self.scheduler: LocalScheduler
        self.runtime: LambdaRuntime
        self.event_sources: EventSources
        self.environment: dict[str, str] = {}
        self.websocket: WebSocketGateway | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> LocalStack:
        prepare_environment()
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        dispatch.install()
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per AWS request
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._server.start()
        os.environ["MOTO_PORT"] = str(self.moto_port)
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{self.moto_port}"
        if "riveredge.aws" in sys.modules:  # clients made before the endpoint was known
            sys.modules["riveredge.aws"].reset_clients()
        if "riveredge.db.base" in sys.modules:
            sys.modules["riveredge.db.base"]._connection.cache_clear()
        serialise.install()
        tracking.install()
        dynamodb.install()
        install_moto_seam(self.registry)
        eventbus.install(self.registry)
        event_sources.install()
        template = load()
        self.resolver = Resolver(parameter_defaults(template, self.parameters), ACCOUNT_ID, REGION)
        provisioner = Provisioner(template, self.resolver, self.registry)
        provisioner.run()
        environments = provisioner.function_environments()
        if websocket_routes(template)[0] is not None:
            # the WebSocket API and its management endpoint (what WEBSOCKET_ENDPOINT names in AWS)
            self.websocket = WebSocketGateway(
                template,
                self.resolver,
                self.registry,
                port=self.websocket_port,
                management_port=self.websocket_management_port,
            ).start()
            for variables in environments.values():
                if "WEBSOCKET_ENDPOINT" in variables:
                    variables["WEBSOCKET_ENDPOINT"] = self.websocket.management_url
        self.environment = shared_environment(environments)
        os.environ.update(self.environment)
        base = dict(os.environ)
        layer = str(ROOT / "layers" / "platform")
        for function in self.registry.all():
            function.spec = replace(
                function.spec,
                # AWS_SDK_UA_APP_ID names the function in its SDK's User-Agent (local_stack.calls counts by it)
                environment={
                    **base,
                    **environments[function.logical_id],
                    "AWS_SDK_UA_APP_ID": function.logical_id,
                    **self.function_overrides,
                },
                sys_path=(layer, str(ROOT)),
                log_path=self.function_log,
            )
        self.runtime = LambdaRuntime(self.function_log, self.concurrency)
        self.registry.use_runtime(self.runtime)
        for function in self.registry.all():
            code = str(function.code_dir)
            if code not in sys.path:
                sys.path.insert(0, code)
        self.gateway = Gateway(template, self.resolver, self.registry)
        self.scheduler = LocalScheduler(self.registry)
        self.event_sources = EventSources(REGION, ACCOUNT_ID)
        for mapping in provisioner.mappings:
            self.event_sources.add(mapping)
        return self

    def stop(self) -> None:
        if hasattr(self, "event_sources"):
            self.event_sources.stop()
        if hasattr(self, "scheduler"):
            self.scheduler.stop()
        if self.websocket is not None:
            self.websocket.stop()
        if hasattr(self, "runtime"):
            self.runtime.stop()
        if self._server is not None:
            self._server.stop()

    # -- use -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> Reply:
        """Call the API through the gateway, as an HTTP client would."""
        sent = {"User-Agent": "riveredge-tests", **(headers or {})}
        body = raw_body if raw_body is not None else (json.dumps(json_body).encode() if json_body is not None else b"")
        if body and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if "?" in path:
            path, query = path.split("?", 1)
        answer: GatewayResponse = self.gateway.handle(method, path, query, sent, body)
        return Reply(answer.status, answer.headers, answer.body)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        return self.registry.get(logical_id).invoke(event)

    def login(self, tenant: str, email: str, password: str) -> dict[str, Any]:
        reply = self.request(
            "POST", "/api/auth/login", json_body={"tenant": tenant, "email": email, "password": password}
        )
        if reply.status != 200:
            raise RuntimeError(f"login of {email} failed: {reply.status} {reply.body!r}")
        return reply.json()  # type: ignore[no-any-return]

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until nothing is left to deliver: queues drained, streams read, bus targets done."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the local stack did not settle within {timeout} s")
            quiet = quiet + 1 if self.event_sources.idle() and eventbus.idle() else 0
            time.sleep(0.05)

    def wait_for_execution(self, execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
        """The execution once it has ended (it may not have started yet: the outbox starts it)."""
        client = boto3.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            try:
                execution = client.describe_execution(executionArn=execution_arn)
            except client.exceptions.ExecutionDoesNotExist:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            if execution["status"] != "RUNNING" or time.monotonic() > deadline:
                return dict(execution)
            time.sleep(0.05)

    def onboarding_execution_arn(self, tenant_id: str, attempt: int = 1) -> str:
        """The onboarding workflow run of a tenant's `attempt` (1, then one more per retry)."""
        machine = self.resolver.refs["OnboardingStateMachine"]
        return machine.replace(":stateMachine:", ":execution:") + f":onboard-{tenant_id}-{attempt}"

    def mail(self) -> list[dict[str, Any]]:
        """Every delivery record of every tenant, newest first, with what SES accepted for it (GET /_local/mail)."""
        from moto.dynamodb.models import dynamodb_backends

        sent = {m["id"]: m for m in self.sent_mail(settle=False)}
        with serialise.locked():
            table = dynamodb_backends[ACCOUNT_ID][REGION].get_table(self.environment["TABLE_NAME"])
            records = [
                item.to_json()["Attributes"]
                for item in table.all_items()
                if item.attrs.get("entity") is not None and item.attrs["entity"].value == "mail_delivery"
            ]
        found = []
        for record in records:
            value = {k: next(iter(v.values())) for k, v in record.items()}
            message = sent.get(str(value.get("ses_message_id")))
            found.append(
                {
                    "tenant_id": str(value["pk"]).split("#")[1],
                    "delivery_id": value.get("delivery_id"),
                    "kind": value.get("kind"),
                    "to": sorted(value.get("recipients") or []),
                    "subject": value.get("subject"),
                    "status": value.get("status"),
                    "attempts": int(value.get("attempts") or 0),
                    "error": value.get("error"),
                    "queued_at": value.get("created_at"),
                    "sent_at": value.get("sent_at"),
                    "ses_message_id": value.get("ses_message_id"),
                    "body": message["body"] if message else None,
                    "test": bool(value.get("test")),
                }
            )
        return sorted(found, key=lambda m: str(m["delivery_id"]), reverse=True)

    def verify_email_identity(self, identity: str) -> None:
        """Make `identity` (an address or a domain) an SES identity verified for sending, as SES does once its
        owner clicked the verification mail or published the DNS records (moto creates identities unverified)."""
        from moto.ses.models import ses_backends

        identities = ses_backends[ACCOUNT_ID][REGION].email_identities
        if identity not in identities:
            boto3.client("sesv2").create_email_identity(EmailIdentity=identity)
        identities[identity].verified_for_sending_status = True

    def sent_mail(self, *, settle: bool = True) -> list[dict[str, Any]]:
        """Every mail SES accepted (moto's outbox), once the mail queue has drained (unless told not to wait)."""
        if settle:
            self.settle()
        from moto.ses.models import ses_backends  # the server, too, runs in this process

        return [_outbox_entry(m) for m in ses_backends[ACCOUNT_ID][REGION].sent_messages]

    def stats(self) -> dict[str, Any]:
        """Memory of the stack's processes, the data it holds, its environments (GET /_local/stats)."""
        from local_stack import stats

        return {
            "memory": stats.memory(named=self.runtime.named_pids()),
            "data": stats.data(ACCOUNT_ID, REGION),
            "environments": self.runtime.sizes(),
            "invocations": self.runtime.count,
        }

    def openapi(self) -> dict[str, Any]:
        from local_stack.openapi import merged

        return merged(self.registry)

    # -- demo data -----------------------------------------------------------------------
    def bootstrap_operator(self, password: str, email: str = OPERATOR_EMAIL) -> None:
        self.invoke(
            "OnboardingFunction",
            {"task": "bootstrap_operator", "email": email, "name": "Platform operator", "password": password},
        )

    def create_tenant(
        self, operator_token: str, code: str, admin_email: str, password: str, name: str | None = None
    ) -> dict[str, Any]:
        """Create a tenant through the API and wait for its onboarding to finish."""
        reply = self.request(
            "POST",
            "/api/tenants",
            token=operator_token,
            json_body={
                "code": code,
                "name": name or code.title(),
                "tier": "standard",
                "admin": {"email": admin_email, "name": f"{code.title()} Admin", "password": password},
            },
        )
        if reply.status != 201:
            raise RuntimeError(f"tenant {code} was not created: {reply.status} {reply.body!r}")
        tenant: dict[str, Any] = reply.json()
        execution = self.wait_for_execution(self.onboarding_execution_arn(tenant["id"]))
        if execution["status"] != "SUCCEEDED":
            raise RuntimeError(f"onboarding of {code} ended {execution['status']}: {execution.get('cause')}")
        self.settle()  # its welcome mail is sent
        return tenant

    def seed_demo(self, password: str) -> dict[str, Any]:
        """The platform operator, the demo tenant `acme` with its admin, and every domain's sample data."""
        self.bootstrap_operator(password)
        operator = self.login("platform", OPERATOR_EMAIL, password)
        tenant = self.create_tenant(operator["access_token"], DEMO_TENANT, DEMO_ADMIN_EMAIL, password, "Acme Corp")
        from local_stack.demo import seed_all

        modules = seed_all(self, self.login(DEMO_TENANT, DEMO_ADMIN_EMAIL, password)["access_token"])
        return {"operator": OPERATOR_EMAIL, "tenant": tenant, "admin": DEMO_ADMIN_EMAIL, "modules": modules}


def _outbox_entry(message: Any) -> dict[str, Any]:
    """One mail of moto's outbox: a raw MIME message (what the mailer sends) is parsed back with the email
    package; "body" is its HTML part (else its text), as it was for simple messages."""
    raw = getattr(message, "raw_data", None)
    if raw is None:
        return {
            "id": message.id,
            "from": message.source,
            "to": message.destinations.get("ToAddresses", []),
            "subject": message.subject,
            "body": message.body,
        }
    from email import message_from_string, policy
    from email.message import EmailMessage
    from email.utils import getaddresses

    parsed = message_from_string(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    parts = {kind: parsed.get_body((kind,)) for kind in ("html", "plain")}
    text, html = (str(p.get_content()) if p is not None else "" for p in (parts["plain"], parts["html"]))
    return {
        "id": message.id,
        "from": str(parsed["From"] or message.source),
        "to": [address for _, address in getaddresses([str(v) for v in parsed.get_all("To", [])])],
        "subject": str(parsed["Subject"] or ""),
        "body": html or text,
        "text": text,
        "html": html,
        "raw": raw,
    }
