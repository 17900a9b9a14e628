"""Sign-in throttling: every failure counted under concurrency, guessing stopped, nobody locked out.

Tests that move time run the auth function in this process with its clock patched; the concurrency tests
run it in its own environments, several at once, and assert counts and statuses only.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from riveredge import keys
from riveredge.clock import utcnow
from riveredge.db.models import LoginLogEntry, LoginThrottle
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import InProcess, TenantFixture, login
from tests.support import PASSWORD, dynamodb_calls, problem_without_request_id

WRONG = "Wrong-password-1"
SETTING_UP = "this organisation is still being set up; sign in again in a minute"
ALERT_SUBJECT = "Failed sign-in attempts on your RiverEdge account"


class Clock:
    """The auth function's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(in_process: InProcess, monkeypatch: pytest.MonkeyPatch) -> Clock:
    in_process("AuthFunction")  # the test patches its clock
    from auth import service

    frozen = Clock()
    monkeypatch.setattr(service, "utcnow", frozen)
    return frozen


def _ips(prefix: str, count: int) -> list[str]:
    return [f"{prefix}.{n}" for n in range(1, count + 1)]


def _failures(tenant_id: str, key: keys.Key) -> int:
    with use_scope(Scope(tenant_id)):
        try:
            return int(LoginThrottle.get(key.pk, key.sk, consistent_read=True).failures)
        except LoginThrottle.DoesNotExist:
            return 0


def _log_reasons(tenant_id: str, email: str, ip: str) -> Counter[str | None]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        entries = LoginLogEntry.query(keys.collection(scope, "LOGINLOG"), consistent_read=True)
        return Counter(e.reason for e in entries if e.email == email and e.ip == ip)


def _alerts(stack: LocalStack, email: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_mail() if email in m["to"] and m["subject"] == ALERT_SUBJECT]


def _answer(reply: Any) -> tuple[int, dict[str, Any], str | None]:
    return reply.status, problem_without_request_id(reply.json()), reply.headers.get("Retry-After")


def _slow_down(stack: LocalStack, code: str, email: str, prefix: str) -> None:
    """Ten failures for `email` from ten addresses: the account-wide threshold, one guess per address."""
    for ip in _ips(prefix, 10):
        assert login(stack, code, email, WRONG, ip=ip).status == 401


# -- concurrency ----------------------------------------------------------------------------
def test_concurrent_wrong_passwords_are_each_counted_and_never_a_500(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    code, email, ip = fresh_tenant.code, fresh_tenant.admin_email, "198.51.100.7"
    # When three bursts of eight concurrent wrong passwords arrive for one address from one IP
    bursts = []
    for _ in range(3):
        with ThreadPoolExecutor(8) as pool:
            bursts.append(list(pool.map(lambda _: login(stack, code, email, WRONG, ip=ip).status, range(8))))
    statuses = [status for burst in bursts for status in burst]
    # Then none is a 5xx: each is a counted failure (401) or a refusal (429)
    assert set(statuses) <= {401, 429}, bursts
    failures = statuses.count(401)
    # And every failure is counted, on each of the three counters
    assert _failures(fresh_tenant.id, keys.login_throttle_account_ip(Scope(fresh_tenant.id), email, ip)) == failures
    assert _failures(fresh_tenant.id, keys.login_throttle_account(Scope(fresh_tenant.id), email)) == failures
    assert _failures(fresh_tenant.id, keys.login_throttle_ip(Scope(fresh_tenant.id), ip)) == failures
    # And the first burst used the five guesses (a few more may race in with it), the next two none
    assert 5 <= failures <= 8
    assert bursts[1] == bursts[2] == [429] * 8
    # And every attempt is in the login log: the failures, and the refusals that checked no password
    assert _log_reasons(fresh_tenant.id, email, ip) == {"bad_credentials": failures, "throttled": 24 - failures}
    # And that IP is refused even with the right password
    assert login(stack, code, email, PASSWORD, ip=ip).status == 429


def test_racing_failures_from_many_addresses_alert_the_owner_once(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    code, email = fresh_tenant.code, fresh_tenant.admin_email
    # When sixteen wrong passwords from sixteen addresses arrive at once
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda ip: login(stack, code, email, WRONG, ip=ip).status, _ips("203.0.113", 16)))
    # Then none is a 5xx, and the account-wide threshold was reached
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) >= 10
    # And exactly one of them told the owner
    [alert] = _alerts(stack, email)
    assert "10 failed attempts" in str(alert["body"])


