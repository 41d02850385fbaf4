"""Writing the status page: public incidents and their updates, maintenance, subscriptions and e-mail."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from servicepulse.catalog.models import Service
from servicepulse.core.times import local_time_text
from servicepulse.incidents import services as incidents_services
from servicepulse.incidents.models import Incident, IncidentState
from servicepulse.incidents.selectors import DetectedIncident, detected_incident, since_words
from servicepulse.status.links import (
    ALL_COMPONENTS,
    CONFIRM_MAX_AGE,
    StatusError,
    confirm_data,
    confirm_token,
    unsubscribe_ids,
    unsubscribe_token,
)
from servicepulse.status.models import (
    Impact,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    Notification,
    PublicIncident,
    Subscription,
)
from servicepulse.status.selectors import component_list, status_url, subscribers_for

logger = logging.getLogger(__name__)

# Who did it: a signed-in user, or nobody (a task, a command). Anonymous users are recorded as nobody.
Actor = AbstractBaseUser | AnonymousUser | None


class UpdateAlreadyPosted(StatusError):
    """The same update was posted moments ago (a double click, a resent form): not posted, nor e-mailed,
    twice."""

    def __init__(self, update: IncidentUpdate) -> None:
        at = local_time_text(update.created_at)
        super().__init__(f"This update was already posted at {at}; it was not posted again.")
        self.update = update


# The same status and text posted again within this window is a double click, not a second update.
UPDATE_DUPLICATE_WINDOW = timedelta(minutes=15)


def _posted_moments_ago(qs: QuerySet[Any], services: list[Service]) -> Any | None:
    """The row of `qs` (incidents or maintenance windows with the same wording) created within the duplicate
    window for exactly these services: the same form sent twice. Called with the services' rows locked, so
    two requests of one double click are checked one after the other."""
    wanted = {s.id for s in services}
    since = timezone.now() - UPDATE_DUPLICATE_WINDOW
    for row in qs.filter(created_at__gte=since).prefetch_related("services").order_by("-created_at"):
        if {s.id for s in row.services.all()} == wanted:
            return row
    return None


def _services(service_ids: Iterable[str], *, public_only: bool = True, lock: bool = False) -> list[Service]:
    ids = list(dict.fromkeys(service_ids))
    if not ids:
        raise StatusError("choose at least one component")
    qs = component_list() if public_only else Service.objects.all()
    qs = qs.filter(id__in=ids)
    if lock:  # what is posted about them is checked for a double submit one request at a time
        qs = qs.select_for_update()
    found = {s.id: s for s in qs}
    missing = [i for i in ids if i not in found]
    if missing:
        raise StatusError(f"not a public component: {', '.join(missing)}")
    return [found[i] for i in ids]


def _user(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


@transaction.atomic
def public_incident_open(
    *,
    title: str,
    service_ids: Iterable[str],
    body: str,
    impact: str = Impact.DEGRADED,
    status: str = IncidentStatus.INVESTIGATING,
    actor: Actor = None,
    detected_incident_id: int | None = None,
    at: datetime | None = None,
    notify: bool = True,
) -> PublicIncident:
    """Post a public incident with its first update; subscribers are e-mailed after commit (unless
    `notify` is False: an incident report's opening update, see `public_incident_from_detected`)."""
    title = title.strip()
    if not title:
        raise StatusError("an incident needs a title")
    if impact not in Impact.values:
        raise StatusError(f"unknown impact {impact!r}")
    services = _services(service_ids, lock=True)
    at = at or timezone.now()
    if detected_incident_id is not None:
        existing = PublicIncident.objects.filter(detected_incident_id=detected_incident_id).first()
        if existing is not None:
            raise StatusError(f"this incident is already public: “{existing.title}”")
    # A detected incident is published once (checked above); one posted by hand twice within minutes, with the
    # same start, is the same form sent twice (a backdated report of another outage is not).
    twin = (
        _posted_moments_ago(
            PublicIncident.objects.filter(
                title=title,
                started_at__gt=at - UPDATE_DUPLICATE_WINDOW,
                started_at__lt=at + UPDATE_DUPLICATE_WINDOW,
            ),
            services,
        )
        if detected_incident_id is None
        else None
    )
    if twin is not None:
        posted = local_time_text(twin.created_at)
        raise StatusError(
            f"“{twin.title}” was already posted at {posted} for the same components; it was not "
            "posted again (post an update to it instead)"
        )
    incident = PublicIncident.objects.create(
        title=title,
        impact=impact,
        status=IncidentStatus.INVESTIGATING,
        started_at=at,
        created_by=_user(actor),
        detected_incident_id=detected_incident_id,
    )
    incident.services.set(services)
    public_incident_update(incident=incident, status=status, body=body, actor=actor, at=at, notify=notify)
    return incident


@transaction.atomic
def public_incident_update(
    *,
    incident: PublicIncident,
    status: str,
    body: str,
    actor: Actor = None,
    impact: str | None = None,
    at: datetime | None = None,
    notify: bool = True,
) -> IncidentUpdate:
    """Add a timestamped update and move the incident to `status`. The only writer of `status`.

    A resolved incident takes no further updates. Subscribers are e-mailed after commit unless `notify` is
    False (an update written after the fact, which would reach them as news days late).
    """
    if status not in IncidentStatus.values:
        raise StatusError(f"unknown status {status!r}")
    body = body.strip()
    if not body:
        raise StatusError("an update needs a message")
    locked = PublicIncident.objects.select_for_update().get(pk=incident.pk)
    at = at or timezone.now()
    latest = locked.updates.order_by("-created_at", "-id").first()
    if (
        latest is not None
        and (latest.status, latest.body) == (status, body)
        and abs(at - latest.created_at) < UPDATE_DUPLICATE_WINDOW
    ):
        raise UpdateAlreadyPosted(latest)
    if locked.status == IncidentStatus.RESOLVED and locked.updates.exists():
        raise StatusError("this incident is resolved; open a new one if the problem is back")
    update = IncidentUpdate.objects.create(
        incident=locked, status=status, body=body, created_by=_user(actor), created_at=at
    )
    locked.status = status
    if impact is not None:
        if impact not in Impact.values:
            raise StatusError(f"unknown impact {impact!r}")
        locked.impact = impact
    locked.resolved_at = at if status == IncidentStatus.RESOLVED else None
    locked.save(update_fields=["status", "impact", "resolved_at", "updated_at"])
    incident.status, incident.impact, incident.resolved_at = locked.status, locked.impact, locked.resolved_at
    update_id = update.pk
    if notify:
        transaction.on_commit(lambda: _enqueue_notify(key=f"update:{update_id}"))
    return update


def _enqueue_notify(*, key: str) -> None:
    from servicepulse.status.tasks import notify_subscribers

    notify_subscribers.enqueue(key)


@transaction.atomic
def maintenance_schedule(
    *,
    title: str,
    service_ids: Iterable[str],
    starts_at: datetime,
    ends_at: datetime,
    body: str = "",
    actor: Actor = None,
) -> Maintenance:
    """Schedule a maintenance window; while it runs its components show maintenance and detection is quiet."""
    if not title.strip():
        raise StatusError("a maintenance window needs a title")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise StatusError("maintenance times need a time zone")
    if ends_at <= starts_at:
        raise StatusError("a maintenance window must end after it starts")
    services = _services(service_ids, public_only=False, lock=True)
    twin = _posted_moments_ago(
        Maintenance.objects.filter(
            title=title.strip(), starts_at=starts_at, ends_at=ends_at, cancelled_at__isnull=True
        ),
        services,
    )
    if twin is not None:
        posted = local_time_text(twin.created_at)
        raise StatusError(
            f"“{twin.title}” was already scheduled at {posted} for the same components and times; it "
            "was not scheduled again"
        )
    window = Maintenance.objects.create(
        title=title.strip(), body=body.strip(), starts_at=starts_at, ends_at=ends_at, created_by=_user(actor)
    )
    window.services.set(services)
    # Mirrored into the incidents app (one window per service), so detection raises nothing while it runs.
    window.detection_incident_ids = [
        incidents_services.maintenance_schedule(
            service_id=service.id, title=window.title, start=starts_at, end=ends_at, user=_user(actor)
        ).pk
        for service in services
    ]
    window.save(update_fields=["detection_incident_ids"])
    window_id = window.pk
    transaction.on_commit(lambda: _enqueue_notify(key=f"maintenance:{window_id}"))
    return window


@transaction.atomic
def maintenance_cancel(*, maintenance: Maintenance, actor: Actor = None) -> None:
    """Cancel a window (and its mirror in the incidents app): it leaves the page; the feed says cancelled."""
    if maintenance.cancelled_at is None:
        maintenance.cancelled_at = timezone.now()
        maintenance.save(update_fields=["cancelled_at", "updated_at"])
        mirrored = Incident.objects.filter(pk__in=maintenance.detection_incident_ids)
        for incident in mirrored.exclude(state=IncidentState.RESOLVED):
            incidents_services.incident_update_status(
                incident=incident, state=IncidentState.RESOLVED, user=_user(actor), comment="cancelled"
            )


# --- subscriptions (double opt-in) ----------------------------------------------------------------


def _normalise_email(email: str) -> str:
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise StatusError("enter a valid e-mail address") from exc
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def subscription_request(*, email: str, service_ids: Iterable[str], all_components: bool = False) -> str:
    """Send the confirmation e-mail (double opt-in) and return the signed token it carries.

    Nothing is stored until the link is followed; the link is valid for three days.
    """
    address = _normalise_email(email)
    ids = [ALL_COMPONENTS] if all_components else [s.id for s in _services(service_ids)]
    token = confirm_token(address=address, component_ids=ids)
    names = ["every component"] if all_components else [s.name for s in component_list().filter(id__in=ids)]
    context = {
        "confirm_url": f"{settings.BASE_URL}/status/subscribe/confirm/{token}/",
        "components": names,
        "organisation": settings.SERVICEPULSE_ORGANISATION,
        "hours": int(CONFIRM_MAX_AGE.total_seconds() // 3600),
    }
    message = EmailMultiAlternatives(
        subject=f"Confirm your {settings.SERVICEPULSE_ORGANISATION} IT status subscription",
        body=render_to_string("status/email/confirm.txt", context),
        to=[address],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.send()
    return token


@transaction.atomic
def subscription_confirm(*, token: str) -> list[Subscription]:
    """Confirm the opt-in link: create (or reactivate) the subscriptions it names."""
    data = confirm_data(token)
    address = data["e"]
    now = timezone.now()
    targets: list[Service | None] = (
        [None] if data["s"] == [ALL_COMPONENTS] else list(component_list().filter(id__in=data["s"]))
    )
    subscriptions = []
    for service in targets:
        sub, created = Subscription.objects.get_or_create(
            email=address, service=service, defaults={"confirmed_at": now}
        )
        if not created and sub.unsubscribed_at is not None:
            sub.unsubscribed_at = None
            sub.confirmed_at = now
            sub.save(update_fields=["unsubscribed_at", "confirmed_at"])
        subscriptions.append(sub)
    return subscriptions


def subscription_unsubscribe(*, token: str) -> list[Subscription]:
    """One-click unsubscribe: end the subscriptions the signed token names. Safe to repeat."""
    ids = unsubscribe_ids(token)
    subs = list(Subscription.objects.filter(pk__in=ids))
    Subscription.objects.filter(pk__in=ids, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )
    return subs


# --- notifications ---------------------------------------------------------------------------------


MAINTENANCE_SUBJECTS = {
    "maintenance": "Scheduled maintenance",
    "maintenance-start": "Maintenance in progress",
    "maintenance-end": "Maintenance completed",
}
MAINTENANCE_NOTICE_WINDOW = timedelta(hours=1)


def maintenance_notify_due(*, now: datetime | None = None) -> list[str]:
    """Queue the start and completion e-mails of maintenance windows that started or ended within the last
    hour (the periodic job runs every few minutes; the per-address log makes each e-mail go once)."""
    now = now or timezone.now()
    since = now - MAINTENANCE_NOTICE_WINDOW
    keys = [
        f"maintenance-start:{pk}"
        for pk in Maintenance.objects.filter(
            cancelled_at__isnull=True, starts_at__gt=since, starts_at__lte=now, ends_at__gt=now
        ).values_list("pk", flat=True)
    ] + [
        f"maintenance-end:{pk}"
        for pk in Maintenance.objects.filter(
            cancelled_at__isnull=True, ends_at__gt=since, ends_at__lte=now
        ).values_list("pk", flat=True)
    ]
    for key in keys:
        _enqueue_notify(key=key)
    return keys


def _notification_subject_and_context(key: str) -> tuple[str, dict[str, Any], list[str]] | None:
    kind, _, raw_id = key.partition(":")
    if kind == "update":
        update = IncidentUpdate.objects.select_related("incident").filter(pk=raw_id).first()
        if update is None:
            return None
        incident = update.incident
        service_ids = list(incident.services.values_list("id", flat=True))
        subject = f"[{update.get_status_display()}] {incident.title}"
        context = {
            "kind": "update",
            "incident": incident,
            "update": update,
            "url": status_url(incident=incident),
            "components": list(incident.services.values_list("name", flat=True)),
        }
        return subject, context, service_ids
    if kind in MAINTENANCE_SUBJECTS:
        window = Maintenance.objects.filter(pk=raw_id, cancelled_at__isnull=True).first()
        if window is None:
            return None
        public = window.services.filter(public=True).order_by("order", "name")  # internal ones stay unnamed
        service_ids = list(public.values_list("id", flat=True))
        if not service_ids:
            return None  # planned work on internal services only: nothing for the public
        subject = f"[{MAINTENANCE_SUBJECTS[kind]}] {window.title}"
        context = {
            "kind": "maintenance",
            "phase": kind,
            "maintenance": window,
            "url": status_url(),
            "components": list(public.values_list("name", flat=True)),
        }
        return subject, context, service_ids
    raise ValueError(f"unknown notification key {key!r}")


def subscribers_notify(*, key: str) -> int:
    """E-mail every active subscriber of the affected components about `key` (update:<id> or
    maintenance:<id>), once per address, with a one-click unsubscribe (RFC 8058). Returns e-mails sent."""
    found = _notification_subject_and_context(key)
    if found is None:
        return 0
    subject, context, service_ids = found
    per_address: dict[str, list[int]] = {}
    for sub in subscribers_for(service_ids=service_ids):
        per_address.setdefault(sub.email, []).append(sub.pk)
    sent = 0
    for address, sub_ids in per_address.items():
        token = unsubscribe_token(subscription_ids=sub_ids)
        unsubscribe_url = f"{settings.BASE_URL}/status/unsubscribe/{token}/"
        body = render_to_string(
            "status/email/notification.txt", {**context, "unsubscribe_url": unsubscribe_url}
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=body,
            to=[address],
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
        )
        try:
            with transaction.atomic():
                Notification.objects.create(email=address, key=key)
                message.send()  # a failure rolls the log row back, so a retry sends it
        except IntegrityError:
            continue  # already sent by an earlier run
        sent += 1
    return sent


def status_forget_old(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete the e-mail log's rows (`Notification`) and the subscriptions ended by unsubscribing older than
    SERVICEPULSE_STATUS_EMAIL_LOG_DAYS (0: keep them). The log only keeps a re-run from sending an e-mail
    twice, which matters for hours, not months; an unsubscribed row only kept the address of someone who
    asked to hear no more (subscribing again needs a new opt-in either way). Both grew by every subscriber at
    every update, for ever. Returns (log rows, subscriptions) deleted."""
    days = int(settings.SERVICEPULSE_STATUS_EMAIL_LOG_DAYS)
    if days <= 0:
        return 0, 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        sent, _ = Notification.objects.filter(sent_at__lt=cutoff).delete()
        ended, _ = Subscription.objects.filter(unsubscribed_at__lt=cutoff).delete()
    return sent, ended


# --- from detection to status ----------------------------------------------------------------------

CONFIRMED = "confirmed"  # the incidents app's IncidentState.CONFIRMED
RESOLVED = "resolved"  # and IncidentState.RESOLVED


def draft_first_update(*, incident: DetectedIncident) -> tuple[str, str, str]:
    """(title, first update, impact) drafted from a detected incident: the service and the symptom, in the
    words people used (the explanation's rising terms) when there is an explanation.

    The title names the service only: a rising term is any word ("sorted", "mine", "worked"), so "problems
    with <term>" read as nonsense on the public page; the terms stay quoted in the update's body.

    The service and the symptom are said once ("investigating reports of problems with X, mostly mentioning
    ..."), not twice. An incident already over is published as an incident report, so its first update is in
    the past tense, says the problem is resolved and promises no further update."""
    name = incident.service_name
    title = f"{name}: problems reported"
    quoted = ", ".join(f"“{t}”" for t in incident.terms[:3])
    people = incident.affected_authors
    someone = f"{people} {'person' if people == 1 else 'people'}"
    if incident.state == RESOLVED:
        began = local_time_text(incident.started_at)
        ended = local_time_text(incident.resolved_at or timezone.now())
        symptom = f"problems with {name}, mostly mentioning {quoted}" if quoted else f"problems with {name}"
        reach = f" {someone} told us about it." if people else ""
        body = f"From {began} to {ended}, people had {symptom}.{reach} This problem is resolved."
    else:
        symptom = (
            f"reports of problems with {name}, mostly mentioning {quoted}"
            if quoted
            else f"reports that {name} is not working as expected"
        )
        reach = (
            f" {someone} {'has' if people == 1 else 'have'} told us since {since_words(incident.started_at)}."
            if people
            else ""
        )
        body = f"We are investigating {symptom}.{reach} We will post an update within 30 minutes."
    impact = Impact.PARTIAL_OUTAGE if people >= 5 else Impact.DEGRADED
    return title, body, impact


@dataclass(frozen=True)
class PublishDraft:
    """What publishing a detected incident would post, for the responder to read and edit first."""

    detected: DetectedIncident
    title: str
    body: str
    impact: str
    resolved_body: str | None  # the closing update of an incident report; None while it is still going on


def draft_resolved_update(*, incident: DetectedIncident) -> str:
    """The closing update of an incident report: when the service has worked normally since."""
    ended = local_time_text(incident.resolved_at or timezone.now())
    return (
        f"{incident.service_name} has been working normally since {ended}. Thank you to everyone who told us."
    )


def _publishable(*, incident_id: int) -> DetectedIncident:
    detected = detected_incident(incident_id=incident_id)
    if detected is None:
        raise StatusError("no such detected incident")
    if detected.state not in (CONFIRMED, RESOLVED):
        raise StatusError(
            f"only a confirmed or resolved incident can be published (this one is {detected.state})"
        )
    if not detected.service_public:
        raise StatusError(
            f"{detected.service_name} is not shown on the status page (its catalogue entry is private)"
        )
    existing = PublicIncident.objects.filter(detected_incident_id=detected.id).first()
    if existing is not None:
        raise StatusError(f"this incident is already public: “{existing.title}”")
    return detected


def public_incident_draft(*, incident_id: int) -> PublishDraft:
    """The drafted title, impact and updates for publishing a detected incident. Writes nothing.

    Raises StatusError, saying why, when the incident cannot be published (unknown, not confirmed, a private
    service, already public)."""
    detected = _publishable(incident_id=incident_id)
    title, body, impact = draft_first_update(incident=detected)
    resolved_body = draft_resolved_update(incident=detected) if detected.state == RESOLVED else None
    return PublishDraft(detected=detected, title=title, body=body, impact=impact, resolved_body=resolved_body)


def public_incident_from_detected(
    *,
    incident_id: int,
    actor: Actor = None,
    title: str | None = None,
    body: str | None = None,
    impact: str | None = None,
    resolved_body: str | None = None,
) -> PublicIncident:
    """Publish a detected incident: the title, first update, impact and (for an incident report) closing
    update as the responder reviewed them; any left out are the draft's (`public_incident_draft`).

    A confirmed incident is published as it stands (investigating, now). A resolved one is published as an
    incident report — its first update at its start and a resolved update at its end — so people who
    complained can still be told what happened (the closed loop), and its history shows on the page.
    Subscribers get one e-mail about a report, the resolved update: an "Investigating" e-mail about an
    outage that ended days ago would read as a new one.
    """
    draft = public_incident_draft(incident_id=incident_id)
    detected = draft.detected
    ended_at = detected.resolved_at if detected.state == RESOLVED else None
    with transaction.atomic():
        incident = public_incident_open(
            title=draft.title if title is None else title,
            service_ids=[detected.service_id],
            body=draft.body if body is None else body,
            impact=draft.impact if impact is None else impact,
            actor=actor,
            detected_incident_id=detected.id,
            at=detected.started_at if ended_at else timezone.now(),
            notify=ended_at is None,
        )
        if ended_at is None:
            return incident
        public_incident_update(
            incident=incident,
            status=IncidentStatus.RESOLVED,
            body=(draft.resolved_body or "") if resolved_body is None else resolved_body,
            actor=actor,
            at=ended_at,
        )
    incident.refresh_from_db()
    return incident
