"""Cold import time of every Lambda function of template.yaml, against a minimal Powertools handler.

Each measurement is a fresh interpreter (`python -I benchmarks/import_probe.py`)
with the same environment for everyone: local_stack.stack.BASE_ENVIRONMENT plus
the function's own variables from the template (Globals merged), resolved
without any AWS resource existing, so nothing needs moto. The clock covers
`importlib.import_module(handler_module)` only, not interpreter start-up.

Bytecode is cached (in a directory of the system's temp dir, not in the tree)
and one discarded warm-up import per target runs first, so compile time and a
cold file cache do not count: what is compared is the work done at import.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.stack import ACCOUNT_ID, BASE_ENVIRONMENT, REGION, STAGE
from local_stack.template import ROOT, Resolver, load, merged_function_properties, parameter_defaults

BENCH_DIR = Path(__file__).resolve().parent
PROBE = BENCH_DIR / "import_probe.py"
PROBE_MARKER = "IMPORT_PROBE "
BASELINE = "baseline"
BASELINE_MODULE = "baseline_handler"
REFERENCE = "reference: validation"  # measured for information, never judged
REFERENCE_MODULE = "validated_handler"
TARGET_RATIO = 1.3
PYCACHE = Path(tempfile.gettempdir()) / "riveredge-bench-pycache"

# Ref of a resource gives its physical name; these properties hold it.
_NAME_PROPERTIES = ("TableName", "Name", "BucketName", "EmailIdentity", "LogGroupName", "FunctionName", "LayerName")


@dataclass(frozen=True)
class Target:
    """One thing to import: a function's handler module, or the baseline."""

    name: str
    module: str
    paths: tuple[Path, ...]
    env: dict[str, str] = field(hash=False)
    code_uri: str = ""


@dataclass
class Timing:
    target: Target
    samples_ms: list[float] = field(default_factory=list)
    modules: int = 0
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def minimum(self) -> float:
        return min(self.samples_ms)


@dataclass
class ImportEntry:
    """One line of `python -X importtime`, with the module that imported it."""

    name: str
    self_ms: float
    cumulative_ms: float
    parent: str | None


# -- targets from the template ---------------------------------------------------------------
@dataclass
class _OfflineResolver(Resolver):
    """Resolves the template's intrinsics with placeholder physical ids: nothing is provisioned."""

    template: dict[str, Any] = field(default_factory=dict)

    def ref(self, name: str) -> Any:
        resource = self.template.get("Resources", {}).get(name)
        if resource is None:
            return super().ref(name)
        kind = str(resource.get("Type", ""))
        props = resource.get("Properties", {}) or {}
        physical = next((self.resolve(props[key]) for key in _NAME_PROPERTIES if key in props), name)
        if kind == "AWS::KMS::Key":
            return "00000000-0000-4000-8000-000000000000"
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{self.region}:{self.account_id}:secret:{physical}"
        if kind in {"AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"}:
            return f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{physical}"
        return physical

    def get_att(self, resource: str, attribute: str) -> str:
        if attribute == "Name":
            return str(self.ref(resource))
        return f"arn:aws:local:{self.region}:{self.account_id}:{resource}/{attribute}"


