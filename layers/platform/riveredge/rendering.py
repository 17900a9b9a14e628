"""Mail templates rendered safely: the seed's ``{{...}}`` syntax, compiled into jinja2's immutable sandbox.

Authors write the seed's syntax (talentmail §7.1), never jinja2. A strict tokenizer of
our own reads it; everything outside a tag is literal text, so ``{% ... %}``,
``{# ... #}`` or ``${...}`` are shown as written. Tags::

    {{path}}                          a variable: name or dotted path (user.name)
    {{path|filter|filter:arg}}        filters, applied left to right
    {{#if path}}...{{else}}...{{/if}} truthiness of one path ({{else}} optional)
    {{#each path}}...{{else}}...{{/each}}  over a list; {{else}} when it is empty or absent
    {{this}} {{this.field}}           the current item (inside #each only)
    {{@index}} {{@first}} {{@last}}   position in the innermost #each (index from 0)

A path is segments of ``[A-Za-z][A-Za-z0-9_]*`` joined by dots (no leading ``_``: no
``__class__``). Inside ``#each`` a path not starting with ``this`` is a top-level variable.
Filters (the whole set; any other name is an error naming it):

    default:"text"   the text when the value is absent, null or ""
    format:"YYYY-MM-DD HH:mm:ss"   a date, a datetime or an ISO 8601 string;
                     tokens YYYY YY MM DD HH mm ss, everything else literal
    upper, lower     case of the text
    truncate:n       the first n characters, then "…" if anything was cut

An absent optional variable renders as ""; a value must be text, a number, a boolean
(true/false), a date or a datetime (lists and objects are iterated or navigated, not
printed). HTML bodies escape every value; subjects and text bodies do not, and a subject
that renders with a line break is refused (header injection).

The generated jinja2 source holds no text of the author's: literal text and filter
arguments are template globals, paths are quoted identifiers, and every lookup goes
through an environment whose ``getitem`` reads only mapping keys and whose ``getattr``
reads nothing (except the loop position). Its globals, filters and tests are ours only.

:func:`check` is pure Python and does not import jinja2; :func:`render` imports it on first
use. Compiled templates are cached per container under the caller's key (template id,
version, part), in an LRU of :data:`CACHE_SIZE` entries.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from riveredge.errors import FieldProblem, ValidationError

if TYPE_CHECKING:
    from jinja2 import Template

Kind = Literal["html", "text", "subject"]
KINDS: tuple[Kind, ...] = ("html", "text", "subject")
FILTERS = ("default", "format", "lower", "truncate", "upper")
LOOP_NAMES = ("index", "first", "last")
CACHE_SIZE = 256
TRUNCATE_MAX = 100_000


@dataclass(frozen=True)
class Limits:
    """Bounds of one template and one render; a template or a render beyond them is refused."""

    template_bytes: int = 256 * 1024  # UTF-8 size of the source
    output_chars: int = 1_000_000  # characters rendered
    iterations: int = 10_000  # items of every #each of one render, added up
    depth: int = 16  # #if / #each nested in each other
    tags: int = 1_000  # {{...}} tags of one template (compiling is about linear in them)


DEFAULT_LIMITS = Limits()


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    size: int


# -- parsing -----------------------------------------------------------------------------------


class _SyntaxProblem(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


class _RenderProblem(Exception):
    """Raised by our filters and loop guard while jinja2 runs; becomes a ValidationError."""


@dataclass(frozen=True)
class _Operand:
    kind: Literal["path", "this", "loop"]
    segments: tuple[str, ...]  # path: the path; this: after `this`; loop: ("index",) ...
    written: str
    logical: tuple[str, ...] | None  # the declared-variable path it stands for (None: loop position)
    level: int  # the #each level `this` / @... refer to (0 for paths)


@dataclass(frozen=True)
class _Filter:
    name: str
    arg: str | int | None
    pos: int


@dataclass
class _Output:
    operand: _Operand
    filters: list[_Filter]
    pos: int


@dataclass
class _Block:
    tag: Literal["if", "each"]
    operand: _Operand
    pos: int
    body: list[_Node] = dataclass_field(default_factory=list)
    otherwise: list[_Node] | None = None
    uses_loop: bool = False
    level: int = 0  # of an #each: how many #each bodies it is in, plus one


_Node = str | _Output | _Block


@dataclass(frozen=True)
class _Use:
    logical: tuple[str, ...]
    written: str
    pos: int


@dataclass
class _Parsed:
    nodes: list[_Node]
    problems: list[tuple[int, str]]  # soft problems: unknown filters, bad filter arguments
    uses: list[_Use]
    lines: list[int]  # offsets where each line starts

    def where(self, pos: int) -> str:
        line = bisect.bisect_right(self.lines, pos)
        return f"line {line}, column {pos - self.lines[line - 1] + 1}"


_SCAN = re.compile(r'"(?:[^"\\]|\\.)*"?|\}\}|\{\{')
_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<path>@?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r'|(?P<string>"(?:[^"\\]|\\.)*")|(?P<int>\d+)|(?P<punct>[#/|:])'
)
_ESCAPES = re.compile(r"\\(.)")


def _line_starts(source: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", source))]


def _tokens(inner: str, base: int) -> list[tuple[str, str, int]]:
    """(type, text, absolute position) of a tag's content; any other character is an error naming it."""
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(inner):
        match = _TOKEN.match(inner, pos)
        if match is None:
            raise _SyntaxProblem(base + pos, f"unexpected {inner[pos]!r} in a tag")
        kind = match.lastgroup or ""
        if kind != "ws":
            out.append((kind, match.group(), base + pos))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.root: list[_Node] = []
        self.stack: list[_Block] = []
        self.problems: list[tuple[int, str]] = []
        self.uses: list[_Use] = []

    def parse(self) -> list[_Node]:
        source, pos, tags = self.source, 0, 0
        while True:
            start = source.find("{{", pos)
            if start < 0:
                self._text(source[pos:])
                break
            self._text(source[pos:start])
            end = self._tag_end(start)
            tags += 1
            if tags > self.limits.tags:
                raise _SyntaxProblem(start, f"more than {self.limits.tags:,} tags")
            self._tag(source[start + 2 : end], start + 2, start)
            pos = end + 2
        if self.stack:
            block = self.stack[-1]
            raise _SyntaxProblem(block.pos, f"{{{{#{block.tag}}}}} is never closed (missing {{{{/{block.tag}}}}})")
        return self.root

    def _tag_end(self, start: int) -> int:
        for match in _SCAN.finditer(self.source, start + 2):
            token = match.group()
            if token == "}}":
                return match.start()
            if token == "{{":
                raise _SyntaxProblem(start, "tag is not closed with '}}' before the next '{{'")
        raise _SyntaxProblem(start, "tag is not closed with '}}'")

    def _body(self) -> list[_Node]:
        if not self.stack:
            return self.root
        block = self.stack[-1]
        return block.body if block.otherwise is None else block.otherwise

    def _text(self, text: str) -> None:
        if text:
            self._body().append(text)

    def _tag(self, inner: str, base: int, start: int) -> None:
        tokens = _tokens(inner, base)
        if not tokens:
            raise _SyntaxProblem(start, "empty tag")
        kind, text, _ = tokens[0]
        if kind == "punct" and text == "#":
            self._open(tokens, start)
        elif kind == "punct" and text == "/":
            self._close(tokens, start)
        elif kind == "path" and text == "else" and len(tokens) == 1:
            self._else(start)
        else:
            operand, rest = self._operand(tokens, 0)
            self._body().append(_Output(operand, self._filters(rest), start))

    def _open(self, tokens: list[tuple[str, str, int]], start: int) -> None:
        if len(tokens) < 2 or tokens[1][1] not in ("if", "each") or tokens[1][2] != tokens[0][2] + 1:
            shown = tokens[1][1] if len(tokens) > 1 else ""
            raise _SyntaxProblem(start, f"unknown block '#{shown}' (supported: #if, #each)")
        tag: Literal["if", "each"] = "if" if tokens[1][1] == "if" else "each"
        if len(tokens) < 3:
            raise _SyntaxProblem(start, f"{{{{#{tag}}}}} needs a variable")
        operand, rest = self._operand(tokens, 2)
        if rest:
            raise _SyntaxProblem(rest[0][2], f"unexpected {rest[0][1]!r}: {{{{#{tag}}}}} takes one variable")
        if len(self.stack) >= self.limits.depth:
            raise _SyntaxProblem(start, f"blocks nested more than {self.limits.depth} deep")
        block = _Block(tag, operand, start, level=len(self._loops()) + 1 if tag == "each" else 0)
        self._body().append(block)
        self.stack.append(block)

    def _close(self, tokens: list[tuple[str, str, int]], start: int) -> None:
        if len(tokens) != 2 or tokens[1][1] not in ("if", "each") or tokens[1][2] != tokens[0][2] + 1:
            raise _SyntaxProblem(start, "unknown closing tag (supported: {{/if}}, {{/each}})")
        tag = tokens[1][1]
        if not self.stack:
            raise _SyntaxProblem(start, f"{{{{/{tag}}}}} without an open {{{{#{tag}}}}}")
        block = self.stack[-1]
        if block.tag != tag:
            raise _SyntaxProblem(
                start, f"{{{{/{tag}}}}} closes {{{{#{block.tag}}}}} opened at {self._where(block.pos)}"
            )
        self.stack.pop()

    def _else(self, start: int) -> None:
        if not self.stack:
            raise _SyntaxProblem(start, "{{else}} outside {{#if}} or {{#each}}")
        block = self.stack[-1]
        if block.otherwise is not None:
            raise _SyntaxProblem(
                start, f"a second {{{{else}}}} in {{{{#{block.tag}}}}} opened at {self._where(block.pos)}"
            )
        block.otherwise = []

    def _where(self, pos: int) -> str:
        return _Parsed([], [], [], _line_starts(self.source)).where(pos)

    def _loops(self) -> list[_Block]:
        """The #each blocks whose body (not {{else}}) the parser is in, innermost last."""
        return [b for b in self.stack if b.tag == "each" and b.otherwise is None]

    def _operand(self, tokens: list[tuple[str, str, int]], index: int) -> tuple[_Operand, list[tuple[str, str, int]]]:
        kind, text, pos = tokens[index]
        if kind != "path":
            raise _SyntaxProblem(pos, f"expected a variable, found {text!r}")
        segments = tuple(text.lstrip("@").split("."))
        for segment in segments:
            if segment.startswith("_"):
                raise _SyntaxProblem(pos, f"names starting with '_' are not allowed: {text!r}")
        loops = self._loops()
        if text.startswith("@"):
            if len(segments) != 1 or segments[0] not in LOOP_NAMES:
                raise _SyntaxProblem(pos, f"unknown {text!r} (supported: @index, @first, @last)")
            if not loops:
                raise _SyntaxProblem(pos, f"{text} outside {{{{#each}}}}")
            loops[-1].uses_loop = True
            operand = _Operand("loop", segments, text, None, len(loops))
        elif segments[0] == "this":
            if not loops:
                raise _SyntaxProblem(pos, "'this' outside {{#each}}")
            outer = loops[-1].operand.logical
            logical = None if outer is None else outer + segments[1:]
            operand = _Operand("this", segments[1:], text, logical, len(loops))
        else:
            operand = _Operand("path", segments, text, segments, 0)
        if operand.logical is not None:
            self.uses.append(_Use(operand.logical, text, pos))
        return operand, tokens[index + 1 :]

    def _filters(self, tokens: list[tuple[str, str, int]]) -> list[_Filter]:
        filters: list[_Filter] = []
        i = 0
        while i < len(tokens):
            _, text, pos = tokens[i]
            if text != "|":
                raise _SyntaxProblem(pos, f"unexpected {text!r}: filters follow '|'")
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "path" or "." in tokens[i + 1][1]:
                raise _SyntaxProblem(pos, "expected a filter name after '|'")
            name, name_pos = tokens[i + 1][1], tokens[i + 1][2]
            i += 2
            arg: str | int | None = None
            if i < len(tokens) and tokens[i][1] == ":":
                if i + 1 >= len(tokens) or tokens[i + 1][0] not in ("string", "int"):
                    raise _SyntaxProblem(tokens[i][2], f"expected a quoted text or a number after '{name}:'")
                arg_kind, arg_text, _ = tokens[i + 1]
                arg = int(arg_text) if arg_kind == "int" else _ESCAPES.sub(r"\1", arg_text[1:-1])
                i += 2
            problem = _filter_problem(name, arg)
            if problem:
                self.problems.append((name_pos, problem))
            filters.append(_Filter(name, arg, name_pos))
        return filters