# -- per address and IP -------------------------------------------------------------------------
def test_the_owner_signs_in_from_another_address_while_the_guesser_is_refused(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    code, email = fresh_tenant.code, fresh_tenant.admin_email
    # Given five wrong passwords from one IP
    for _ in range(5):
        assert login(stack, code, email, WRONG, ip="198.51.100.20").status == 401
    # When that IP tries again, even with the right password
    refused = login(stack, code, email, PASSWORD, ip="198.51.100.20")
    # Then it is refused until the end of the window (fifteen minutes from the first failure)
    assert refused.status == 429
    assert refused.content_type == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    # And the owner, from an address of their own, signs in
    assert login(stack, code, email, PASSWORD, ip="192.0.2.44").status == 200


def test_a_success_clears_the_failures_of_its_address(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    code, email, ip = fresh_tenant.code, fresh_tenant.admin_email, "198.51.100.30"
    # Given four typos and then the right password, from one IP
    for _ in range(4):
        assert login(stack, code, email, WRONG, ip=ip).status == 401
    assert login(stack, code, email, PASSWORD, ip=ip).status == 200
    # Then that IP has five guesses again
    assert [login(stack, code, email, WRONG, ip=ip).status for _ in range(6)] == [401] * 5 + [429]


def test_the_window_ends_and_the_guesses_come_back(
    stack: LocalStack, fresh_tenant: TenantFixture, clock: Clock
) -> None:
    code, email, ip = fresh_tenant.code, fresh_tenant.admin_email, "198.51.100.40"
    # Given an IP that used its five guesses
    for _ in range(5):
        assert login(stack, code, email, WRONG, ip=ip).status == 401
    clock.advance(60)
    refused = login(stack, code, email, PASSWORD, ip=ip)
    assert (refused.status, refused.headers["Retry-After"]) == (429, "840")
    # When the window has passed
    clock.advance(840)
    # Then the right password works from there
    assert login(stack, code, email, PASSWORD, ip=ip).status == 200


# -- per IP across accounts -----------------------------------------------------------------------
def test_one_address_guessing_many_accounts_is_refused_for_all_of_them(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    code, ip = fresh_tenant.code, "198.51.100.50"
    # Given fifty wrong passwords from one IP, five for each of ten addresses
    for n in range(10):
        for _ in range(5):
            assert login(stack, code, f"user{n}@{code}.example", WRONG, ip=ip).status == 401
    # When it tries an address it has not tried yet, even the admin's with the right password
    refused = [
        login(stack, code, email, PASSWORD, ip=ip) for email in (f"new@{code}.example", fresh_tenant.admin_email)
    ]
    # Then it is refused for every one of them
    assert [r.status for r in refused] == [429, 429]
    assert all(0 < int(r.headers["Retry-After"]) <= 900 for r in refused)
    # And the admin, from elsewhere, is not
    assert login(stack, code, fresh_tenant.admin_email, PASSWORD, ip="192.0.2.50").status == 200


# -- per account across IPs -------------------------------------------------------------------------
def test_guesses_from_many_addresses_slow_the_account_down_but_never_lock_it(
    stack: LocalStack, fresh_tenant: TenantFixture, clock: Clock
) -> None:
    code, email = fresh_tenant.code, fresh_tenant.admin_email
    # Given ten failures from ten addresses
    _slow_down(stack, code, email, "203.0.113")
    # When guesses keep coming from new addresses, each one as soon as it is allowed
    waits = []
    for ip in _ips("198.51.100", 9):
        clock.advance(waits[-1] if waits else 0)
        assert login(stack, code, email, WRONG, ip=ip).status == 401
        too_soon = login(stack, code, email, WRONG, ip=f"{ip}0")
        assert too_soon.status == 429
        waits.append(int(too_soon.headers["Retry-After"]))
    # Then the gap between allowed guesses doubles up to a minute, and stays there
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    # And the owner on a new address, just after a guess, is asked to wait at most that minute, then signs in
    owner = login(stack, code, email, PASSWORD, ip="192.0.2.60")
    assert owner.status == 429
    assert 0 < int(owner.headers["Retry-After"]) <= 60
    clock.advance(int(owner.headers["Retry-After"]))
    assert login(stack, code, email, PASSWORD, ip="192.0.2.60").status == 200
    # And they were told, once
    assert len(_alerts(stack, email)) == 1


def test_an_address_the_owner_signed_in_from_is_not_slowed_down(
    stack: LocalStack, fresh_tenant: TenantFixture, clock: Clock
) -> None:
    code, email = fresh_tenant.code, fresh_tenant.admin_email
    # Given an account being slowed down: its next check is taken
    _slow_down(stack, code, email, "203.0.113")
    assert login(stack, code, email, WRONG, ip="198.51.100.70").status == 401
    assert login(stack, code, email, PASSWORD, ip="198.51.100.71").status == 429
    # When the owner signs in from where they signed in before (the fixture's sign-in, from 127.0.0.1)
    reply = login(stack, code, email, PASSWORD)
    # Then they are not made to wait
    assert reply.status == 200


def test_a_new_window_alerts_the_owner_again(stack: LocalStack, fresh_tenant: TenantFixture, clock: Clock) -> None:
    code, email = fresh_tenant.code, fresh_tenant.admin_email
    # Given an account slowed down and its owner told
    _slow_down(stack, code, email, "203.0.113")
    assert len(_alerts(stack, email)) == 1
    # When more failures come in the same window, then ten more in the next one
    clock.advance(1)
    assert login(stack, code, email, WRONG, ip="198.51.100.80").status == 401
    clock.advance(15 * 60)
    _slow_down(stack, code, email, "198.51.100")
    # Then the owner got one alert for each window
    alerts = _alerts(stack, email)
    assert len(alerts) == 2
    assert all(email in m["to"] for m in alerts)


# -- unknown addresses ----------------------------------------------------------------------------
def test_unknown_and_known_addresses_are_throttled_alike(
    stack: LocalStack, fresh_tenant: TenantFixture, clock: Clock
) -> None:
    code, start = fresh_tenant.code, clock.now

    def script(email: str, prefix: str) -> list[tuple[int, dict[str, Any], str | None]]:
        clock.now = start
        send: Callable[[str, str], Any] = lambda password, ip: login(stack, code, email, password, ip=ip)  # noqa: E731
        answers = [_answer(send(WRONG, f"{prefix}.1")) for _ in range(5)]
        clock.advance(30)
        answers.append(_answer(send(PASSWORD, f"{prefix}.1")))  # that IP's guesses are used up
        answers += [_answer(send(WRONG, f"{prefix}.{n}")) for n in range(2, 7)]  # ten failures: slowed down
        answers.append(_answer(send(WRONG, f"{prefix}.7")))  # the next check
        answers.append(_answer(send(PASSWORD, f"{prefix}.8")))  # too soon
        clock.advance(1)
        answers.append(_answer(send(WRONG, f"{prefix}.8")))
        return answers

    # When the same attempts are made for the admin's address and for an address nobody has
    known = script(fresh_tenant.admin_email, "198.51.100")
    unknown = script(f"ghost@{code}.example", "203.0.113")
    # Then every answer is the same: status, body and Retry-After
    assert known == unknown
    assert [a[0] for a in known] == [401] * 5 + [429] + [401] * 5 + [401, 429, 401]
    assert [a[2] for a in known if a[0] == 429] == ["870", "1"]


# -- cost ---------------------------------------------------------------------------------------------
def test_a_failed_sign_in_costs_a_batch_read_three_counter_updates_and_a_log_entry(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    login(stack, fresh_tenant.code, fresh_tenant.admin_email, WRONG, ip="198.51.100.90")  # the tenant code is cached
    with dynamodb_calls("AuthFunction") as calls:
        reply = login(stack, fresh_tenant.code, fresh_tenant.admin_email, WRONG, ip="198.51.100.90")
    assert reply.status == 401
    calls.pop("GetItem", None)  # the tenant code, in an environment that has not cached it yet
    assert calls == {"BatchGetItem": 1, "UpdateItem": 3, "PutItem": 1}


def test_a_sign_in_after_failures_still_makes_at_most_three_dynamodb_calls(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given failures from the address that then signs in (its counter is cleared in the same transaction)
    for _ in range(3):
        login(stack, fresh_tenant.code, fresh_tenant.admin_email, WRONG, ip="198.51.100.91")
    with dynamodb_calls() as calls:
        reply = login(stack, fresh_tenant.code, fresh_tenant.admin_email, PASSWORD, ip="198.51.100.91")
    assert reply.status == 200
    assert sum(calls.values()) <= 3, calls
    assert (
        _failures(
            fresh_tenant.id,
            keys.login_throttle_account_ip(Scope(fresh_tenant.id), fresh_tenant.admin_email, "198.51.100.91"),
        )
        == 0
    )


# -- onboarding -----------------------------------------------------------------------------------------
def test_the_first_admin_signing_in_before_onboarding_ends_is_told_to_wait(
    stack: LocalStack, operator_token: str, in_process: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process("OnboardingFunction")  # the test signs in between its steps
    from onboarding import service

    code = f"setup-{uuid.uuid4().hex[:6]}"
    admin = f"boss@{code}.example"
    seen: dict[str, list[Any]] = {}
    seed_defaults, activate = service.seed_defaults, service.activate

    def sign_in_during(step: str, run: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
        def step_with_sign_ins(tenant_id: str) -> dict[str, Any]:
            with ThreadPoolExecutor(4) as pool:
                seen[step] = list(pool.map(lambda _: login(stack, code, admin, PASSWORD), range(4)))
            seen[f"{step}, wrong password"] = [login(stack, code, admin, WRONG)]
            return run(tenant_id)

        return step_with_sign_ins

    # Given the admin signing in before their account exists, and after it exists but before activation
    monkeypatch.setattr(service, "seed_defaults", sign_in_during("before the account", seed_defaults))
    monkeypatch.setattr(service, "activate", sign_in_during("before activation", activate))
    body = {
        "code": code,
        "name": "Setup",
        "tier": "standard",
        "admin": {"email": admin, "name": "Boss", "password": PASSWORD},
    }
    tenant = stack.request("POST", "/api/tenants", token=operator_token, json_body=body).json()
    assert stack.wait_for_execution(stack.onboarding_execution_arn(tenant["id"]))["status"] == "SUCCEEDED"
    # Then the right password is told, as a problem, that the organisation is still being set up; none is a 5xx
    for step in ("before the account", "before activation"):
        assert [r.status for r in seen[step]] == [403] * 4, step
        assert {r.content_type for r in seen[step]} == {"application/problem+json"}
        assert {r.json()["detail"] for r in seen[step]} == {SETTING_UP}
        assert [r.status for r in seen[f"{step}, wrong password"]] == [401]
    # And once onboarding has finished, the admin signs in: those attempts locked nothing
    assert login(stack, code, admin).status == 200
