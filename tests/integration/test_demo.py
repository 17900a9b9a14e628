"""The demo data `make run` gives the demo tenant: every domain's module runs through the API without a refusal."""

from __future__ import annotations

import pkgutil

from local_stack import demo
from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture


def test_every_domains_demo_data_goes_in_through_the_api(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    modules = demo.seed_all(stack, fresh_tenant.admin_token)
    assert sorted(modules) == sorted(m.name for m in pkgutil.iter_modules(demo.__path__))
    # A module that needs another's data runs after it (datasets need the data source of datasources)
    assert modules.index("datasources") < modules.index("datasets")
    assert "app_centre" in modules
    # The app centre's menus are there, as the demo admin sees them
    mine = stack.request("GET", "/api/menus/mine", token=fresh_tenant.admin_token).json()["items"]
    assert {node["name"] for node in mine} == {"System", "Configuration", "Data centre"}
