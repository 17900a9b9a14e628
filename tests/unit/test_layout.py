"""Function packages are top-level packages side by side: their names must not shadow anything."""

from __future__ import annotations

import sys
from importlib.metadata import packages_distributions

from local_stack.template import ROOT, load

PACKAGES = sorted(p.name for p in (ROOT / "functions").iterdir() if p.is_dir() and (p / p.name).is_dir())


def test_function_packages_shadow_no_standard_or_installed_module() -> None:
    installed = set(packages_distributions())
    layer = {p.name for p in (ROOT / "layers" / "platform").iterdir() if p.is_dir()}
    clashes = {name for name in PACKAGES if name in sys.stdlib_module_names or name in installed or name in layer}
    assert clashes == set(), f"rename these function packages (docs/adding-a-domain.md): {sorted(clashes)}"


def test_every_function_folder_is_a_function_of_the_template_and_its_handler_is_its_package() -> None:
    functions = {
        str(r["Properties"]["CodeUri"]).strip("/").split("/")[-1]: str(r["Properties"]["Handler"])
        for r in load()["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert sorted(functions) == PACKAGES
    assert all(handler.split(".")[0] == folder for folder, handler in functions.items())
