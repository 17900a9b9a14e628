"""The app registry: which app serves a path or a menu route, and which apps are off for a tenant."""

from __future__ import annotations

import pytest
from riveredge import apps


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/departments", "organisation"),
        ("/api/departments/{department_id}/move", "organisation"),
        ("/api/users/{user_id}/sessions/revoke", "accounts"),
        ("/api/dictionaries/{type}/items", "dictionaries"),
        ("/api/apps/{code}/enable", "apps"),
        ("/api/auth/login", None),
        ("/api/me/profile", None),
        ("/api/departmentsx", None),
    ],
)
def test_the_app_of_an_api_path(path: str, code: str | None) -> None:
    app = apps.app_of_path(path)
    assert (app.code if app else None) == code


def test_every_path_prefix_belongs_to_one_app_and_codes_are_unique() -> None:
    prefixes = [prefix for app in apps.APPS for prefix in app.paths]
    assert len(prefixes) == len(set(prefixes))
    assert len(apps.BY_CODE) == len(apps.APPS)


def test_apps_off_for_a_tenant() -> None:
    assert apps.off_for("standard", None) == frozenset()
    assert apps.off_for("standard", {"organisation", "accounts"}) == {"organisation"}  # core stays on
    assert apps.off_for("free", None) == {a.code for a in apps.APPS if not a.core and a.tiers == apps.PAID_TIERS}
    assert "integrations" in apps.off_for("free", None)


def test_the_app_of_a_menu_route() -> None:
    assert apps.of_route("/system/organisation/departments").code == "organisation"  # type: ignore[union-attr]
    assert apps.of_route("/system/organisation") is not None
    assert apps.of_route("/system/organisationx") is None
    assert apps.of_route(None) is None
