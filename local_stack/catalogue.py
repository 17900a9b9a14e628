"""Generate the permission catalogue from the code that enforces it.

Every route declares its permission (riveredge.http.ApiRouter); importing every
function of template.yaml fills riveredge.authz's registry. The result is written
to layers/platform/riveredge/catalogue.json, which the access function serves;
a test fails when a route's permission is missing from the file.

    python -m local_stack.catalogue          # rewrite the file
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from local_stack.stack import prepare_environment
from local_stack.template import ROOT, load, merged_function_properties

CATALOGUE = ROOT / "layers" / "platform" / "riveredge" / "catalogue.json"


def generate() -> list[dict[str, Any]]:
    """Every permission a route of the template requires, plus ``<module>.manage`` for each module."""
    prepare_environment()
    template = load()
    required: set[str] = set()
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = merged_function_properties(template, logical_id)
        code = str((ROOT / str(props["CodeUri"])).resolve())
        if code not in sys.path:
            sys.path.insert(0, code)
        module = importlib.import_module(str(props["Handler"]).rsplit(".", 1)[0])
        rules = getattr(getattr(module, "app", None), "rules", {})
        required |= {rule.permission for rule in rules.values()}
    from riveredge.authz import MANAGE, catalogue
    from riveredge.http import AUTHENTICATED, PUBLIC

    entries = {p.code: p for p in catalogue() if p.code in required - {AUTHENTICATED, PUBLIC}}
    found = [
        {"code": p.code, "name": p.name, "category": p.category, "platform_only": p.platform_only}
        for p in entries.values()
    ]
    modules = {(p.category, p.platform_only) for p in entries.values()}
    for module_name, platform_only in sorted(modules):
        manage = f"{module_name}.{MANAGE}"
        if manage not in entries:
            found.append(
                {
                    "code": manage,
                    "name": f"Everything in {module_name}",
                    "category": module_name,
                    "platform_only": platform_only,
                }
            )
    return sorted(found, key=lambda p: str(p["code"]))


def render(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    CATALOGUE.write_text(render(generate()))
    print(f"wrote {CATALOGUE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()


__all__ = ["CATALOGUE", "generate", "render"]
