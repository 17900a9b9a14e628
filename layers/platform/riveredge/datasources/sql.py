"""The lexical side of a data source query: one statement, and its ``:name`` parameters, found by a tokenizer.

A query is scanned once, the way the server will read it: string literals ('...' with '' and, where the server
reads them so, backslash escapes; PostgreSQL E'...' and $tag$...$tag$; MySQL "..." unless ANSI_QUOTES), quoted
identifiers ("..." in PostgreSQL and under ANSI_QUOTES, `...` in MySQL) and comments (-- to the end of the line,
MySQL # too; /* */, nested in PostgreSQL) are skipped as units, so that nothing inside them is taken for a
statement separator or a parameter. What is left decides:

- ``;`` ends the statement: only spaces and comments may follow it (a second statement is refused, whatever the
  driver would do with it);
- ``:name`` (a letter or _ then letters, digits, _), not preceded by ``:`` or a letter, digit, _ or $, is a
  parameter: ``::type`` casts, ``:=``, ``arr[1:n]`` and ``a:b`` are not;
- PostgreSQL ``$1`` placeholders and MySQL executable comments (``/*! ... */``, ``/*M! ... */``: their content
  runs) are refused, and so is a literal or comment left open.

:func:`prepare` answers the statement rewritten in the driver's placeholders: ``$1, $2...`` for PostgreSQL (one
per distinct name), ``%s`` for PyMySQL (one per occurrence, and every other ``%`` doubled, as PyMySQL's
%-formatting of the whole text needs).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from riveredge.errors import FieldProblem, ValidationError

MAX_SQL_LENGTH = 100_000
MAX_PARAMETERS = 100

type DialectName = Literal["postgresql", "mysql"]


@dataclass(frozen=True)
class Dialect:
    """How the server reads a statement.

    `backslash_escapes`: a backslash escapes the next character in '...' (PostgreSQL with
    standard_conforming_strings off; MySQL unless its sql_mode has NO_BACKSLASH_ESCAPES). `ansi_quotes`: MySQL's
    ANSI_QUOTES mode ("..." is an identifier). PostgreSQL's E'...' always reads backslash escapes.
    """

    name: DialectName
    backslash_escapes: bool = False
    ansi_quotes: bool = False


POSTGRESQL = Dialect("postgresql")
MYSQL = Dialect("mysql", backslash_escapes=True)


@dataclass(frozen=True)
class Prepared:
    """The statement in the driver's placeholders, and the parameter name of each placeholder in order."""

    text: str
    names: tuple[str, ...]

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values to bind, in placeholder order; ValidationError naming ``parameters.<name>`` for a
        parameter that was not given or whose value cannot be bound."""
        missing = [name for name in dict.fromkeys(self.names) if name not in params]
        if missing:
            raise ValidationError(
                "the query names parameters that were not given",
                errors=[FieldProblem(f"parameters.{name}", "is required by the query") for name in missing],
            )
        for name in dict.fromkeys(self.names):
            check_value(name, params[name])
        return tuple(params[name] for name in self.names)


_BINDABLE = (str, int, float, Decimal, datetime.date, datetime.time)


def check_value(name: str, value: Any) -> None:
    """Only scalars are bound: a list or a mapping could turn into SQL syntax in a driver that quotes."""
    if value is None or isinstance(value, bool):
        return
    if not isinstance(value, _BINDABLE):
        raise ValidationError(
            f"parameters.{name} cannot be bound",
            errors=[FieldProblem(f"parameters.{name}", "must be a string, number, boolean, date, time or null")],
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(
            f"parameters.{name} cannot be bound", errors=[FieldProblem(f"parameters.{name}", "must be finite")]
        )
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(
            f"parameters.{name} cannot be bound",
            errors=[FieldProblem(f"parameters.{name}", "must not contain NUL characters")],
        )


def _problem(message: str) -> ValidationError:
    return ValidationError(f"sql {message}", errors=[FieldProblem("sql", message)])


type Kind = Literal["text", "space", "comment", "literal", "identifier", "parameter", "end"]


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    start: int


def _identifier_char(char: str) -> bool:
    return char.isalnum() or char in "_$" or ord(char) >= 0x80


def _name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


def _name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class _Scanner:
    def __init__(self, sql: str, dialect: Dialect) -> None:
        self.sql = sql
        self.dialect = dialect
        self.mysql = dialect.name == "mysql"

    def _quoted(self, start: int, quote: str, *, backslash: bool) -> int:
        """The end of the literal or identifier opened by `quote` at `start` (doubled quotes stay inside)."""
        sql, i = self.sql, start + 1
        while i < len(sql):
            char = sql[i]
            if backslash and char == "\\":
                i += 2
                continue
            if char == quote:
                if i + 1 < len(sql) and sql[i + 1] == quote:
                    i += 2
                    continue
                return i + 1
            i += 1
        kind = "identifier" if quote in '`"' and not self._is_string_quote(quote) else "string literal"
        raise _problem(f"has an unterminated {kind} (opened at character {start + 1})")

    def _is_string_quote(self, quote: str) -> bool:
        return quote == "'" or (quote == '"' and self.mysql and not self.dialect.ansi_quotes)

    def _block_comment(self, start: int) -> int:
        sql, i, depth = self.sql, start + 2, 1
        while i < len(sql):
            if sql.startswith("*/", i):
                depth -= 1
                i += 2
                if depth == 0:
                    return i
                continue
            if not self.mysql and sql.startswith("/*", i):  # PostgreSQL nests block comments
                depth += 1
                i += 2
                continue
            i += 1
        raise _problem(f"has an unterminated comment (opened at character {start + 1})")

    def _dollar_tag(self, start: int) -> str | None:
        """The $tag$ (or $$) opening a dollar-quoted string at `start`, None when `$` opens none."""
        sql, i = self.sql, start + 1
        if i < len(sql) and sql[i] == "$":
            return "$$"
        if i >= len(sql) or not (_name_start(sql[i]) or ord(sql[i]) >= 0x80):
            return None
        while i < len(sql) and (_name_char(sql[i]) or ord(sql[i]) >= 0x80):
            i += 1
        return sql[start : i + 1] if i < len(sql) and sql[i] == "$" else None

    def _line_comment_at(self, i: int) -> bool:
        sql = self.sql
        if self.mysql and sql[i] == "#":
            return True
        if not sql.startswith("--", i):
            return False
        # MySQL reads "--" as a comment only when a space or a control character follows (else: minus minus)
        return not self.mysql or i + 2 >= len(sql) or sql[i + 2].isspace() or ord(sql[i + 2]) < 0x20

    def _skipped(self, i: int, previous: str) -> Token | None:
        """The space, comment, literal or quoted identifier starting at `i`, None when none does."""
        sql = self.sql
        if sql[i].isspace():
            end = i
            while end < len(sql) and sql[end].isspace():
                end += 1
            return Token("space", sql[i:end], i)
        if self._line_comment_at(i):
            end = sql.find("\n", i)
            return Token("comment", sql[i : len(sql) if end < 0 else end], i)
        if sql.startswith("/*", i):
            if self.mysql and (sql.startswith("/*!", i) or sql.startswith("/*M!", i)):
                raise _problem("must not contain executable comments (/*! ... */)")
            return Token("comment", sql[i : self._block_comment(i)], i)
        return self._quoted_token(i, previous)

    def _quoted_token(self, i: int, previous: str) -> Token | None:
        sql, char = self.sql, self.sql[i]
        if char == "'":
            escaped = self.dialect.backslash_escapes or (
                not self.mysql and previous in {"e", "E"} and (i < 2 or not _identifier_char(sql[i - 2]))
            )
            return Token("literal", sql[i : self._quoted(i, "'", backslash=escaped)], i)
        if char == '"':
            string = self._is_string_quote('"')
            end = self._quoted(i, '"', backslash=string and self.dialect.backslash_escapes)
            return Token("literal" if string else "identifier", sql[i:end], i)
        if char == "`" and self.mysql:
            return Token("identifier", sql[i : self._quoted(i, "`", backslash=False)], i)
        if char == "$" and not self.mysql and not (previous and _identifier_char(previous)):
            return self._dollar(i)
        return None

    def _dollar(self, i: int) -> Token | None:
        """A PostgreSQL dollar-quoted literal at `i` (None for a `$` that opens none); `$1` is refused."""
        sql = self.sql
        tag = self._dollar_tag(i)
        if tag is None:
            if i + 1 < len(sql) and sql[i + 1].isdigit():
                raise _problem("must name its parameters :name, not $1")
            return None
        end = sql.find(tag, i + len(tag))
        if end < 0:
            raise _problem(f"has an unterminated string literal (opened at character {i + 1})")
        return Token("literal", sql[i : end + len(tag)], i)

    def _colon(self, i: int, previous: str) -> Token:
        """At a `:`: a ``::`` cast, a ``:name`` parameter, or a plain colon."""
        sql = self.sql
        if sql.startswith("::", i):
            return Token("text", "::", i)
        follows = i + 1 < len(sql) and _name_start(sql[i + 1])
        if follows and previous != ":" and not (previous and _identifier_char(previous)):
            end = i + 1
            while end < len(sql) and _name_char(sql[end]):
                end += 1
            return Token("parameter", sql[i + 1 : end], i)
        return Token("text", ":", i)

    def tokens(self) -> Iterator[Token]:
        sql, i = self.sql, 0
        previous = ""  # the last character of the last text token ("" after anything else)
        while i < len(sql):
            token = self._skipped(i, previous)
            if token is None:
                char = sql[i]
                token = self._colon(i, previous) if char == ":" else Token("end" if char == ";" else "text", char, i)
            i += len(token.text) + (1 if token.kind == "parameter" else 0)
            previous = token.text[-1] if token.kind == "text" else ""
            yield token


def tokens(sql: str, dialect: Dialect) -> list[Token]:
    """The tokens of `sql` as `dialect` reads it (ValidationError naming ``sql`` for an unterminated one)."""
    return list(_Scanner(sql, dialect).tokens())


def prepare(sql: str, dialect: Dialect) -> Prepared:
    """`sql` as one statement in the driver's placeholders (see the module's doc).

    ValidationError naming ``sql`` for an empty or over-long text, a second statement, ``$1`` placeholders,
    MySQL executable comments, an unterminated literal or comment, or more than MAX_PARAMETERS placeholders.
    """
    if len(sql) > MAX_SQL_LENGTH:
        raise _problem(f"must be at most {MAX_SQL_LENGTH} characters")
    if "\x00" in sql:
        raise _problem("must not contain NUL characters")
    found = tokens(sql, dialect)
    ends = [n for n, token in enumerate(found) if token.kind == "end"]
    statement = found[: ends[0]] if ends else found
    if ends and any(token.kind not in {"space", "comment", "end"} for token in found[ends[0] :]):
        raise _problem("must be one statement: nothing but comments may follow a ';'")
    if all(token.kind in {"space", "comment"} for token in statement):
        raise _problem("is empty")
    postgres = dialect.name == "postgresql"
    numbers: dict[str, int] = {}
    names: list[str] = []
    parts: list[str] = []
    for token in statement:
        if token.kind == "parameter":
            if postgres:
                number = numbers.setdefault(token.text, len(numbers) + 1)
                parts.append(f"${number}")
            else:
                parts.append("%s")
            names.append(token.text)
        elif postgres:
            parts.append(token.text)
        else:
            parts.append(token.text.replace("%", "%%"))
    if len(names) > MAX_PARAMETERS:
        raise _problem(f"must have at most {MAX_PARAMETERS} parameter placeholders")
    ordered = tuple(numbers) if postgres else tuple(names)
    return Prepared("".join(parts).strip(), ordered)


def parameter_names(sql: str, dialect_name: DialectName) -> list[str]:
    """The distinct ``:name`` parameters of `sql`, in order of first use (for a dataset's parameter form)."""
    dialect = POSTGRESQL if dialect_name == "postgresql" else MYSQL
    return list(dict.fromkeys(token.text for token in tokens(sql, dialect) if token.kind == "parameter"))
