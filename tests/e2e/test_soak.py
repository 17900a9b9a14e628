"""A short soak of the running local stack: mixed traffic, every answer as documented, flat memory.

`make bench` runs the long one (10,000 requests) and reports its latency; here latency is only printed:
no test depends on how fast the machine is. Memory is not a clock: what the stack's processes hold beyond
the data written must stay within the same bound as the long run's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks import soak
from local_stack.launcher import LaunchError, StackProcess

pytestmark = pytest.mark.e2e

REQUESTS = 1_500
WARMUP = 500  # the environments the mix needs are started (a spare one may still serve a kind first later on)


@pytest.fixture(scope="module")
def soaked_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """A stack of its own, so that its memory is this test's and no other test's traffic (or lockout) meets it."""
    stack = StackProcess(tmp_path_factory.mktemp("soak") / "output.log", soak.PASSWORD)
    try:
        stack.start()
    except LaunchError as error:
        pytest.fail(str(error))
    yield stack
    stack.stop()


def test_mixed_traffic_is_answered_as_documented_and_memory_stays_flat(
    soaked_stack: StackProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    # When 1,500 mixed requests (reads, writes, sign-ins, imports, async work) come from 8 clients
    result = soak.run(soaked_stack.url, soaked_stack.moto_url, soak.PASSWORD, REQUESTS, clients=8, warmup=WARMUP)
    with capsys.disabled():
        print()
        soak.report(result)
    # Then every answer is the documented one
    assert not result.errors, result.errors.most_common(10)
    # And what the stack's processes grew by in both halves of the run (a leak, not a one-off first use of a
    # library by a spare environment) is no more than the data written plus the bound
    assert result.growth_beyond_data_mb <= soak.MEMORY_TARGET_MB
