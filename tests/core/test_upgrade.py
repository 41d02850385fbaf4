"""Upgrading a database the previous release wrote: the data migrations act on rows stored the old way.

Each test migrates the test database back to just before a data migration, stores rows with the historical
models (as the old code stored them), migrates forward and checks what the migration did; the database is put
back at the latest migrations afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets` and return the models as the migrations now applied (every app's) leave them."""
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_alert_deliveries_are_keyed_on_the_state_change_they_announced(back_to_latest: None) -> None:
    """incidents 0006/0007: a delivery stored per state is tied to the activity row that put the incident in
    that state before the delivery was queued (not the reopened incident's later one), and one given up as
    cancelled, which the old code showed as failed, is "cancelled"."""
    apps = _migrate([("incidents", "0005_recount_relabelled_attachments")])
    service = apps.get_model("catalog", "Service").objects.create(id="vle", name="VLE")
    incident = apps.get_model("incidents", "Incident").objects.create(
        service=service, title="VLE down", started_at=T0, state="confirmed"
    )
    Activity = apps.get_model("incidents", "IncidentActivity")

    def change(state: str, minutes: int, type: str = "state_changed") -> Any:
        row = Activity.objects.create(incident=incident, type=type, state=state, at=T0)
        Activity.objects.filter(pk=row.pk).update(created_at=T0 + timedelta(minutes=minutes))
        return row

    change("possible", 0, type="created")
    first_confirmed = change("confirmed", 10)
    resolved = change("resolved", 60)
    change("confirmed", 120)  # reopened after the deliveries below were queued
    rule = apps.get_model("incidents", "AlertRule").objects.create(
        name="ops", channel="webhook", target="https://ops.example.ac.uk/hook"
    )
    Delivery = apps.get_model("incidents", "AlertDelivery")
    confirmed_alert = Delivery.objects.create(
        rule=rule, incident=incident, incident_state="confirmed", status="sent"
    )
    resolved_alert = Delivery.objects.create(
        rule=rule,
        incident=incident,
        incident_state="resolved",
        status="failed",
        last_error="superseded by a newer state change",
        log=[{"at": T0.isoformat(), "outcome": "cancelled", "detail": "superseded"}],
    )
    Delivery.objects.filter(pk=confirmed_alert.pk).update(created_at=T0 + timedelta(minutes=11))
    Delivery.objects.filter(pk=resolved_alert.pk).update(created_at=T0 + timedelta(minutes=61))

    apps = _migrate([("incidents", "0007_alert_deliveries_backfill")])

    Delivery = apps.get_model("incidents", "AlertDelivery")
    confirmed_alert = Delivery.objects.get(pk=confirmed_alert.pk)
    resolved_alert = Delivery.objects.get(pk=resolved_alert.pk)
    assert confirmed_alert.activity_id == first_confirmed.pk
    assert confirmed_alert.status == "sent"
    assert resolved_alert.activity_id == resolved.pk
    assert (resolved_alert.status, resolved_alert.last_error) == ("cancelled", "")


def test_people_affected_are_recounted_without_posts_relabelled_away(back_to_latest: None) -> None:
    """incidents 0005: posts an analyst had relabelled (spam, not a complaint, another service) before the
    upgrade stop counting towards the incident's people affected; a relabel that keeps the post a complaint
    about the service keeps it."""
    apps = _migrate([("incidents", "0004_alert_rule_min_state_labels")])
    Service = apps.get_model("catalog", "Service")
    vle = Service.objects.create(id="vle", name="VLE")
    Service.objects.create(id="wifi", name="Wi-Fi")
    source = apps.get_model("sources", "Source").objects.create(kind="reddit", name="r/Uni")
    incident = apps.get_model("incidents", "Incident").objects.create(
        service=vle, title="VLE down", started_at=T0, state="confirmed", affected_authors=4
    )
    Mention = apps.get_model("mentions", "Mention")
    Analysis = apps.get_model("analysis", "MentionAnalysis")
    Tag = apps.get_model("analysis", "ServiceTag")
    Attached = apps.get_model("incidents", "IncidentMention")
    # (author, corrected fields, effective service, complaint, spam)
    posts = [
        ("ann", [], "vle", True, False),
        ("bo", ["spam"], "vle", True, True),
        ("cy", ["services"], "wifi", True, False),
        ("di", ["sentiment"], "vle", True, False),
    ]
    for index, (author, corrected, service_id, complaint, spam) in enumerate(posts):
        mention = Mention.objects.create(
            source=source, external_id=f"t3_{index}", text="vle down", author=author, created_at=T0
        )
        analysis = Analysis.objects.create(
            mention=mention,
            created_at=T0,
            analysed_at=T0,
            complaint=complaint,
            spam=spam,
            corrected=corrected,
        )
        Tag.objects.create(
            analysis=analysis,
            service_id=service_id,
            confidence=1.0,
            rank=0,
            created_at=T0,
            complaint=complaint,
            spam=spam,
        )
        Attached.objects.create(incident=incident, mention=mention, author_key=f"{source.pk}:{author}")

    apps = _migrate([("incidents", "0005_recount_relabelled_attachments")])

    assert apps.get_model("incidents", "Incident").objects.get(pk=incident.pk).affected_authors == 2