def _filter_problem(name: str, arg: str | int | None) -> str | None:
    if name not in FILTERS:
        return f"unknown filter '{name}' (supported: {', '.join(FILTERS)})"
    if name in ("default", "format") and not isinstance(arg, str):
        return f"filter '{name}' needs a quoted text: {name}:\"...\""
    if name in ("upper", "lower") and arg is not None:
        return f"filter '{name}' takes no argument"
    if name == "truncate" and not (isinstance(arg, int) and 1 <= arg <= TRUNCATE_MAX):
        return f"filter 'truncate' needs a length from 1 to {TRUNCATE_MAX:,}: truncate:20"
    return None


def _parse(source: str, limits: Limits) -> _Parsed:
    """The syntax tree, or _SyntaxProblem for the first error that stops reading."""
    parser = _Parser(source, limits)
    nodes = parser.parse()
    return _Parsed(nodes, parser.problems, parser.uses, _line_starts(source))


def _size_problem(source: str, limits: Limits) -> str | None:
    if len(source) * 4 <= limits.template_bytes:  # UTF-8 needs at most 4 bytes a character
        return None
    size = len(source.encode("utf-8", "surrogatepass"))
    if size <= limits.template_bytes:
        return None
    return f"the template is {size:,} bytes; at most {limits.template_bytes:,} are allowed"


