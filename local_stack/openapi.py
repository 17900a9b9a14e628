"""One OpenAPI document for the whole API, merged from each function's own."""

from __future__ import annotations

from typing import Any

from local_stack.lambdas import FunctionRegistry


def merged(registry: FunctionRegistry, title: str = "RiverEdge API") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": "Every operation names its permission in `x-permission`.",
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    for function in sorted(registry.all(), key=lambda f: f.logical_id):
        module = function.module()
        builder = getattr(module, "openapi", None)
        if builder is None:
            continue
        own = builder()
        for path, operations in own.get("paths", {}).items():
            spec["paths"].setdefault(path, {}).update(operations)
        components = own.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            existing = spec["components"]["schemas"].get(name)
            if existing is not None and existing != schema:
                raise ValueError(f"two functions define the schema {name} differently")
            spec["components"]["schemas"][name] = schema
        spec["components"]["securitySchemes"].update(components.get("securitySchemes", {}))
    return spec
