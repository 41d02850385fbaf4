"""The status page's e-mail log and ended subscriptions do not grow for ever (nightly `status.forget_old`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from servicepulse.core.scheduler import periodic_jobs
from servicepulse.status.models import Impact, IncidentUpdate, Notification, Subscription
from servicepulse.status.services import public_incident_open, status_forget_old, subscribers_notify
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_old_email_log_and_ended_subscriptions_are_deleted(settings):
    settings.SERVICEPULSE_STATUS_EMAIL_LOG_DAYS = 90
    vle = ServiceFactory(id="vle", name="Moodle VLE", public=True)
    now = timezone.now()
    staying = Subscription.objects.create(email="ada@example.ac.uk", service=vle, confirmed_at=now)
    left_long_ago = Subscription.objects.create(
        email="bob@example.ac.uk", service=vle, confirmed_at=now - timedelta(days=400),
        unsubscribed_at=now - timedelta(days=91),
    )  # fmt: skip
    left_lately = Subscription.objects.create(
        email="cy@example.ac.uk", service=None, confirmed_at=now - timedelta(days=40),
        unsubscribed_at=now - timedelta(days=30),
    )  # fmt: skip
    incident = public_incident_open(
        title="Moodle is slow",
        body="We are looking into it.",
        service_ids=["vle"],
        impact=Impact.DEGRADED,
        notify=False,
    )
    key = f"update:{IncidentUpdate.objects.get(incident=incident).pk}"
    subscribers_notify(key=key)
    assert Notification.objects.filter(key=key).count() == 1
    old = Notification.objects.create(email="bob@example.ac.uk", key="update:1")
    Notification.objects.filter(pk=old.pk).update(sent_at=now - timedelta(days=91))

    assert status_forget_old() == (1, 1)

    assert set(Subscription.objects.values_list("pk", flat=True)) == {staying.pk, left_lately.pk}
    assert not Subscription.objects.filter(email="bob@example.ac.uk").exists()
    assert list(Notification.objects.values_list("key", flat=True)) == [key]
    # The recent log still keeps a re-run from e-mailing anyone twice.
    sent = len(mail.outbox)
    assert subscribers_notify(key=key) == 0 and len(mail.outbox) == sent
    assert status_forget_old() == (0, 0)
    assert left_long_ago.email not in {n.email for n in Notification.objects.all()}


def test_zero_keeps_the_log(settings):
    settings.SERVICEPULSE_STATUS_EMAIL_LOG_DAYS = 0
    old = Notification.objects.create(email="bob@example.ac.uk", key="update:1")
    Notification.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=900))
    assert status_forget_old() == (0, 0)
    assert Notification.objects.count() == 1


def test_runs_every_night():
    assert "status.forget_old" in {job.name for job in periodic_jobs()}
