"""Removing a service from the catalogue never takes its history with it: the database would delete its
tagged posts, incidents, tickets, subscriptions and board counts (on_delete=CASCADE) and unlink its inbox cases,
status-page entries and alert rules. service_delete refuses, naming what keeps it; a service with no history
(a mistake, a test entry) is removed with its detector state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from servicepulse.analysis.models import ServiceTag
from servicepulse.analysis.services import analysis_save
from servicepulse.catalog.models import Service
from servicepulse.catalog.selectors import HISTORY_DERIVED, HISTORY_LABELS, service_history
from servicepulse.catalog.services import ServiceInUse, catalog_load, service_delete
from servicepulse.dashboard.models import ServiceDay
from servicepulse.engage.models import Case
from servicepulse.experience.models import Ticket
from servicepulse.incidents.models import AlertRule, DetectorSnapshot, Incident
from servicepulse.status.models import Maintenance, PublicIncident, Subscription
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _tagged_post(service: Service) -> None:
    analysis_save(
        mention=MentionFactory(),
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=-0.8,
        spam=False,
        spam_score=0.0,
        services=[(service.id, 0.9)],
        language="en",
    )


def _incident(service: Service) -> None:
    Incident.objects.create(service=service, title="VLE down", started_at=timezone.now())


def _ticket(service: Service) -> None:
    Ticket.objects.create(key="INC1", service=service, priority="P2", opened_at=timezone.now())


def _service_day(service: Service) -> None:
    ServiceDay.objects.create(service=service, day=date(2026, 10, 1), posts=3)


def _case(service: Service) -> None:
    Case.objects.create(mention=MentionFactory(), service=service, opened_at=timezone.now())


def _public_incident(service: Service) -> None:
    PublicIncident.objects.create(title="Slow logins", started_at=timezone.now()).services.add(service)


def _maintenance(service: Service) -> None:
    now = timezone.now()
    Maintenance.objects.create(title="Upgrade", starts_at=now, ends_at=now + timedelta(hours=1)).services.add(
        service
    )


def _subscription(service: Service) -> None:
    Subscription.objects.create(email="a@example.org", service=service, confirmed_at=timezone.now())


def _alert_rule(service: Service) -> None:
    AlertRule.objects.create(name="VLE team", channel="email", target="vle@example.org").services.add(service)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_tagged_post, "1 tagged post"),
        (_incident, "1 incident"),
        (_ticket, "1 service-desk ticket"),
        (_service_day, "1 day of experience counts"),
        (_case, "1 inbox case"),
        (_public_incident, "1 status-page incident"),
        (_maintenance, "1 status-page maintenance"),
        (_subscription, "1 status-page subscription"),
        (_alert_rule, "1 alert rule naming it"),
    ],
)
def test_a_service_with_history_is_refused_and_nothing_is_deleted(
    make: Callable[[Service], None], said: str
) -> None:
    service = ServiceFactory(id="vle", name="Moodle VLE")
    make(service)
    before = {model: model.objects.count() for model in (ServiceTag, Incident, Ticket, ServiceDay, Case)}

    with pytest.raises(ServiceInUse) as refused:
        service_delete(service_id="vle")

    assert said in str(refused.value)
    assert "mark it not public" in str(refused.value) and "rename it" in str(refused.value)
    assert Service.objects.filter(id="vle").exists()
    assert {model: model.objects.count() for model in before} == before
    assert Case.objects.filter(service_id="vle").count() == Case.objects.count()  # not unlinked


def test_the_refusal_names_everything_that_keeps_it() -> None:
    service = ServiceFactory(id="vle", name="Moodle VLE")
    _tagged_post(service)
    _tagged_post(service)
    _incident(service)

    with pytest.raises(ServiceInUse) as refused:
        service_delete(service_id="vle")

    assert refused.value.history == {"tagged posts": 2, "incident": 1}
    assert str(refused.value).startswith("Moodle VLE has 2 tagged posts and 1 incident; removing it would")


def test_a_service_without_history_is_removed_with_its_detector_state() -> None:
    service = ServiceFactory(id="test-entry", name="Test entry")
    DetectorSnapshot.objects.create(service=service)  # every service gets one when detection runs
    other = ServiceFactory(id="vle", name="Moodle VLE")
    _tagged_post(other)

    assert service_history(service_id="test-entry") == {}
    service_delete(service_id="test-entry")

    assert not Service.objects.filter(id="test-entry").exists()
    assert not DetectorSnapshot.objects.filter(service_id="test-entry").exists()
    assert ServiceTag.objects.filter(service=other).count() == 1


def test_an_unknown_service_is_an_error() -> None:
    with pytest.raises(Service.DoesNotExist):
        service_delete(service_id="nope")


def test_every_relation_to_a_service_is_history_or_known_derived_state() -> None:
    """A model added later that points at Service keeps services too; this says to name it here."""
    labels = set()
    for field in Service._meta.get_fields(include_hidden=True):
        model: Any = getattr(field, "related_model", None)
        if field.auto_created and not field.concrete and model is not None and not model._meta.auto_created:
            labels.add(model._meta.label)
    labels.discard("analysis.MentionAnalysis")  # its services go through analysis.ServiceTag
    assert labels == set(HISTORY_LABELS) | HISTORY_DERIVED


def test_loading_a_catalogue_without_a_service_leaves_it_and_its_history() -> None:
    """The catalogue loader (demo, files) creates and updates; it never prunes what a file leaves out."""
    service = ServiceFactory(id="legacy", name="Legacy system")
    _tagged_post(service)
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    assert Service.objects.filter(id="legacy").exists()
    assert ServiceTag.objects.filter(service_id="legacy").count() == 1
