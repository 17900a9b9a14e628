"""The sandboxed renderer: the seed's template syntax, escaping, limits, and an SSTI corpus that stays inert."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from riveredge import rendering
from riveredge.errors import ValidationError
from riveredge.rendering import Kind, Limits, check, render

from benchmarks.render_bench import WELCOME_CONTEXT, WELCOME_HTML

ROOT = Path(__file__).resolve().parents[2]


def html(source: str, context: dict[str, Any] | None = None, **kwargs: Any) -> str:
    return render(source, context or {}, field="html_body", kind="html", **kwargs)


def text(source: str, context: dict[str, Any] | None = None, **kwargs: Any) -> str:
    return render(source, context or {}, field="text_body", kind="text", **kwargs)


def refusal(source: str, context: dict[str, Any] | None = None, *, kind: Kind = "html", **kwargs: Any) -> str:
    """The messages of the ValidationError that rendering `source` raises."""
    with pytest.raises(ValidationError) as raised:
        render(source, context or {}, field="html_body", kind=kind, **kwargs)
    assert raised.value.status == 422
    assert all(e.field == "html_body" for e in raised.value.errors)
    return " | ".join(e.message for e in raised.value.errors)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    rendering.clear_cache()


# -- every syntax form of the seed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ("Hello {{user_name}}!", {"user_name": "Ann"}, "Hello Ann!"),
        ("Hello {{ user_name }}!", {"user_name": "Ann"}, "Hello Ann!"),
        ("Hello {{user.name}}", {"user": {"name": "Ann"}}, "Hello Ann"),
        ("{{a.b.c}}", {"a": {"b": {"c": 3}}}, "3"),
        ('Hi {{user_name|default:"friend"}}', {}, "Hi friend"),
        ('Hi {{user_name|default:"friend"}}', {"user_name": ""}, "Hi friend"),
        ('Hi {{user_name|default:"friend"}}', {"user_name": None}, "Hi friend"),
        ('Hi {{user_name|default:"friend"}}', {"user_name": "Ann"}, "Hi Ann"),
        ('{{x|default:"say \\"hi\\""}}', {}, 'say "hi"'),
        ('{{d|format:"YYYY-MM-DD"}}', {"d": "2024-12-29 10:30:00"}, "2024-12-29"),
        ('{{d|format:"DD/MM/YY HH:mm:ss"}}', {"d": datetime(2024, 3, 4, 5, 6, 7)}, "04/03/24 05:06:07"),
        ('{{d|format:"YYYY年MM月DD日 HH时"}}', {"d": date(2024, 12, 31)}, "2024年12月31日 00时"),
        ('{{d|format:"YYYY-MM-DDTHH:mm"}}', {"d": "2024-12-29T10:30:00Z"}, "2024-12-29T10:30"),
        ('{{d|format:"YYYY"}}', {}, ""),
        ('{{d|format:"{0.__init__} %s %Y YYYY"}}', {"d": date(2024, 1, 2)}, "{0.__init__} %s %Y 2024"),
        ("{{name|upper}} {{name|lower}}", {"name": "Ann"}, "ANN ann"),
        ("{{name|truncate:3}}|{{short|truncate:3}}", {"name": "Annabel", "short": "Al"}, "Ann…|Al"),
        ('{{name|default:"anon"|upper}}', {}, "ANON"),
        ("{{#if vip}}VIP{{/if}}.", {"vip": True}, "VIP."),
        ("{{#if vip}}VIP{{/if}}.", {"vip": False}, "."),
        ("{{#if vip}}VIP{{/if}}.", {}, "."),
        ("{{#if vip}}VIP{{else}}regular{{/if}}", {"vip": 0}, "regular"),
        ("{{#if a}}A{{#if b}}B{{else}}-b{{/if}}{{else}}-a{{/if}}", {"a": 1, "b": ""}, "A-b"),
        ("{{#if user.name}}named{{/if}}", {"user": {"name": "x"}}, "named"),
        ("{{#each items}}{{this.name}},{{/each}}", {"items": [{"name": "a"}, {"name": "b"}]}, "a,b,"),
        ("{{#each tags}}[{{@index}}:{{this}}]{{/each}}", {"tags": ["x", "y"]}, "[0:x][1:y]"),
        (
            "{{#each tags}}{{#if @first}}<{{/if}}{{this}}{{#if @last}}>{{else}},{{/if}}{{/each}}",
            {"tags": ["x", "y", "z"]},
            "<x,y,z>",
        ),
        ("{{#each items}}x{{/each}}|", {"items": []}, "|"),
        ("{{#each items}}x{{else}}none{{/each}}", {"items": []}, "none"),
        ("{{#each items}}x{{else}}none{{/each}}", {}, "none"),
        (
            "{{#each orders}}{{this.id}}:{{#each this.lines}}{{this.sku}}@{{@index}} {{/each}}{{@index}};{{/each}}",
            {"orders": [{"id": 1, "lines": [{"sku": "a"}, {"sku": "b"}]}, {"id": 2, "lines": [{"sku": "c"}]}]},
            "1:a@0 b@1 0;2:c@0 1;",
        ),
        ("{{#each items}}{{app_name}}-{{this.n}} {{/each}}", {"app_name": "RE", "items": [{"n": 1}]}, "RE-1 "),
        ("{{#each order.items}}{{this}}{{/each}}", {"order": {"items": [1, 2]}}, "12"),
        (
            "{{n}} {{d}} {{f}} {{t}} {{when}}",
            {"n": 10, "d": Decimal("2.50"), "f": 1.5, "t": True, "when": date(2024, 1, 2)},
            "10 2.50 1.5 true 2024-01-02",
        ),
        ("{{missing}}|{{user.missing}}|{{missing.deeper}}", {"user": {}}, "||"),
        ("line 1\r\nline 2 } { }} {x} ${x} <% x %>", {}, "line 1\r\nline 2 } { }} {x} ${x} <% x %>"),
    ],
)
def test_every_syntax_form_renders_as_documented(source: str, context: dict[str, Any], expected: str) -> None:
    # Given a template in the seed's syntax; When rendered as text; Then the output is as documented
    assert text(source, context) == expected


def test_the_welcome_mail_renders_with_its_loop_and_escaped_values() -> None:
    output = html(WELCOME_HTML, WELCOME_CONTEXT)

    assert "Welcome to TalentMail, Zhang San!" in output
    assert output.count("<li ") == 5
    assert "Step 4: do &lt;thing 4&gt;" in output
    assert output.count("(start here)") == 1
    assert "Example &amp; Co" in output
    assert "created on 2026-01-02." in output
    assert "{{" not in output


# -- escaping ----------------------------------------------------------------------------------


def test_html_bodies_escape_every_value_but_not_the_authors_markup() -> None:
    context = {"name": '<script>alert("x")</script>', "items": ["<b>", "&"]}
    source = '<p class="a">{{name}}</p>{{#each items}}<i>{{this}}</i>{{/each}}{{none|default:"<u>"}}'

    assert html(source, context) == (
        '<p class="a">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p><i>&lt;b&gt;</i><i>&amp;</i>&lt;u&gt;'
    )


@pytest.mark.parametrize("kind", ["text", "subject"])
def test_text_bodies_and_subjects_are_not_escaped(kind: Kind) -> None:
    output = render("Re: {{name}} & co", {"name": "<Ann> & Bob"}, field="f", kind=kind)

    assert output == "Re: <Ann> & Bob & co"


def test_a_subject_that_renders_a_line_break_is_refused() -> None:
    messages = refusal("Hello {{name}}", {"name": "Ann\r\nBcc: victim@example.com"}, kind="subject")

    assert "line break" in messages


def test_a_subject_written_over_two_lines_is_refused_at_check_time() -> None:
    problems = check("Hello\n{{name}}", field="subject", kind="subject")

    assert [p.field for p in problems] == ["subject"]
    assert "line break" in problems[0].message


# -- check: syntax errors, unknown variables and filters ---------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hi\n  {{#if vip}}VIP", "line 2, column 3: {{#if}} is never closed"),
        ("<ul>\n{{#each items}}<li>{{this}}</li>\n</ul>", "line 2, column 1: {{#each}} is never closed"),
        ("{{#each items}}x{{/if}}", "line 1, column 17: {{/if}} closes {{#each}} opened at line 1, column 1"),
        ("x{{/each}}", "line 1, column 2: {{/each}} without an open {{#each}}"),
        ("{{else}}", "{{else}} outside {{#if}} or {{#each}}"),
        ("{{#if a}}1{{else}}2{{else}}3{{/if}}", "a second {{else}} in {{#if}}"),
        ("Hello {{name", "line 1, column 7: tag is not closed with '}}'"),
        ("Hello {{name {{x}}", "tag is not closed with '}}' before the next '{{'"),
        ("{{}}", "empty tag"),
        ("{{#with user}}{{/with}}", "unknown block '#with'"),
        ("{{#if}}{{/if}}", "{{#if}} needs a variable"),
        ("{{#if a b}}{{/if}}", "unexpected 'b'"),
        ("{{this.name}}", "'this' outside {{#each}}"),
        ("{{@index}}", "@index outside {{#each}}"),
        ("{{#each a}}{{@key}}{{/each}}", "unknown '@key'"),
        ("{{user.}}", "line 1, column 7: unexpected '.'"),
        ("{{{raw}}}", "unexpected '{'"),
        ("{{../name}}", "unexpected '.'"),
        ("{{a|}}", "expected a filter name after '|'"),
        ("{{a|default}}", "filter 'default' needs a quoted text"),
        ("{{a|truncate:0}}", "filter 'truncate' needs a length"),
        ("{{a|upper:2}}", "filter 'upper' takes no argument"),
    ],
)
def test_syntax_errors_name_the_line_and_column(source: str, message: str) -> None:
    problems = check(source, field="html_body", kind="html")

    assert [p.field for p in problems] == ["html_body"]
    assert message in problems[0].message
    assert problems[0].message.startswith("line ")


def test_an_unknown_filter_is_named_with_its_position() -> None:
    problems = check('{{a}}\n{{b|date:"YYYY"}}', field="html_body", kind="html")

    assert [p.message for p in problems] == [
        "line 2, column 5: unknown filter 'date' (supported: default, format, lower, truncate, upper)"
    ]


def test_unknown_variables_are_named_against_the_declared_ones() -> None:
    source = "{{app_name}} {{user_nam}} {{user.name}} {{#each steps}}{{this.title}}{{this.url}}{{/each}} {{user_nam}}"
    declared = ["app_name", "user", "steps.title"]

    problems = check(source, field="html_body", kind="html", variables=declared)

    assert [p.message for p in problems] == [
        "line 1, column 16: unknown variable 'user_nam'",
        "line 1, column 72: unknown variable 'this.url' (steps.url)",
    ]


def test_a_template_using_only_declared_variables_has_no_problems() -> None:
    declared = ["app_name", "site_url", "support_email", "current_year", "company_name"]
    declared += ["user_name", "user_email", "login_url", "created_at", "steps.title", "steps.url"]

    assert check(WELCOME_HTML, field="html_body", kind="html", variables=declared) == []


def test_render_refuses_a_missing_required_variable_by_name() -> None:
    messages = refusal("Code: {{code}} ({{expires_minutes}} min)", {"code": ""}, required=["code", "expires_minutes"])

    assert messages == "missing required variable 'code' | missing required variable 'expires_minutes'"


def test_render_with_declared_variables_refuses_an_undeclared_one() -> None:
    messages = refusal("{{code}} {{secret}}", {"code": "1"}, variables=["code"])

    assert messages == "line 1, column 12: unknown variable 'secret'"


@pytest.mark.parametrize(
    ("source", "context", "message"),
    [
        ('{{d|format:"YYYY"}}', {"d": "not a date"}, "line 1, column 1: 'd' is not a date or an ISO 8601 date-time"),
        ('{{d|format:"YYYY"}}', {"d": 5}, "'d' is an int, not a date"),
        ("{{#each items}}{{/each}}", {"items": "abc"}, "{{#each items}} needs a list, not a str"),
        ("{{#each items}}{{/each}}", {"items": {"a": 1}}, "needs a list, not an object"),
        ("{{user}}", {"user": {"name": "x"}}, "'user' is an object and cannot be shown as text"),
        ("{{items}}", {"items": [1]}, "'items' is a list and cannot be shown as text"),
    ],
)
def test_values_of_the_wrong_shape_are_refused_with_the_position(
    source: str, context: dict[str, Any], message: str
) -> None:
    assert message in refusal(source, context)


# -- SSTI: nothing of Python, the files or the environment -------------------------------------

SECRET = "riveredge-secret-4f1c9e"
REFUSED = None
# (payload, what it renders to with {"x": "value"}; REFUSED: check() reports it and render() raises)
SSTI_CORPUS: list[tuple[str, str | None]] = [
    ("{{ ''.__class__ }}", REFUSED),
    ("{{ ''.__class__.__mro__ }}", REFUSED),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", REFUSED),
    ("{{ cycler.__init__.__globals__ }}", REFUSED),
    ("{{ cycler.__init__.__globals__.os.environ }}", REFUSED),
    ("{{ joiner.__init__.__globals__.os.popen('id').read() }}", REFUSED),
    ("{{ self.__init__.__globals__.__builtins__ }}", REFUSED),
    ("{{ request.application.__globals__ }}", REFUSED),
    ("{{ config.items() }}", REFUSED),
    ("{{ lipsum.__globals__ }}", REFUSED),
    ("{{ range(10**9) }}", REFUSED),
    ("{{ x|attr('__class__') }}", REFUSED),
    ('{{ x|attr("__class__")|attr("__base__") }}', REFUSED),
    ("{{ '%s'|format(x.__class__) }}", REFUSED),
    ('{{ "%s"|format(cycler) }}', REFUSED),
    ('{{ "{0.__class__}".format(x) }}', REFUSED),
    ("{{ x.__class__ }}", REFUSED),
    ("{{ x._private }}", REFUSED),
    ("{{ x['__class__'] }}", REFUSED),
    ("{{ x[0] }}", REFUSED),
    ("{{ 7*7 }}", REFUSED),
    ("{{ x|default:cycler }}", REFUSED),
    ("{{{ x }}}", REFUSED),
    ("{{#each x.__class__.__subclasses__}}{{this}}{{/each}}", REFUSED),
    ("{{#if x.__class__}}yes{{/if}}", REFUSED),
    # names of jinja2's globals and of Flask's context are plain (absent) variables here
    (
        "{{ self }}|{{ request }}|{{ config }}|{{ lipsum }}|{{ namespace }}|{{ cycler }}|{{ dict }}|{{ range }}",
        "|||||||",
    ),
    ("{{ loop }}{{ varargs }}{{ kwargs }}{{ caller }}{{ environment }}{{ context }}", ""),
    # raw jinja2 syntax is literal text
    ("{% for x in ().__class__.__base__.__subclasses__() %}[x]{% endfor %}", None),
    (
        "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
        "{% for x in ().__class__.__base__.__subclasses__() %}value{% endfor %}",
    ),
    ("{% include '/etc/passwd' %}", None),
    ("{% import os %}", None),
    ("{% import 'os' as os %}{{ os }}", "{% import 'os' as os %}"),
    ("{% set x = cycler.__init__.__globals__ %}{{ x }}", "{% set x = cycler.__init__.__globals__ %}value"),
    ("{% raw %}{{ x }}{% endraw %}", "{% raw %}value{% endraw %}"),
    ("{%- endraw -%}{# a jinja comment #}", None),
    ("#{7*7} ${7*7} <%= 7*7 %> ${ 7*7 }", None),
]
# None in the second place of a literal-text case means: shown exactly as written
SSTI_CORPUS = [(p, p if e is None and not p.startswith("{{") else e) for p, e in SSTI_CORPUS]


@pytest.mark.parametrize(("payload", "expected"), SSTI_CORPUS)
@pytest.mark.parametrize("kind", ["html", "text"])
def test_ssti_payloads_are_refused_or_rendered_as_inert_text(
    payload: str, expected: str | None, kind: Kind, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a secret in the environment
    monkeypatch.setenv("RIVEREDGE_TEST_SECRET", SECRET)
    # When the payload is checked and rendered
    problems = check(payload, field="html_body", kind=kind)
    refused_at = ""
    try:
        output: str | None = render(payload, {"x": "value"}, field="html_body", kind=kind)
    except ValidationError as error:
        refused_at = error.errors[0].message
        output = REFUSED
    # Then it is refused with a position, or rendered as documented, never reaching Python internals
    assert output == expected
    assert bool(problems) == (expected is REFUSED)
    assert refused_at.startswith("line ") == (expected is REFUSED)
    if output is not None:
        for leak in ("<class", "&lt;class", "built-in", "function", "object at 0x", SECRET, "root:x:0"):
            assert leak not in output


def test_literal_jinja_delimiters_survive_exactly() -> None:
    source = "{% if 1 %}a{% endif %} {# c #} {%raw%}{{x}}{%endraw%}"

    assert text(source, {"x": "<X>"}) == "{% if 1 %}a{% endif %} {# c #} {%raw%}<X>{%endraw%}"
    assert html(source, {"x": "<X>"}) == "{% if 1 %}a{% endif %} {# c #} {%raw%}&lt;X&gt;{%endraw%}"


def test_an_attribute_of_a_context_object_cannot_be_read() -> None:
    # Given an object whose attribute would leak if jinja2's getattr were used
    class Leaky:
        secret = SECRET

    context = {"obj": Leaky(), "map": {"items": [1]}, "empty": {}}

    # Then attributes are never read: only mapping keys are (empty.items is not dict.items)
    assert (
        text("{{#if obj.secret}}leak{{/if}}{{#each empty.items}}x{{/each}}|{{#each map.items}}y{{/each}}", context)
        == "|y"
    )
    assert text("{{empty.keys}}{{empty.items}}", context) == ""


# -- limits ------------------------------------------------------------------------------------


def test_a_5_mb_template_is_refused_without_being_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "{{#if a}}" + "x" * (5 * 1024 * 1024)
    parsed: list[str] = []
    parse = rendering._parse
    monkeypatch.setattr(rendering, "_parse", lambda text, limits: parsed.append(text) or parse(text, limits))

    problems = check(source, field="html_body", kind="html")

    assert [p.message for p in problems] == ["the template is 5,242,889 bytes; at most 262,144 are allowed"]
    assert "262,144" in refusal(source)
    assert parsed == []  # refused on its size alone


class CountingItems(list[dict[str, str]]):
    """A list that counts the items anything takes out of it."""

    taken = 0

    def __iter__(self) -> Any:
        for item in super().__iter__():
            CountingItems.taken += 1
            yield item


def test_an_each_over_a_million_items_is_refused_without_walking_them() -> None:
    items = CountingItems([{"name": "x"}] * 1_000_000)
    CountingItems.taken = 0

    messages = refusal("<ul>{{#each items}}<li>{{this.name}}</li>{{/each}}</ul>", {"items": items})

    assert messages == "line 1, column 5: {{#each items}} goes beyond 10,000 loop iterations in one render"
    assert CountingItems.taken == 0  # its length was checked before the loop ran
    assert text("{{#each items}}{{this.name}}{{/each}}", {"items": CountingItems([{"name": "y"}] * 3)}) == "yyy"
    assert CountingItems.taken == 3  # (the counting itself works)


def test_the_iteration_cap_counts_every_loop_of_the_render() -> None:
    context = {"rows": [{"cells": list(range(100))}] * 100}
    source = "{{#each rows}}{{#each this.cells}}.{{/each}}{{/each}}"

    assert len(text(source, context, limits=Limits(iterations=10_100))) == 10_000
    assert "goes beyond 10,000 loop iterations" in refusal(source, context)


def test_the_output_cap_stops_the_render() -> None:
    context = {"items": list(range(5_000)), "big": "x" * 1_000}

    messages = refusal("{{#each items}}{{big}}{{/each}}", context)

    assert messages == "the rendered text is longer than 1,000,000 characters"


def test_nesting_and_tag_count_are_bounded() -> None:
    deep = "{{#if a}}" * 17 + "x" + "{{/if}}" * 17
    many = "{{a}}" * 1_001

    assert "blocks nested more than 16 deep" in check(deep, field="f", kind="html")[0].message
    assert "more than 1,000 tags" in check(many, field="f", kind="html")[0].message


# -- cache ---------------------------------------------------------------------------------------


def test_the_same_key_compiles_once() -> None:
    for _ in range(3):
        html(WELCOME_HTML, WELCOME_CONTEXT, key="welcome_email#3#html")

    assert rendering.cache_info() == rendering.CacheInfo(hits=2, misses=1, size=1)


def test_a_changed_source_under_the_same_key_is_compiled_again() -> None:
    assert text("v1 {{a}}", {"a": 1}, key="t#1#text") == "v1 1"
    assert text("v2 {{a}}", {"a": 1}, key="t#1#text") == "v2 1"
    assert rendering.cache_info().misses == 2


def test_html_and_text_of_the_same_key_are_cached_apart() -> None:
    assert html("{{a}}", {"a": "<"}, key="k") == "&lt;"
    assert text("{{a}}", {"a": "<"}, key="k") == "<"


# -- imports -------------------------------------------------------------------------------------


def test_importing_the_module_and_checking_do_not_import_jinja2() -> None:
    code = (
        "import sys; sys.path[:0] = ['layers/platform']; from riveredge import rendering; "
        "rendering.check('{{#if a}}{{b}}{{/if}}', field='f', kind='html', variables=['a', 'b']); "
        "print('jinja2' in sys.modules, 'markupsafe' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)

    assert result.stdout.split() == ["False", "False"]
