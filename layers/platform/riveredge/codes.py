"""Code rules: gap-free document numbers such as ``INV-2026-00042``, issued inside the caller's transaction.

A rule's pattern is fixed text with tokens::

    {YYYY} {YY} {MM} {DD} {YYYYMMDD}   the date, in the tenant's time zone (riveredge.site.time_zone)
    {SEQ:n}                            the sequence, zero-padded to n digits (1..12); exactly one
    {CTX}                              a context value the caller passes (a department code, a
                                       dictionary value): each value keeps its own sequence

and the rule resets its sequence every ``day``, ``month``, ``year`` or ``never``. A pattern that resets must
show the period it resets in (a daily rule shows the day, ...), and a pattern with ``{CTX}`` needs a context
value (one without refuses one), so that a rule never issues the same code twice.

Issuing a code from another module, in the module's own change::

    def attempt() -> Invoice:
        with change(actor, "invoice.create", invoice) as c:
            issued = codes.issue(c, actor.scope, rule, context=department_code)
            invoice.number = issued.code
            c.create(invoice, conflict="the invoice exists already")
        return invoice

    invoice = codes.retrying(attempt)

:func:`issue` reads the counter (``<scope>CODE_SEQ#<rule id>`` / ``<context>#<period>``) and adds to the
change one conditional write of it: ``value = read`` → ``value + 1``, or its creation with 1 when there is
none. The number is therefore consumed only if the whole change commits (a document that is not written does
not use up a number: no gaps), and two concurrent issuers cannot both commit the same number. The one that
loses fails on the counter; :func:`retrying` runs the attempt again (re-reading the counter) up to 50 times
with a short jittered sleep. No locks, no scans: one read and one write of one item per code.

:func:`next_code` is the route's use of it (the code alone, logged as ``code_rule.issue``), :func:`preview`
the next code without consuming it, :func:`render` a code of any pattern (the routes' test of an unsaved one).
The time is ``now`` when given, else :func:`riveredge.clock.utcnow` (patched by tests that move time).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from riveredge import clock, keys, site
from riveredge.db.changes import Author, Change, change
from riveredge.db.codes import CodeCounter, CodeRule
from riveredge.errors import ConflictError, DomainError, FieldProblem, NotFoundError, ValidationError
from riveredge.scope import Scope

Reset = Literal["day", "month", "year", "never"]
RESETS: tuple[str, ...] = ("day", "month", "year", "never")
MAX_SEQ_WIDTH = 12
MAX_PATTERN_LENGTH = 100
TRIES = 50
CONTEXT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DATE_TOKENS = ("YYYYMMDD", "YYYY", "YY", "MM", "DD")
_TOKEN = re.compile(r"\{([^{}]*)\}")
_SEQ = re.compile(r"^SEQ:([0-9]{1,2})$")


class PatternError(ValueError):
    """A pattern that cannot be used (the message says why)."""


@dataclass(frozen=True)
class Part:
    """One piece of a pattern: fixed text, or a token (``YYYY``, ``SEQ``, ``CTX``, ...)."""

    kind: str  # "text" or the token's name
    text: str = ""  # the fixed text
    width: int = 0  # the SEQ width


@dataclass(frozen=True)
class Pattern:
    parts: tuple[Part, ...]

    @property
    def tokens(self) -> set[str]:
        return {p.kind for p in self.parts if p.kind != "text"}

    @property
    def has_context(self) -> bool:
        return "CTX" in self.tokens

    def render(self, moment: datetime, sequence: int, context: str | None) -> str:
        """The code for `sequence` at `moment` (already in the tenant's time zone) and `context`."""
        values = {
            "YYYYMMDD": moment.strftime("%Y%m%d"),
            "YYYY": moment.strftime("%Y"),
            "YY": moment.strftime("%y"),
            "MM": moment.strftime("%m"),
            "DD": moment.strftime("%d"),
            "CTX": context or "",
        }
        out = []
        for part in self.parts:
            if part.kind == "text":
                out.append(part.text)
            elif part.kind == "SEQ":
                out.append(str(sequence).zfill(part.width))
            else:
                out.append(values[part.kind])
        return "".join(out)


@dataclass(frozen=True)
class IssuedCode:
    code: str
    sequence: int
    period: str
    context: str | None = None


def parse(pattern: str) -> Pattern:
    """The parts of `pattern`; a :class:`PatternError` when it has no or two SEQ, an unknown token or a stray brace."""
    if not pattern:
        raise PatternError("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    parts: list[Part] = []
    at = 0
    for match in _TOKEN.finditer(pattern):
        _text(parts, pattern[at : match.start()])
        name = match.group(1)
        seq = _SEQ.match(name)
        if seq is not None:
            width = int(seq.group(1))
            if not 1 <= width <= MAX_SEQ_WIDTH:
                raise PatternError(f"{{SEQ:n}} needs n from 1 to {MAX_SEQ_WIDTH}")
            parts.append(Part("SEQ", width=width))
        elif name in DATE_TOKENS or name == "CTX":
            parts.append(Part(name))
        else:
            raise PatternError(f"unknown token {{{name}}}")
        at = match.end()
    _text(parts, pattern[at:])
    seqs = sum(1 for p in parts if p.kind == "SEQ")
    if seqs != 1:
        raise PatternError("the pattern needs exactly one {SEQ:n} token" + (f", not {seqs}" if seqs else ""))
    return Pattern(tuple(parts))


def _text(parts: list[Part], text: str) -> None:
    if "{" in text or "}" in text:
        raise PatternError("a brace that does not open or close a token")
    if any(ord(ch) < 32 for ch in text):
        raise PatternError("the pattern holds a control character")
    if text:
        parts.append(Part("text", text=text))


def check(pattern: str, reset: str) -> Pattern:
    """`pattern` parsed, provided it shows the period `reset` restarts in (else its codes would repeat)."""
    parsed = parse(pattern)
    tokens = parsed.tokens
    year = bool(tokens & {"YYYY", "YY", "YYYYMMDD"})
    month = "YYYYMMDD" in tokens or (year and "MM" in tokens)
    day = "YYYYMMDD" in tokens or (month and "DD" in tokens)
    needs = {"year": (year, "{YYYY} or {YY}"), "month": (month, "the year and {MM}"), "day": (day, "the date")}
    if reset in needs and not needs[reset][0]:
        raise PatternError(f"a pattern that resets every {reset} must show {needs[reset][1]}")
    return parsed


def invalid(field: str, message: str) -> ValidationError:
    """The 422 naming `field`."""
    return ValidationError(f"{field} is not valid", errors=[FieldProblem(field, message)])


def period(reset: str, moment: datetime) -> str:
    """The period `moment` (tenant-local) lies in, for a rule that resets every `reset`."""
    if reset == "day":
        return moment.strftime("%Y%m%d")
    if reset == "month":
        return moment.strftime("%Y%m")
    if reset == "year":
        return moment.strftime("%Y")
    return "ALL"


def local_time(scope: Scope, now: datetime | None = None) -> datetime:
    """`now` (or the clock's now) in the tenant's time zone."""
    moment = now or clock.utcnow()
    return moment.astimezone(ZoneInfo(site.time_zone(scope)))


def _context(parsed: Pattern, context: str | None) -> str | None:
    if parsed.has_context:
        if not context:
            raise invalid("context", "the rule's pattern has {CTX}: a context value is required")
        if not CONTEXT_PATTERN.match(context):
            raise invalid("context", "letters, digits, '_', '.', '-' (at most 64)")
        return context
    if context:
        raise invalid("context", "the rule's pattern has no {CTX}: it takes no context value")
    return None


def render(
    pattern: str, reset: str, sequence: int, *, scope: Scope, context: str | None = None, now: datetime | None = None
) -> IssuedCode:
    """The code `pattern` gives for `sequence` now (an unsaved pattern's preview)."""
    parsed = check(pattern, reset)
    value = _context(parsed, context)
    moment = local_time(scope, now)
    return IssuedCode(parsed.render(moment, sequence, value), sequence, period(reset, moment), value)


def _counter(scope: Scope, rule: CodeRule, context: str | None, when: str) -> CodeCounter | None:
    return CodeCounter.find(keys.code_counter(scope, rule.rule_id, context or "", when))


def preview(scope: Scope, rule: CodeRule, context: str | None = None, now: datetime | None = None) -> IssuedCode:
    """The code :func:`issue` would give now, without consuming it (one read)."""
    parsed = parse(rule.pattern)
    value = _context(parsed, context)
    moment = local_time(scope, now)
    when = period(rule.reset, moment)
    counter = _counter(scope, rule, value, when)
    sequence = int(counter.value if counter is not None else 0) + 1
    return IssuedCode(parsed.render(moment, sequence, value), sequence, when, value)


_attempt: ContextVar[list[tuple[Change, tuple[str, str]]] | None] = ContextVar("codes_attempt", default=None)


def issue(
    c: Change, scope: Scope, rule: CodeRule, context: str | None = None, now: datetime | None = None
) -> IssuedCode:
    """The rule's next code, its counter's write added to `c` (consumed only if `c` commits).

    Run the change in :func:`retrying`: a concurrent issuer that took the number first makes `c` fail on
    the counter, and the attempt is run again.
    """
    if not rule.enabled:
        raise ConflictError(f"the code rule '{rule.code}' is disabled")
    parsed = parse(rule.pattern)
    value = _context(parsed, context)
    moment = local_time(scope, now)
    when = period(rule.reset, moment)
    counter = _counter(scope, rule, value, when)
    moved = "the sequence moved on meanwhile; try again"
    if counter is None:
        counter = CodeCounter.new(scope, rule.rule_id, value or "", when, 1)
        c.create(counter, conflict=moved)
        sequence = 1
    else:
        read = int(counter.value or 0)
        sequence = read + 1
        c.update(
            counter,
            [CodeCounter.value.set(sequence), CodeCounter.updated_at.set(clock.utcnow())],
            condition=CodeCounter.value == read,
            versioned=False,
            conflict=moved,
        )
    attempt = _attempt.get()
    if attempt is not None:
        attempt.append((c, (counter.pk, counter.sk)))
    return IssuedCode(parsed.render(moment, sequence, value), sequence, when, value)


@contextmanager
def _attempting() -> Iterator[list[tuple[Change, tuple[str, str]]]]:
    issued: list[tuple[Change, tuple[str, str]]] = []
    token = _attempt.set(issued)
    try:
        yield issued
    finally:
        _attempt.reset(token)


def retrying[T](attempt: Callable[[], T], *, tries: int = TRIES) -> T:
    """Run `attempt` (which reads and issues in a change) until it does not lose a counter to another issuer.

    Only a change that failed on a counter it issued from (or met a concurrent transaction) is run again;
    every other refusal is the caller's answer.
    """
    for n in range(1, tries + 1):
        with _attempting() as issued:
            try:
                return attempt()
            except DomainError as error:
                lost = any(key in c.failed for c, key in issued)
                raced = bool(issued) and isinstance(error, ConflictError) and not any(c.failed for c, _ in issued)
                if not (lost or raced) or n == tries:
                    raise
        time.sleep(random.uniform(0.002, 0.01 * min(n, 10)))  # noqa: S311  (jitter, not a secret)
    raise AssertionError("unreachable")  # pragma: no cover


def rule(scope: Scope, rule_id: str) -> CodeRule:
    """The scope's rule `rule_id`, or a 404 (another tenant's id is not found: keys carry the scope)."""
    found = CodeRule.find(keys.code_rule(scope, rule_id))
    if found is None:
        raise NotFoundError("no such code rule")
    return found


def next_code(author: Author, rule_id: str, context: str | None = None, now: datetime | None = None) -> IssuedCode:
    """Issue the rule's next code on its own (the ``next`` route), logged as ``code_rule.issue``."""
    found = rule(author.scope, rule_id)

    def attempt() -> IssuedCode:
        with change(author, "code_rule.issue") as c:
            issued = issue(c, author.scope, found, context, now)
            after = {"code": issued.code, "sequence": issued.sequence, "period": issued.period}
            c.log("code_rule.issue", CodeRule.noun, rule_id, before=None, after=after | {"context": issued.context})
        return issued

    return retrying(attempt)
