"""The catalogue editor's one writer refuses a detection sensitivity the detector cannot use (0, inf, nan
made detection raise for that service on every run), whoever calls it."""

from __future__ import annotations

import math

import pytest

from servicepulse.catalog.document import CatalogError
from servicepulse.catalog.models import Service
from servicepulse.catalog.services import service_save

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", [0.0, -1.0, 0.05, 11.0, math.inf, math.nan])
def test_an_unusable_sensitivity_is_refused(bad: float) -> None:
    with pytest.raises(CatalogError, match=r"sensitivity must be a number from 0\.1 to 10"):
        service_save(service_id="vle", name="Moodle VLE", sensitivity=bad)
    assert not Service.objects.exists()


def test_a_sensitivity_in_range_is_kept() -> None:
    assert service_save(service_id="vle", name="Moodle VLE", sensitivity=2.0).sensitivity == 2.0
    assert service_save(service_id="vle", name="Moodle VLE").sensitivity == 2.0  # unchanged when not given