def _declared(variables: Iterable[str]) -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    paths = {tuple(v.split(".")) for v in variables}
    prefixes = {p[:n] for p in paths for n in range(1, len(p) + 1)}
    return frozenset(paths), frozenset(prefixes)


def _unknown(uses: Iterable[_Use], variables: Iterable[str]) -> list[tuple[int, str]]:
    """A path is known when it is a declared path, leads to one (user -> user.name) or lies under one."""
    paths, prefixes = _declared(variables)
    seen: set[tuple[str, ...]] = set()
    out: list[tuple[int, str]] = []
    for use in uses:
        logical = use.logical
        if logical in prefixes or any(logical[:n] in paths for n in range(1, len(logical))):
            continue
        if logical in seen:
            continue
        seen.add(logical)
        full = ".".join(logical)
        shown = f"'{use.written}'" if use.written == full else f"'{use.written}' ({full})"
        out.append((use.pos, f"unknown variable {shown}"))
    return out


def _texts(nodes: list[_Node]) -> Iterable[str]:
    for node in nodes:
        if isinstance(node, str):
            yield node
        elif isinstance(node, _Block):
            yield from _texts(node.body)
            yield from _texts(node.otherwise or [])


def check(
    source: str,
    *,
    field: str,
    kind: Kind,
    variables: Iterable[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[FieldProblem]:
    """Everything wrong with a template, before it is saved, previewed or sent (empty: it is usable).

    Reports the template size, the first syntax error (line and column), unknown filters
    and bad filter arguments, and, when `variables` is given (the declared variable keys,
    nested ones dotted: ``user.name``, ``items.title``; globals included), every path that
    is not declared. A list's item fields are declared under the list: ``this.title`` in
    ``{{#each items}}`` is ``items.title``. Does not import jinja2.
    """
    _kind(kind)
    parsed, problems = _analyse(source, kind, field, limits)
    if parsed is not None and variables is not None:
        problems.extend(_located(field, parsed, _unknown(parsed.uses, variables)))
    return problems


def _located(field: str, parsed: _Parsed, found: Iterable[tuple[int, str]]) -> list[FieldProblem]:
    return [FieldProblem(field, f"{parsed.where(pos)}: {message}") for pos, message in sorted(found)]


def _analyse(source: str, kind: Kind, field: str, limits: Limits) -> tuple[_Parsed | None, list[FieldProblem]]:
    """The syntax tree (None when it cannot be read) and the problems that do not need the variables."""
    too_big = _size_problem(source, limits)
    if too_big:
        return None, [FieldProblem(field, too_big)]
    try:
        parsed = _parse(source, limits)
    except _SyntaxProblem as problem:
        where = _Parsed([], [], [], _line_starts(source)).where(problem.pos)
        return None, [FieldProblem(field, f"{where}: {problem.message}")]
    problems = _located(field, parsed, parsed.problems)
    if kind == "subject" and any("\r" in t or "\n" in t for t in _texts(parsed.nodes)):
        problems.append(FieldProblem(field, "a subject is one line: it holds a line break"))
    return parsed, problems


def _kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")


# -- translation to jinja2 ---------------------------------------------------------------------


class _Translation:
    """jinja2 source made of our own syntax only.

    Filter arguments become template globals; literal text becomes a placeholder name
    that :func:`_compile` swaps for a TemplateData node in jinja2's syntax tree, so the
    author's text is never read by jinja2's lexer and is output as it is, unescaped and
    with its line endings, like markup in a jinja2 template.
    """

    def __init__(self, parsed: _Parsed) -> None:
        self.parsed = parsed
        self.constants: dict[str, Any] = {}
        self.texts: dict[str, str] = {}
        self.parts: list[str] = []

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def run(self) -> str:
        self.nodes(self.parsed.nodes)
        return "".join(self.parts)

    def nodes(self, nodes: list[_Node]) -> None:
        for node in nodes:
            if isinstance(node, str):
                name = f"_t{len(self.texts)}"
                self.texts[name] = node
                self.parts.append("{{ %s }}" % name)  # noqa: UP031
            elif isinstance(node, _Output):
                self.output(node)
            else:
                self.block(node)

    @staticmethod
    def operand(operand: _Operand) -> str:
        if operand.kind == "loop":
            return f'_l{operand.level}["{operand.segments[0]}"]'
        head = "_v" if operand.kind == "path" else f"_i{operand.level}"
        return head + "".join(f'["{segment}"]' for segment in operand.segments)

    def output(self, node: _Output) -> None:
        where = self.parsed.where(node.pos)
        path = node.operand.written
        expr = self.operand(node.operand)
        for f in node.filters:
            arg = "" if f.arg is None else self.constant(f.arg) + ", "
            expr = f'{expr}|{f.name}({arg}"{path}", "{where}")'
        self.parts.append(f'{{{{ {expr}|_show("{path}", "{where}") }}}}')

    def block(self, node: _Block) -> None:
        expr = self.operand(node.operand)
        if node.tag == "if":
            self.parts.append(f"{{% if {expr} %}}")
        else:
            where = self.parsed.where(node.pos)
            self.parts.append(f'{{% for _i{node.level} in _each(_b, {expr}, "{node.operand.written}", "{where}") %}}')
            if node.uses_loop:
                self.parts.append(f"{{% set _l{node.level} = _loop(loop) %}}")
        self.nodes(node.body)
        if node.otherwise is not None:
            self.parts.append("{% else %}")
            self.nodes(node.otherwise)
        self.parts.append("{% endif %}" if node.tag == "if" else "{% endfor %}")


# -- runtime helpers (called by the compiled template) -----------------------------------------


class _Budget:
    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit


_UNDEFINED: list[type[Any]] = []  # jinja2.Undefined, once the environment exists (no import here)


def _absent(value: Any) -> bool:
    return value is None or isinstance(value, _UNDEFINED[0])


def _each(budget: _Budget, value: Any, path: str, where: str) -> Sequence[Any]:
    if _absent(value):
        return ()
    if not isinstance(value, list | tuple):
        raise _RenderProblem(f"{where}: {{{{#each {path}}}}} needs a list, not {_type_name(value)}")
    budget.left -= len(value)  # len() of the list: a million items are refused without touching them
    if budget.left < 0:
        raise _RenderProblem(
            f"{where}: {{{{#each {path}}}}} goes beyond {budget.limit:,} loop iterations in one render"
        )
    return value


def _loop(loop: Any) -> dict[str, Any]:
    return {"index": loop.index0, "first": loop.first, "last": loop.last}


def _type_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _text(value: Any, path: str, where: str) -> str:
    if isinstance(value, str):
        return value
    if _absent(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal | date):
        return str(value)
    raise _RenderProblem(f"{where}: '{path}' is {_type_name(value)} and cannot be shown as text")


def _show(value: Any, path: str, where: str) -> str:
    return _text(value, path, where)


def _default(value: Any, fallback: str, path: str, where: str) -> Any:
    return fallback if _absent(value) or value == "" else value


def _upper(value: Any, path: str, where: str) -> str:
    return _text(value, path, where).upper()


def _lower(value: Any, path: str, where: str) -> str:
    return _text(value, path, where).lower()


def _truncate(value: Any, length: int, path: str, where: str) -> str:
    text = _text(value, path, where)
    return text if len(text) <= length else text[:length] + "…"


_DATE_TOKENS = re.compile(r"YYYY|YY|MM|DD|HH|mm|ss")


@cache
def _date_pattern(pattern: str) -> tuple[str, ...]:
    """The pattern split into tokens and literal text (tokens are kept as they are)."""
    parts: list[str] = []
    pos = 0
    for match in _DATE_TOKENS.finditer(pattern):
        if match.start() > pos:
            parts.append("\0" + pattern[pos : match.start()])
        parts.append(match.group())
        pos = match.end()
    if pos < len(pattern):
        parts.append("\0" + pattern[pos:])
    return tuple(parts)


def format_date(value: date | str, pattern: str) -> str:
    """`value` (a date, a datetime or an ISO 8601 string) written with tokens YYYY YY MM DD HH mm ss.

    Everything else in `pattern` is literal. A date has 00:00:00 as its time; a time zone
    is kept as given (no conversion). Raises ValueError for text that is not ISO 8601.
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    hour, minute, second = (moment.hour, moment.minute, moment.second) if isinstance(moment, datetime) else (0, 0, 0)
    values = {
        "YYYY": f"{moment.year:04d}",
        "YY": f"{moment.year % 100:02d}",
        "MM": f"{moment.month:02d}",
        "DD": f"{moment.day:02d}",
        "HH": f"{hour:02d}",
        "mm": f"{minute:02d}",
        "ss": f"{second:02d}",
    }
    return "".join(part[1:] if part.startswith("\0") else values[part] for part in _date_pattern(pattern))


def _format(value: Any, pattern: str, path: str, where: str) -> str:
    if _absent(value) or value == "":
        return ""
    if not isinstance(value, str | date):
        raise _RenderProblem(f"{where}: '{path}' is {_type_name(value)}, not a date")
    try:
        return format_date(value, pattern)
    except ValueError:
        raise _RenderProblem(f"{where}: '{path}' is not a date or an ISO 8601 date-time: {value!r}") from None


# -- environment, compilation and cache --------------------------------------------------------


@cache
def _environment(autoescape: bool) -> Any:
    """The sandbox: only mapping keys can be read, nothing of jinja2's own globals, filters or tests."""
    from jinja2 import Undefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Environment(ImmutableSandboxedEnvironment):
        def getitem(self, obj: Any, argument: Any) -> Any:
            if isinstance(obj, Mapping) and isinstance(argument, str):
                try:
                    return obj[argument]
                except KeyError:
                    pass
            return self.undefined(obj=obj, name=argument)

        def getattr(self, obj: Any, attribute: str) -> Any:
            return self.undefined(obj=obj, name=attribute)

    environment = _Environment(autoescape=autoescape, undefined=Undefined, cache_size=0)
    _UNDEFINED[:] = [Undefined]
    environment.globals.clear()
    environment.globals.update(_each=_each, _loop=_loop)
    environment.filters.clear()
    environment.filters.update(
        _show=_show, default=_default, format=_format, upper=_upper, lower=_lower, truncate=_truncate
    )
    environment.tests.clear()
    return environment


@dataclass(frozen=True)
class _Compiled:
    source: str
    template: Template
    parsed: _Parsed


_CACHE: OrderedDict[tuple[str, Kind], _Compiled] = OrderedDict()
_STATS = {"hits": 0, "misses": 0}


def cache_info() -> CacheInfo:
    """Hits and misses of the compiled-template cache of this container, and its size."""
    return CacheInfo(_STATS["hits"], _STATS["misses"], len(_CACHE))


def clear_cache() -> None:
    """Empties the compiled-template cache (tests, and a template deleted for good)."""
    _CACHE.clear()
    _STATS.update(hits=0, misses=0)


def _invalid(field: str, problems: list[FieldProblem]) -> ValidationError:
    return ValidationError(f"the template in '{field}' cannot be used", errors=problems)


def _compile(source: str, kind: Kind, field: str, limits: Limits) -> _Compiled:
    parsed, problems = _analyse(source, kind, field, limits)
    if parsed is None or problems:
        raise _invalid(field, problems)
    from jinja2 import nodes

    environment = _environment(kind == "html")
    translation = _Translation(parsed)
    tree = environment.parse(translation.run())
    texts = translation.texts
    for output in tree.find_all(nodes.Output):
        output.nodes = [
            nodes.TemplateData(texts[n.name], lineno=n.lineno).set_environment(environment)
            if isinstance(n, nodes.Name) and n.name in texts
            else n
            for n in output.nodes
        ]
    template = environment.from_string(tree, globals=translation.constants)
    return _Compiled(source, template, parsed)


def _compiled(source: str, kind: Kind, field: str, key: str | None, limits: Limits) -> _Compiled:
    if key is None:
        return _compile(source, kind, field, limits)
    cache_key = (key, kind)
    found = _CACHE.get(cache_key)
    if found is not None and found.source == source:
        _STATS["hits"] += 1
        _CACHE.move_to_end(cache_key)
        return found
    _STATS["misses"] += 1
    compiled = _compile(source, kind, field, limits)
    _CACHE[cache_key] = compiled
    _CACHE.move_to_end(cache_key)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def _missing(context: Mapping[str, Any], required: Iterable[str]) -> list[str]:
    missing = []
    for name in required:
        value: Any = context
        for segment in name.split("."):
            value = value.get(segment) if isinstance(value, Mapping) else None
        if value is None or value == "":
            missing.append(name)
    return missing


def render(
    source: str,
    context: Mapping[str, Any],
    *,
    field: str,
    kind: Kind,
    required: Iterable[str] = (),
    variables: Iterable[str] | None = None,
    key: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """`source` (the seed's syntax) rendered with `context`; ValidationError (422) naming `field` if it cannot be.

    `kind` "html" escapes every value; "text" and "subject" do not, and a subject that
    renders with a line break is refused. `required` variables (dotted for nested ones)
    must be present and not empty in `context`; with `variables`, an undeclared path is an
    error as in :func:`check`. `key` (template id, version and part) caches the compiled
    template in this container; without it the template is compiled for this call only.
    """
    _kind(kind)
    compiled = _compiled(source, kind, field, key, limits)
    problems = [FieldProblem(field, f"missing required variable '{name}'") for name in _missing(context, required)]
    if variables is not None:
        problems.extend(_located(field, compiled.parsed, _unknown(compiled.parsed.uses, variables)))
    if problems:
        raise _invalid(field, problems)
    from jinja2 import TemplateError

    parts: list[str] = []
    size = 0
    template = compiled.template
    # root_render_func directly rather than generate(): one generator less per chunk, and
    # chunk by chunk so that the output cap stops a runaway render early.
    chunks = template.root_render_func(template.new_context({"_v": context, "_b": _Budget(limits.iterations)}))
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limits.output_chars:
                raise _RenderProblem(f"the rendered text is longer than {limits.output_chars:,} characters")
            parts.append(chunk)
    except _RenderProblem as problem:
        raise _invalid(field, [FieldProblem(field, str(problem))]) from None
    except TemplateError as error:  # not expected: our translation emits nothing jinja2 refuses
        raise _invalid(field, [FieldProblem(field, f"the template could not be rendered: {error}")]) from None
    output = "".join(parts)
    if kind == "subject" and ("\r" in output or "\n" in output):
        raise _invalid(field, [FieldProblem(field, "the subject renders with a line break (CR or LF)")])
    return output