def _subprocess_base_env() -> dict[str, str]:
    """What every probe gets besides the function's variables: no profile, no user config."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **BASE_ENVIRONMENT,
    }


def _layer_paths(template: dict[str, Any], layers: list[Any]) -> list[Path]:
    paths: list[Path] = []
    for layer in layers:
        logical_id = layer.get("Ref") if isinstance(layer, dict) else None
        resource = template["Resources"].get(logical_id or "", {})
        content = (resource.get("Properties") or {}).get("ContentUri")
        if resource.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(content, str):
            paths.append((ROOT / content).resolve())
    return paths


def targets() -> list[Target]:
    """The baseline, then every Python function of template.yaml (Handler, CodeUri, Layers, Environment)."""
    template = load()
    resolver = _OfflineResolver(parameter_defaults(template, {"Stage": STAGE}), ACCOUNT_ID, REGION, template=template)
    base_env = _subprocess_base_env()
    global_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    env = {**base_env, **_resolve_vars(resolver, global_vars)}
    found = [
        Target(BASELINE, BASELINE_MODULE, (BENCH_DIR,), env),
        Target(REFERENCE, REFERENCE_MODULE, (BENCH_DIR,), env),
    ]
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = merged_function_properties(template, logical_id)
        handler, code_uri = props.get("Handler"), props.get("CodeUri")
        if not str(props.get("Runtime", "python")).startswith("python") or not handler or not code_uri:
            continue
        module = str(handler).rpartition(".")[0]
        paths = (*_layer_paths(template, props.get("Layers", [])), (ROOT / str(code_uri)).resolve())
        env = {**base_env, **_resolve_vars(resolver, props["Environment"]["Variables"])}
        found.append(Target(logical_id, module, paths, env, str(code_uri)))
    return found


def _resolve_vars(resolver: Resolver, variables: dict[str, Any]) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for key, value in variables.items():
        try:
            resolved[key] = str(resolver.resolve(value))
        except (KeyError, TypeError, ValueError, IndexError):
            resolved[key] = f"placeholder-{key.lower()}"
    return resolved


# -- measuring -------------------------------------------------------------------------------
def _command(target: Target, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-I",
        "-X",
        f"pycache_prefix={PYCACHE}",
        *extra,
        str(PROBE),
        target.module,
        *(str(p) for p in target.paths),
    ]


def probe(target: Target) -> tuple[float, int]:
    """Milliseconds of one cold import of the target, and the number of modules it loaded."""
    done = subprocess.run(
        _command(target), env=target.env, capture_output=True, text=True, check=False, cwd=ROOT, timeout=120
    )
    line = next((x for x in reversed(done.stdout.splitlines()) if x.startswith(PROBE_MARKER)), None)
    if done.returncode != 0 or line is None:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"import of {target.module} failed: {tail}")
    answer = json.loads(line[len(PROBE_MARKER) :])
    return float(answer["ms"]), int(answer["modules"])


def measure(found: list[Target], runs: int) -> list[Timing]:
    """`runs` cold imports of each target, the order flipped on every other run; one warm-up first."""
    timings = {t.name: Timing(t) for t in found}
    for target in found:  # warm-up: fills the bytecode cache and the file cache; not counted
        try:
            probe(target)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            timings[target.name].error = str(error)
    live = [t for t in found if timings[t.name].error is None]
    for run in range(runs):
        for target in live if run % 2 == 0 else list(reversed(live)):
            ms, modules = probe(target)
            timings[target.name].samples_ms.append(ms)
            timings[target.name].modules = modules
    return [timings[t.name] for t in found]


# -- what the time goes to -------------------------------------------------------------------
_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s+)(\S+)\s*$")


def parse_importtime(stderr: str) -> dict[str, ImportEntry]:
    """Entries of `-X importtime` output by module, each with the module whose import loaded it."""
    rows: list[tuple[int, str, float, float]] = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            level = (len(match.group(3)) - 1) // 2
            rows.append((level, match.group(4), int(match.group(1)) / 1000, int(match.group(2)) / 1000))
    # A module's line comes after those of the modules it imported; reading backwards, the parent comes first.
    entries: dict[str, ImportEntry] = {}
    stack: list[str] = []
    for level, name, self_ms, cumulative_ms in reversed(rows):
        del stack[level:]
        parent = stack[level - 1] if level > 0 and len(stack) >= level else None
        stack.append(name)
        entries[name] = ImportEntry(name, self_ms, cumulative_ms, parent)
    return entries


def importtime(target: Target, repeats: int = 3) -> dict[str, ImportEntry]:
    """`-X importtime` of the target, `repeats` times; per module the median of self and cumulative."""
    samples: dict[str, list[ImportEntry]] = defaultdict(list)
    for _ in range(repeats):
        done = subprocess.run(
            _command(target, "-X", "importtime"),
            env=target.env,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            timeout=120,
        )
        for name, entry in parse_importtime(done.stderr).items():
            samples[name].append(entry)
    return {
        name: ImportEntry(
            name,
            statistics.median(e.self_ms for e in found),
            statistics.median(e.cumulative_ms for e in found),
            found[0].parent,
        )
        for name, found in samples.items()
    }


def project_file(target: Target, module: str) -> Path | None:
    """The source file of `module` when it is the function's or the layer's own code."""
    relative = Path(*module.split("."))
    for root in target.paths:
        for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


_IMPORT_LINE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+))")


def import_line(source: Path, module: str) -> int | None:
    """The line of `source` whose import statement loads `module`.

    Best match first: the module itself, then a submodule of it, then a package it is in
    (`from package import module`).
    """
    best: tuple[int, int] | None = None
    for number, text in enumerate(source.read_text().splitlines(), start=1):
        match = _IMPORT_LINE.match(text)
        if not match:
            continue
        imported = match.group(1) or match.group(2)
        if imported == module:
            rank = 0
        elif imported.startswith(module + "."):
            rank = 1
        elif module.startswith(imported + "."):
            rank = 2
        else:
            continue
        if best is None or rank < best[0]:
            best = (rank, number)
    return best[1] if best else None


@dataclass
class LazyCandidate:
    module: str
    cumulative_ms: float
    extra_ms: float  # self time of it and everything under it that the baseline does not load too
    imported_by: str | None
    where: str | None


def lazy_candidates(target: Target, entries: dict[str, ImportEntry], baseline: set[str]) -> list[LazyCandidate]:
    """Modules the baseline does not load, at the top of their chain, with the project line that pulls them in.

    Sorted by what leaving them out would save against the baseline: their own self time plus that of
    every module below them that the baseline does not load either (shared modules load anyway).
    """
    own = {name for name in entries if project_file(target, name) is not None}
    children: dict[str | None, list[str]] = defaultdict(list)
    for entry in entries.values():
        children[entry.parent].append(entry.name)

    def extra(name: str) -> float:
        entry = entries[name]
        mine = 0.0 if name in baseline else entry.self_ms
        return mine + sum(extra(child) for child in children[name] if child not in own)

    found: list[LazyCandidate] = []
    for entry in entries.values():
        if entry.name in baseline or entry.name in own:
            continue
        if entry.parent is not None and entry.parent not in own and entry.parent not in baseline:
            continue  # inside a bigger extra import; that one is the candidate
        importer = entry.parent
        while importer is not None and importer not in own:
            importer = entries[importer].parent if importer in entries else None
        where = None
        source = project_file(target, importer) if importer is not None else None
        if source is not None:
            line = import_line(source, entry.name)
            where = str(source.relative_to(ROOT)) + (f":{line}" if line else " (module body, not an import line)")
        saves = min(extra(entry.name), entry.cumulative_ms)  # medians of self and cumulative differ a little
        found.append(LazyCandidate(entry.name, entry.cumulative_ms, saves, importer, where))
    return sorted(found, key=lambda c: c.extra_ms, reverse=True)
