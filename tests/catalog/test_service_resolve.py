"""service_resolve: what a person types (an id, a name or an alias, any case) to service ids."""

from __future__ import annotations

import pytest

from servicepulse.catalog.services import catalog_load

pytestmark = pytest.mark.django_db


def test_ids_names_and_aliases_in_any_case() -> None:
    from servicepulse.catalog.selectors import service_resolve

    catalog_load(
        data={
            "services": [
                {"id": "vle", "name": "Moodle VLE", "aliases": ["moodle", "learn"]},
                {"id": "sso", "name": "Single sign-on", "aliases": ["login", "learn"]},
                {"id": "login", "name": "Login page"},
            ]
        }
    )
    assert service_resolve(terms=["MOODLE VLE", " sso ", "Moodle", "vle"]) == (["vle", "sso"], [])
    # An id wins over another service's alias; an alias two services share names neither.
    assert service_resolve(terms=["login", "learn", "Hogwarts"]) == (["login"], ["learn", "Hogwarts"])
