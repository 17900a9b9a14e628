"""Run in a fresh interpreter: time one import.

    python -I import_probe.py MODULE [PATH ...]

PATHs go to the front of sys.path (the interpreter runs isolated, so nothing
else of this repository is on it). Prints one JSON line: the milliseconds that
`importlib.import_module(MODULE)` took and how many modules it loaded.
"""

import importlib
import sys
import time

MARKER = "IMPORT_PROBE "


def main() -> None:
    module, *paths = sys.argv[1:]
    sys.path[:0] = paths
    loaded = len(sys.modules)
    start = time.perf_counter_ns()
    importlib.import_module(module)
    elapsed_ns = time.perf_counter_ns() - start
    modules = len(sys.modules) - loaded
    import json  # after the clock stopped, so it is not counted for anyone

    print(MARKER + json.dumps({"ms": elapsed_ns / 1e6, "modules": modules}), flush=True)


if __name__ == "__main__":
    main()
