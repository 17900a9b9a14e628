"""Run in a fresh interpreter: time one import.

    python -I import_probe.py MODULE [PATH ...]

PATHs go to the front of sys.path (the interpreter runs isolated, so nothing
else of this repository is on it). Prints one JSON line: the milliseconds that
`importlib.import_module(MODULE)` took and how many modules it loaded.

Under `-X importtime` the module is imported with `__import__` instead: importlib's
pure-Python path is not instrumented, so the module itself would be missing
from the output and its imports would show up as top-level ones.
"""

import importlib
import sys
import time

MARKER = "IMPORT_PROBE "


def main() -> None:
    module, *paths = sys.argv[1:]
    sys.path[:0] = paths
    loaded = len(sys.modules)
    load = __import__ if "importtime" in sys._xoptions else importlib.import_module
    start = time.perf_counter_ns()
    load(module)
    elapsed_ns = time.perf_counter_ns() - start
    modules = len(sys.modules) - loaded
    import json  # after the clock stopped, so it is not counted for anyone

    print(MARKER + json.dumps({"ms": elapsed_ns / 1e6, "modules": modules}), flush=True)


if __name__ == "__main__":
    main()
