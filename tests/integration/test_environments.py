"""Execution environments of the local stack behave as Lambda's: one event at a time, warm reuse, timeouts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.environments import FunctionError, FunctionPool
from local_stack.stack import LocalStack
from local_stack.worker import FunctionSpec

PROBE_DIR = Path(__file__).resolve().parent / "probe_function"


@pytest.fixture
def probe(stack: LocalStack) -> Iterator[FunctionPool]:
    """The probe handler as a function of its own, with a 2-second timeout and room for two environments."""
    spec = FunctionSpec(
        logical_id="ProbeFunction",
        name="riveredge-local-probe",
        arn="arn:aws:lambda:us-east-1:123456789012:function:riveredge-local-probe",
        handler="probe.lambda_handler",
        code_dir=str(PROBE_DIR),
        memory_mb=256,
        timeout_seconds=2,
        environment={"POWERTOOLS_SERVICE_NAME": "probe"},
        log_path=stack.function_log,
    )
    pool = FunctionPool(spec, concurrency=2, record=stack.runtime.invocations.append)
    yield pool
    pool.stop()


def _invoke(pool: FunctionPool, event: dict[str, Any]) -> Any:
    import json

    body, is_error = pool.invoke(event)
    answer = json.loads(body)
    if is_error:
        raise FunctionError(answer)
    return answer


def test_a_warm_environment_keeps_its_module_state_between_events(probe: FunctionPool) -> None:
    # When the function is invoked twice, one after the other
    first, second = _invoke(probe, {}), _invoke(probe, {})
    # Then the same environment served both (warm), its module state carried over, with the function's own
    # environment variables and a context counting down from the function's timeout
    assert second["pid"] == first["pid"]
    assert (first["events"], second["events"]) == (1, 2)
    assert first["service"] == "probe"
    assert first["function_name"] == "riveredge-local-probe"
    assert 0 < first["remaining_ms"] <= 2000


def test_concurrent_events_run_in_separate_environments(probe: FunctionPool) -> None:
    # When two events are in flight at once (each holds its environment for a moment)
    barrier, answers = threading.Barrier(2), []

    def call() -> None:
        barrier.wait()
        answers.append(_invoke(probe, {"sleep": 0.5}))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then they ran in two environments, each having served only its own event
    assert len({a["pid"] for a in answers}) == 2
    assert [a["events"] for a in answers] == [1, 1]
    assert probe.size == 2


def test_an_invocation_past_the_timeout_is_stopped_and_reported_as_lambda_does(probe: FunctionPool) -> None:
    # Given a warm environment
    warm = _invoke(probe, {})
    # When an event runs longer than the function's 2-second timeout
    with pytest.raises(FunctionError) as timed_out:
        _invoke(probe, {"sleep": 30})
    # Then the invocation fails as Lambda reports a timeout, and its environment is gone: the next event
    # starts a new one (a cold start)
    assert timed_out.value.error_type == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in str(timed_out.value)
    after = _invoke(probe, {})
    assert after["pid"] != warm["pid"] and after["events"] == 1


def test_a_runtime_that_exits_fails_its_invocation_and_is_replaced(probe: FunctionPool) -> None:
    warm = _invoke(probe, {})
    with pytest.raises(FunctionError) as exited:
        _invoke(probe, {"exit": 3})
    assert exited.value.error_type == "Runtime.ExitError"
    assert "exit status 3" in str(exited.value)
    assert _invoke(probe, {})["pid"] != warm["pid"]


def test_an_error_is_reported_with_its_type_and_the_environment_stays_warm(probe: FunctionPool) -> None:
    warm = _invoke(probe, {})
    with pytest.raises(FunctionError) as failed:
        _invoke(probe, {"raise": "no such thing"})
    assert failed.value.error_type == "LookupError"
    assert str(failed.value) == "no such thing"
    assert _invoke(probe, {})["pid"] == warm["pid"]


def test_a_result_that_is_not_json_is_a_marshal_error(probe: FunctionPool) -> None:
    with pytest.raises(FunctionError) as failed:
        _invoke(probe, {"unserialisable": True})
    assert failed.value.error_type == "Runtime.MarshalError"


def test_cold_starts_and_invocations_are_reported(stack: LocalStack, probe: FunctionPool) -> None:
    # When the probe is invoked twice
    _invoke(probe, {})
    _invoke(probe, {})
    # Then the invocation log has both, the first with its init duration (a cold start), the second without
    mine = [i for i in stack.runtime.invocations if i.function == "riveredge-local-probe"][-2:]
    assert [i.status for i in mine] == ["ok", "ok"]
    assert mine[0].init_ms is not None and mine[0].init_ms > 0
    assert mine[1].init_ms is None
    assert mine[0].environment == mine[1].environment


def test_functions_log_under_their_own_service_name(stack: LocalStack) -> None:
    # When the authorizer refuses a token, it logs why
    reply = stack.request("GET", "/api/auth/me", token="not-a-token")
    assert reply.status == 401
    # Then the line names the authorizer's service, not one service for all functions
    assert stack.function_log is not None
    lines = Path(stack.function_log).read_text().splitlines()
    refused = [line for line in lines if '"request refused"' in line]
    assert refused and '"service":"authorizer"' in refused[-1].replace(" ", "")
