"""The engage and status side of the demo university: a worked inbox with response times, saved replies,
a status page with history, a few subscribers and an upcoming maintenance window.

Runs after the demo's posts, analysis and detection (`servicepulse demo-engage`, or called from the demo
loader). Deterministic for a seed; a second run changes nothing. The most recent incidents are left
unpublished and the last two days of posts unanswered, so there is something to do in the demo.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from servicepulse.catalog.models import Service
from servicepulse.engage.models import Case, CaseState, SavedReply
from servicepulse.engage.selectors import inbox_items
from servicepulse.engage.services import (
    case_assign,
    case_open,
    case_record_reply,
    case_transition,
    saved_reply_save,
)
from servicepulse.incidents.selectors import detected_resolved_between
from servicepulse.status.models import Impact, IncidentStatus, PublicIncident, Subscription
from servicepulse.status.services import (
    draft_first_update,
    maintenance_schedule,
    public_incident_open,
    public_incident_update,
)

DEFAULT_SEED = 20261
UNANSWERED_DAYS = 2
ANSWERED_SHARE = 0.6
SAVED_REPLIES = [
    (
        "Known problem",
        "Hi {author}, thanks for telling us. We know about the problem with {service} and are working on it; "
        "follow it here: {status_url}",
    ),
    (
        "Fixed",
        "Hi {author}, the problem with {service} should be fixed now. If you still see it, reply here and we "
        "will look again. {status_url}",
    ),
    (
        "More detail please",
        "Hi {author}, sorry about that. Could you tell us where you were and roughly when it happened, so we "
        "can look into {service}?",
    ),
]
HOW_ANSWERED = [
    "Replied on the platform with a link to the status page.",
    "Replied with the workaround from the knowledge base.",
    "Asked for more detail; the person answered in a direct message.",
    "Passed to the service desk, who called the student back.",
]
DEMO_SUBSCRIBERS = [("student.union@example.org", None), ("vle.champions@example.org", "vle")]


@dataclass
class DemoEngageSummary:
    cases: int = 0
    answered: int = 0
    public_incidents: int = 0
    notes: list[str] = field(default_factory=list)


def _minutes_to_answer(rng: random.Random, posted: datetime) -> float:
    """Office hours (Mon-Fri 8-18 local): a median of about 35 minutes; otherwise the next morning."""
    local = timezone.localtime(posted)
    in_hours = local.weekday() < 5 and 8 <= local.hour < 18
    minutes = math.exp(rng.gauss(math.log(35), 0.7))
    if not in_hours:
        next_morning = (local + timedelta(days=1 if local.hour >= 18 else 0)).replace(hour=8, minute=30)
        while next_morning.weekday() >= 5:
            next_morning += timedelta(days=1)
        minutes += (next_morning - local).total_seconds() / 60
    return minutes


def demo_engage_load(*, seed: int = DEFAULT_SEED, now: datetime | None = None) -> DemoEngageSummary:
    """Load the demo's inbox history, saved replies, status page history and subscribers (once)."""
    summary = DemoEngageSummary()
    if SavedReply.objects.exists() or Case.objects.exists():
        summary.notes.append("engage demo already loaded: nothing changed")
        return summary
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - seeded demo data, not security
    user_model = get_user_model()
    responder = user_model.objects.filter(groups__name="responder").order_by("pk").first()
    with transaction.atomic():
        for title, body in SAVED_REPLIES:
            saved_reply_save(title=title, body=body, actor=responder)
        cutoff = now - timedelta(days=UNANSWERED_DAYS)
        items = list(inbox_items().filter(created_at__lt=cutoff).order_by("created_at", "id"))
        for mention in items:
            if rng.random() > ANSWERED_SHARE:
                continue
            case = case_open(mention=mention)
            summary.cases += 1
            answer_at = mention.created_at + timedelta(minutes=_minutes_to_answer(rng, mention.created_at))
            if answer_at >= now:
                continue
            assign_at = mention.created_at + (answer_at - mention.created_at) * 0.3
            team = case.service.team if case.service and case.service.team else ""
            if responder is not None and rng.random() < 0.7:
                case_assign(case=case, actor=responder, assignee=responder, at=assign_at)
            elif team:
                case_assign(case=case, actor=responder, team=team, at=assign_at)
            case_record_reply(case=case, text=rng.choice(HOW_ANSWERED), actor=responder, at=answer_at)
            summary.answered += 1
            close_at = answer_at + timedelta(hours=rng.uniform(2, 30))
            if close_at < cutoff:
                case_transition(case=case, to_state=CaseState.CLOSED, actor=responder, at=close_at)
        summary.public_incidents = _status_history(now=now, actor=responder)
        public = list(Service.objects.filter(public=True).order_by("order", "name"))
        public.sort(key=lambda s: "print" not in s.id)  # printing, if the catalogue has it
        if public:
            start = (
                timezone.localtime(now) + timedelta(days=(5 - timezone.localtime(now).weekday()) % 7 or 7)
            ).replace(hour=7, minute=0, second=0, microsecond=0)
            maintenance_schedule(
                title=f"{public[0].name} upgrade",
                body="A planned upgrade. The service may be unavailable for up to two hours.",
                service_ids=[public[0].id],
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                actor=responder,
            )
        # Subscribers last; the history above e-mails nobody (its updates are not news).
        for email, service_id in DEMO_SUBSCRIBERS:
            service = Service.objects.filter(pk=service_id, public=True).first() if service_id else None
            if service_id is None or service is not None:
                Subscription.objects.get_or_create(
                    email=email, service=service, defaults={"confirmed_at": now}
                )
    return summary


def _status_history(*, now: datetime, actor: object) -> int:
    """Publish the demo's resolved incidents (but the latest) on the status page, with their timeline."""
    resolved = [
        d
        for d in detected_resolved_between(since=now - timedelta(days=90), until=now)
        if d.service_public and d.confirmed  # a rise that faded unconfirmed was never an outage
    ]
    published = 0
    for detected in resolved[:-1]:
        if PublicIncident.objects.filter(detected_incident_id=detected.id).exists():
            continue
        title, body, impact = draft_first_update(incident=detected)
        first = detected.started_at + timedelta(minutes=20)
        incident = public_incident_open(
            title=title,
            service_ids=[detected.service_id],
            body=body,
            impact=impact if impact in Impact.values else Impact.DEGRADED,
            detected_incident_id=detected.id,
            at=first,
            actor=None,
            notify=False,  # history: the subscribers added below were not there to be told
        )
        end = detected.resolved_at or (first + timedelta(hours=2))
        middle = first + (end - first) / 2
        public_incident_update(
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body=f"We have found the cause of the problem with {detected.service_name} and are fixing it.",
            at=middle,
            notify=False,
        )
        public_incident_update(
            incident=incident,
            status=IncidentStatus.RESOLVED,
            body=f"{detected.service_name} is working normally again. Thank you for your reports.",
            at=max(end, middle + timedelta(minutes=5)),
            notify=False,
        )
        published += 1
    return published
