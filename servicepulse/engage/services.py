"""Writing the inbox (cases, assignment, notes, replies, saved replies) and the closed loop."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from servicepulse.analysis.selectors import analysis_for_mentions
from servicepulse.catalog.models import Service
from servicepulse.core.times import local_time_text
from servicepulse.engage.models import (
    ActivityKind,
    Case,
    CaseActivity,
    CaseState,
    LoopReply,
    OptOut,
    Reply,
    ReplyOutcome,
    SavedReply,
)
from servicepulse.engage.selectors import (
    is_opted_out,
    loop_mentions,
    person_key,
    reply_rate_wait,
    reply_too_long,
    reply_unavailable,
)
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Source, SourceKind
from servicepulse.sources.registry import CannotReply, ConnectorError, OutcomeUnknown, SendKey, connector_for
from servicepulse.status.models import IncidentStatus, PublicIncident
from servicepulse.status.selectors import status_url

logger = logging.getLogger(__name__)

# Who did it: a signed-in user, or nobody (a task, a command). Anonymous users are recorded as nobody.
Actor = AbstractBaseUser | AnonymousUser | None


class EngageError(ValueError):
    """An inbox action is not allowed; the message says why, for the person."""


class CaseHeld(EngageError):
    """The case is already with another person and the action was not asked to take it over."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"already assigned to {holder}")
        self.holder = holder


class ReplyAlreadySent(EngageError):
    """The same text already reached the person moments ago (a double click): nothing to keep or retry."""


# Which state a case may move to from each state. Replying from any state moves it to "replied"; closing is
# always possible; a closed case is reopened by assigning it or by moving it back to "new".
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseState.NEW: frozenset({CaseState.ASSIGNED, CaseState.WAITING, CaseState.REPLIED, CaseState.CLOSED}),
    CaseState.ASSIGNED: frozenset({CaseState.NEW, CaseState.WAITING, CaseState.REPLIED, CaseState.CLOSED}),
    CaseState.WAITING: frozenset({CaseState.ASSIGNED, CaseState.REPLIED, CaseState.CLOSED}),
    CaseState.REPLIED: frozenset({CaseState.ASSIGNED, CaseState.WAITING, CaseState.CLOSED}),
    CaseState.CLOSED: frozenset({CaseState.NEW, CaseState.ASSIGNED, CaseState.REPLIED}),
}

PLACEHOLDERS = ("author", "service", "status_url")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _user(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def case_open(*, mention: Mention) -> Case:
    """The case for `mention`, created (state new, service from the analysis) when it has none yet."""
    existing = Case.objects.filter(mention=mention).first()
    if existing is not None:
        return existing
    service = _analysed_service(mention)
    try:
        with transaction.atomic():
            return Case.objects.create(mention=mention, service=service, opened_at=mention.created_at)
    except IntegrityError:  # opened by someone else at the same moment
        return Case.objects.get(mention=mention)


def _analysed_service(mention: Mention) -> Service | None:
    """The service the analysis tagged `mention` with first, if any."""
    analysis = analysis_for_mentions(mention_ids=[mention.pk]).get(mention.pk)
    service_id = analysis.service_ids[0] if analysis is not None and analysis.service_ids else None
    return Service.objects.filter(pk=service_id).first() if service_id else None


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to_state: str,
    actor: Actor = None,
    text: str = "",
    at: datetime | None = None,
) -> Case:
    """Move a case to `to_state` and write its activity row, in one transaction. The only writer of `state`.

    Moving to the state it is already in changes nothing and writes nothing.
    """
    if to_state not in CaseState.values:
        raise EngageError(f"unknown state {to_state!r}")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.state == to_state:
        return locked
    if to_state not in TRANSITIONS[locked.state]:
        raise EngageError(
            f"a {CaseState(locked.state).label.lower()} case cannot become "
            f"{CaseState(to_state).label.lower()}"
        )
    at = at or timezone.now()
    from_state = locked.state
    locked.state = to_state
    if to_state == CaseState.CLOSED:
        locked.closed_at = at
    elif from_state == CaseState.CLOSED:
        locked.closed_at = None
    locked.save(update_fields=["state", "closed_at", "updated_at"])
    CaseActivity.objects.create(
        case=locked,
        kind=ActivityKind.STATE,
        actor=_user(actor),
        from_state=from_state,
        to_state=to_state,
        text=text,
        created_at=at,
    )
    case.state, case.closed_at = locked.state, locked.closed_at
    return locked


@transaction.atomic
def case_assign(
    *,
    case: Case,
    actor: Actor,
    assignee: Actor = None,
    team: str = "",
    at: datetime | None = None,
    take_over: bool = True,
) -> Case:
    """Give a case to a person and/or a team; a new or closed case becomes assigned.

    With `take_over=False` a case already held by another person (neither the new assignee nor the actor)
    is left with them and `CaseHeld` is raised. The check runs under the case's row lock, so of two people
    assigning the same case at once the second sees the first's assignee instead of silently replacing it.
    """
    if assignee is None and not team:
        raise EngageError("assign to a person or a team")
    at = at or timezone.now()
    locked = Case.objects.select_for_update().get(pk=case.pk)
    held_by = locked.assignee_id
    if (
        not take_over
        and held_by is not None
        and held_by not in (getattr(assignee, "pk", None), getattr(_user(actor), "pk", None))
    ):
        raise CaseHeld(locked.assignee.get_username() if locked.assignee else "someone")
    locked.assignee = assignee  # type: ignore[assignment]
    locked.team = team.strip()
    locked.save(update_fields=["assignee", "team", "updated_at"])
    who = ", ".join(x for x in (assignee.get_username() if assignee else "", locked.team) if x)
    CaseActivity.objects.create(
        case=locked, kind=ActivityKind.ASSIGN, actor=_user(actor), text=who, created_at=at
    )
    if locked.state in (CaseState.NEW, CaseState.CLOSED):
        locked = case_transition(case=locked, to_state=CaseState.ASSIGNED, actor=actor, at=at)
    case.assignee, case.team, case.state = locked.assignee, locked.team, locked.state
    return locked


@dataclass
class BulkResult:
    """What a bulk action did: how many cases it changed, the cases it left with their current holder
    (username -> how many), and why others could not be changed."""

    done: int = 0
    held: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def cases_bulk(
    *,
    mention_ids: list[int],
    action: str,
    actor: Actor,
    assignee: AbstractBaseUser | None = None,
    team: str = "",
    take_over: bool = False,
) -> BulkResult:
    """Assign or close several inbox items at once, each through the single-case services (so every case
    gets its own activity rows).

    Assigning in bulk takes only cases nobody holds (or that the actor or the chosen person already holds):
    a case another person already has is left with them unless `take_over` is set, because a whole page of
    ticked posts is not a deliberate decision about each colleague's case, and two people bulk-assigning
    the same posts at once would otherwise each silently take the other's."""
    if action not in ("assign", "close"):
        raise EngageError(f"unknown bulk action {action!r}")
    if action == "assign" and assignee is None and not team:
        raise EngageError("assign to a person or a team")
    result = BulkResult()
    for mention in Mention.objects.filter(pk__in=mention_ids).order_by("pk"):
        case = case_open(mention=mention)
        try:
            if action == "assign":
                case_assign(case=case, actor=actor, assignee=assignee, team=team, take_over=take_over)
            else:
                case_transition(case=case, to_state=CaseState.CLOSED, actor=actor, text="closed in bulk")
            result.done += 1
        except CaseHeld as exc:
            result.held[exc.holder] = result.held.get(exc.holder, 0) + 1
        except EngageError as exc:
            result.errors.append(f"post {mention.pk}: {exc}")
    return result


def case_note_add(*, case: Case, actor: Actor, text: str) -> CaseActivity:
    """An internal note: seen by the team, never sent to the person."""
    text = text.strip()
    if not text:
        raise EngageError("a note needs some text")
    return CaseActivity.objects.create(
        case=case, kind=ActivityKind.NOTE, actor=_user(actor), text=text, created_at=timezone.now()
    )


def case_link_public_incident(*, case: Case, incident: PublicIncident | None) -> Case:
    """Attach a case to a public incident, so the closed loop answers this person too."""
    case.public_incident = incident
    case.save(update_fields=["public_incident", "updated_at"])
    return case


# A reply still "sending" after this long was cut off mid-call (a crash, a killed worker): it stays listed
# with that outcome so the team can check the platform, but it no longer blocks the next reply.
REPLY_IN_FLIGHT = timedelta(minutes=2)
# The same text sent to the same person within this window is a double click or a second agent answering
# the same way: refused rather than posted twice.
REPLY_DUPLICATE_WINDOW = timedelta(minutes=15)
# The same text sent again this soon after a try the platform did not answer is that reply again, under its
# `SendKey`: a platform that made it returns it instead of posting twice. Not longer: a Bluesky server refuses
# a record key whose time is far from its clock.
REPLY_RESEND_WINDOW = timedelta(minutes=10)
ANSWERED = (ReplyOutcome.SENT, ReplyOutcome.RECORDED)


def case_reply(
    *,
    case: Case,
    text: str,
    actor: Actor,
    at: datetime | None = None,
    seen_reply_id: int | None = None,
) -> Reply:
    """Send `text` to the person on their own channel through the source's connector.

    Always returns the logged `Reply`: outcome `sent`, or `cannot_reply` / `failed` / `opted_out` with the
    reason in `error` (the inbox shows it). Only a sent reply counts as the first response.

    The person must not get the same answer twice: before the network call the reply is claimed (a row in
    "sending", written under the case's row lock), and the claim is refused with an `EngageError` while
    another reply to this case is on its way, when the same text was sent moments ago (a double click), or
    when `seen_reply_id` (the latest answer the responder saw when they opened the case; None to skip the
    check) is older than the case's latest answer, i.e. a colleague answered while they were writing.
    """
    text = text.strip()
    if not text:
        raise EngageError("a reply needs some text")
    mention = Mention.objects.select_related("source").get(pk=case.mention_id)
    at_start = at or timezone.now()

    def log(
        outcome: str,
        *,
        error: str = "",
        external_id: str = "",
        url: str = "",
        claim: Reply | None = None,
        unknown: bool = False,
    ) -> Reply:
        with transaction.atomic():
            reply = claim or Reply(case=case, text=text, sent_by=_user(actor))
            reply.outcome, reply.error, reply.external_id, reply.url = outcome, error, external_id, url
            reply.outcome_unknown = unknown
            reply.created_at = at or timezone.now()
            reply.save()
            kind = ActivityKind.REPLY if outcome == ReplyOutcome.SENT else ActivityKind.REPLY_FAILED
            CaseActivity.objects.create(
                case=case,
                kind=kind,
                actor=_user(actor),
                text=text if outcome == ReplyOutcome.SENT else f"{error}\n\n{text}",
                created_at=reply.created_at,
            )
            if outcome == ReplyOutcome.SENT:
                Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(
                    first_response_at=reply.created_at
                )
                case_transition(case=case, to_state=CaseState.REPLIED, actor=actor, at=reply.created_at)
        return reply

    if is_opted_out(mention=mention):
        return log(ReplyOutcome.OPTED_OUT, error="This person asked not to be contacted on this channel.")
    too_long = reply_too_long(mention=mention, text=text)
    if too_long:
        return log(ReplyOutcome.FAILED, error=f"Too long: {too_long}.")
    wait = reply_rate_wait(source=mention.source, now=at_start)
    if wait > timedelta(0):
        return log(
            ReplyOutcome.FAILED,
            error=f"{mention.source.get_kind_display()} rate limit reached: "
            f"try again in {int(wait.total_seconds())} s.",
        )
    cannot = reply_unavailable(source=mention.source)
    claim = (
        None if cannot else _reply_claim(case=case, text=text, actor=actor, at=at_start, seen=seen_reply_id)
    )
    try:
        if claim is None:
            raise CannotReply(cannot)
        connector = connector_for(mention.source)
        result = connector.reply(mention=mention, text=text, key=reply_send_key(claim))
    except CannotReply as exc:
        return log(
            ReplyOutcome.CANNOT_REPLY,
            error=f"{mention.source.name} ({mention.source.get_kind_display()}) cannot reply: {exc}. "
            "Answer the person another way; once they have been answered, record it under “Answered "
            "elsewhere” or close the case.",
            claim=claim,
        )
    except OutcomeUnknown as exc:
        platform = mention.source.get_kind_display()
        minutes = int(REPLY_RESEND_WINDOW.total_seconds() // 60)
        then = (
            f"Sending the same text again within {minutes} minutes asks {platform} for this same reply, so it "
            "is posted once at most; after that, check the person's post first."
            if connector.reply_keyed
            else f"Check the person's post on {platform} before sending again."
        )
        return log(
            ReplyOutcome.FAILED,
            error=f"{platform} did not answer in time, so the reply may have been posted: {exc}. {then}",
            claim=claim,
            unknown=True,
        )
    except ConnectorError as exc:
        return log(
            ReplyOutcome.FAILED,
            error=f"{mention.source.get_kind_display()} refused the reply: {exc}",
            claim=claim,
        )
    except Exception as exc:  # a client failure the connector did not translate: logged, shown, not a 500
        logger.exception("reply on case %s failed", case.pk)
        return log(
            ReplyOutcome.FAILED, error=f"{mention.source.get_kind_display()} reply failed: {exc}", claim=claim
        )
    return log(ReplyOutcome.SENT, external_id=result.external_id, url=result.url, claim=claim)


def _reply_claim(*, case: Case, text: str, actor: Actor, at: datetime, seen: int | None) -> Reply:
    """The "sending" row for a reply about to be posted, or an `EngageError` saying why it must not be.

    Committed before the network call, so a second request (another tab, another agent, a double click)
    waiting on the case's lock sees it; the lock is not held during the call itself."""
    with transaction.atomic():
        Case.objects.select_for_update().get(pk=case.pk)
        replies = Reply.objects.filter(case_id=case.pk).select_related("sent_by").order_by("-id")
        busy = replies.filter(outcome=ReplyOutcome.SENDING, created_at__gte=at - REPLY_IN_FLIGHT).first()
        if busy is not None:
            raise EngageError(
                f"{_who(busy)} is sending a reply to this person right now; yours was not sent. "
                "Read theirs once it is listed below, then send yours if it is still needed."
            )
        same = replies.filter(
            outcome=ReplyOutcome.SENT, text=text, created_at__gte=at - REPLY_DUPLICATE_WINDOW
        ).first()
        if same is not None:
            raise ReplyAlreadySent(
                f"This exact reply was already sent at {local_time_text(same.created_at)} by {_who(same)}; "
                "it was not sent again."
            )
        if seen is not None:
            newer = replies.filter(outcome__in=ANSWERED, pk__gt=seen).first()
            if newer is not None:
                raise EngageError(
                    f"{_who(newer)} answered this person at {local_time_text(newer.created_at)} while you were "
                    "writing, so yours was not sent. Read their answer below; your text is kept in the form "
                    "if you still want to send it."
                )
        # The same text after a try with no answer, soon enough, is that reply again (`reply_send_key`).
        unanswered = replies.filter(
            text=text, outcome_unknown=True, created_at__gte=at - REPLY_RESEND_WINDOW
        ).first()
        first = unanswered and (unanswered.resend_of or unanswered)
        if first is not None and (first.first_tried_at or first.created_at) < at - REPLY_RESEND_WINDOW:
            first = None
        return Reply.objects.create(
            case=case,
            text=text,
            outcome=ReplyOutcome.SENDING,
            sent_by=_user(actor),
            created_at=at,
            first_tried_at=at,
            resend_of=first,
        )


def reply_send_key(reply: Reply) -> SendKey:
    """What names an inbox reply on the platform (`SendKey`): its own row, or, when it is the same text sent
    again after a try the platform did not answer (`Reply.resend_of`), that first try's row and time, so a
    platform that made the first one returns it instead of posting a second."""
    first = reply.resend_of or reply
    return SendKey(
        name=f"servicepulse-reply-{first.pk}",
        first_try=first.first_tried_at or first.created_at,
        retry=reply.resend_of is not None,
    )


def _who(reply: Reply) -> str:
    return reply.sent_by.get_username() if reply.sent_by is not None else "someone"


@transaction.atomic
def case_record_reply(*, case: Case, text: str, actor: Actor, at: datetime | None = None) -> Reply:
    """Record an answer given outside servicepulse (on the platform itself, by phone, at the desk): it counts
    as the first response like a sent reply, and the case becomes replied."""
    text = text.strip()
    if not text:
        raise EngageError("say briefly how the person was answered")
    at = at or timezone.now()
    reply = Reply.objects.create(
        case=case, text=text, outcome=ReplyOutcome.RECORDED, sent_by=_user(actor), created_at=at
    )
    CaseActivity.objects.create(
        case=case,
        kind=ActivityKind.REPLY,
        actor=_user(actor),
        text=f"(answered elsewhere) {text}",
        created_at=at,
    )
    Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(first_response_at=at)
    case_transition(case=case, to_state=CaseState.REPLIED, actor=actor, at=at)
    return reply


def optout_add(*, mention: Mention, reason: str = "", actor: Actor = None) -> OptOut:
    """Record that this person does not want replies on this source."""
    key = mention.author_id or mention.author
    if not key:
        raise EngageError("this post has no author to opt out")
    optout, _ = OptOut.objects.get_or_create(
        source=mention.source, author_key=key, defaults={"reason": reason}
    )
    case = Case.objects.filter(mention=mention).first()
    if case is not None:
        CaseActivity.objects.create(
            case=case, kind=ActivityKind.OPT_OUT, actor=_user(actor), text=reason, created_at=timezone.now()
        )
    return optout


def optouts_from_replies(*, mention_ids: list[int]) -> int:
    """Opt out the authors of these mentions where the mention answers one of our replies to them
    (directly, or in the thread where we answered them). Called for short "stop" posts. Returns how many
    people were opted out."""
    added = 0
    for mention in Mention.objects.filter(pk__in=mention_ids).select_related("source"):
        key = mention.author_id or mention.author
        if not key or OptOut.objects.filter(source_id=mention.source_id, author_key=key).exists():
            continue
        answered = Mention.objects.filter(source_id=mention.source_id).filter(
            Q(author_id=key) | Q(author=key),
            Q(case__replies__outcome=ReplyOutcome.SENT) | Q(loop_replies__outcome=ReplyOutcome.SENT),
        )
        ours = set(
            Reply.objects.filter(case__mention__in=answered)
            .exclude(external_id="")
            .values_list("external_id", flat=True)
        ) | set(
            LoopReply.objects.filter(mention__in=answered)
            .exclude(external_id="")
            .values_list("external_id", flat=True)
        )
        threads = {t for pair in answered.values_list("external_id", "thread_id") for t in pair if t}
        root = mention.thread_id or mention.in_reply_to
        if mention.in_reply_to in ours or (root and root in threads):
            optout_add(mention=mention, reason=f"answered our reply with: {mention.text[:100]}")
            added += 1
    return added


# --- saved replies ---------------------------------------------------------------------------------


def saved_reply_validate(*, body: str) -> None:
    unknown = sorted({m for m in _PLACEHOLDER.findall(body) if m not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise EngageError(
            f"unknown placeholder(s): {', '.join('{' + u + '}' for u in unknown)} (use {allowed})"
        )
    if not body.strip():
        raise EngageError("a saved reply needs some text")


def saved_reply_save(
    *, title: str, body: str, actor: Actor = None, saved_reply: SavedReply | None = None
) -> SavedReply:
    title = title.strip()
    if not title:
        raise EngageError("a saved reply needs a title")
    saved_reply_validate(body=body)
    clash = SavedReply.objects.filter(title=title)
    if saved_reply is not None:
        clash = clash.exclude(pk=saved_reply.pk)
    if clash.exists():
        raise EngageError(f"a saved reply called {title!r} already exists")
    if saved_reply is None:
        return SavedReply.objects.create(title=title, body=body.strip(), created_by=_user(actor))
    saved_reply.title, saved_reply.body = title, body.strip()
    saved_reply.save(update_fields=["title", "body"])
    return saved_reply


def placeholders_render(*, body: str, author: str, service: str, status_link: str) -> str:
    """Fill {author}, {service} and {status_url}; anything else in braces is left as written."""
    values = {"author": author, "service": service, "status_url": status_link}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def _author_name(mention: Mention) -> str:
    return mention.author.strip() or "there"


def saved_reply_render(*, body: str, mention: Mention, case: Case | None = None) -> str:
    """A saved reply's text for this post's person, service and status link: the case's when there is one,
    else the service the analysis tagged the post with (a new post has no case yet)."""
    service = case.service if case is not None else _analysed_service(mention)
    incident = case.public_incident if case is not None else None
    link = status_url(incident=incident) if incident else status_url()
    return placeholders_render(
        body=body,
        author=_author_name(mention),
        service=service.name if service else "our IT services",
        status_link=link,
    )


# --- closed loop -----------------------------------------------------------------------------------

LOOP_TEMPLATES: dict[str, str] = {
    IncidentStatus.INVESTIGATING: (
        "Hi {author}, thanks for telling us about the problem with {service}. We are investigating; "
        "updates here: {status_url}"
    ),
    IncidentStatus.IDENTIFIED: (
        "Hi {author}, we have found the cause of the {service} problem you reported and are fixing it. "
        "Updates: {status_url}"
    ),
    IncidentStatus.MONITORING: (
        "Hi {author}, a fix for the {service} problem you reported is in place and we are watching it. "
        "Details: {status_url}"
    ),
    IncidentStatus.RESOLVED: (
        "Hi {author}, the {service} problem you reported is resolved. Thank you for telling us. "
        "Details: {status_url}"
    ),
}


@dataclass
class LoopRecipient:
    """One person in the closed-loop preview: what they will get, or why they will not."""

    person_key: str
    mention: Mention
    text: str
    outcome: str  # ReplyOutcome: pending (will send), opted_out, cannot_reply, failed (e.g. too long)
    reason: str = ""
    existing: LoopReply | None = None  # this status's reply to them: sent, on its way, or opted out
    previous: LoopReply | None = None  # an attempt that failed or could not be made: tried again on send

    @property
    def will_send(self) -> bool:
        return self.existing is None and self.outcome == ReplyOutcome.PENDING


@dataclass
class LoopPreview:
    incident: PublicIncident
    incident_status: str
    template: str
    recipients: list[LoopRecipient] = field(default_factory=list)

    @property
    def to_send(self) -> list[LoopRecipient]:
        return [r for r in self.recipients if r.will_send]

    @property
    def not_sendable(self) -> list[LoopRecipient]:
        return [r for r in self.recipients if r.existing is None and not r.will_send]

    @property
    def already(self) -> list[LoopRecipient]:
        return [r for r in self.recipients if r.existing is not None]


# A logged closed-loop reply that did not reach the person: the next send tries them again (after a
# platform error, or once the source has the credentials it lacked).
RETRYABLE = (ReplyOutcome.FAILED, ReplyOutcome.CANNOT_REPLY)


def loop_preview(*, incident: PublicIncident, template: str | None = None) -> LoopPreview:
    """Who would get a reply for the incident's current status, with the exact text, and who would not
    (already answered for this status, opted out, channel cannot reply, text too long). A person whose
    earlier reply failed or could not be posted is offered again."""
    template = (template or LOOP_TEMPLATES[incident.status]).strip()
    saved_reply_validate(body=template)
    services = list(incident.services.all())
    service_names = " and ".join(s.name for s in services) or "our IT services"
    link = status_url(incident=incident)
    logged = {
        r.person_key: r
        for r in incident.loop_replies.filter(incident_status=incident.status).select_related("mention")
    }
    latest: dict[str, Mention] = {}
    for mention in loop_mentions(incident=incident):  # oldest first: the latest post per person wins
        latest[person_key(mention)] = mention
    preview = LoopPreview(incident=incident, incident_status=incident.status, template=template)
    unavailable: dict[int, str] = {}  # per source: why a reply cannot be posted there (decrypts its secrets)
    for key, mention in latest.items():
        text = placeholders_render(
            body=template, author=_author_name(mention), service=service_names, status_link=link
        )
        outcome, reason = ReplyOutcome.PENDING, ""
        if is_opted_out(mention=mention):
            outcome, reason = ReplyOutcome.OPTED_OUT, "asked not to be contacted on this channel"
        elif cannot := _reply_unavailable_once(unavailable, mention.source):
            if not mention.author and mention.source.kind == SourceKind.WIDGET:
                # A reporter who did not sign in left nothing to answer: the status page is how they hear.
                outcome = ReplyOutcome.CANNOT_REPLY
                reason = "an anonymous report through the widget: there is nobody to answer; the status page tells them"
            else:
                outcome, reason = ReplyOutcome.CANNOT_REPLY, f"{cannot}: answer this person another way"
        elif too_long := reply_too_long(mention=mention, text=text):
            outcome, reason = ReplyOutcome.FAILED, f"text too long ({too_long})"
        row = logged.get(key)
        retry = row is not None and row.outcome in RETRYABLE
        preview.recipients.append(
            LoopRecipient(
                person_key=key,
                mention=mention,
                text=text,
                outcome=outcome,
                reason=reason,
                existing=None if retry else row,
                previous=row if retry else None,
            )
        )
    return preview


def _reply_unavailable_once(seen: dict[int, str], source: Source) -> str:
    if source.pk not in seen:
        seen[source.pk] = reply_unavailable(source=source)
    return seen[source.pk]


class LoopStatusChanged(EngageError):
    """The incident's status changed after the closed-loop message was written: it was not sent."""

    def __init__(self, *, written_for: str, status: str) -> None:
        labels = dict(IncidentStatus.choices)
        before, now = labels.get(written_for, written_for), labels.get(status, status)
        super().__init__(
            f"Nothing was sent: the incident moved from “{before}” to “{now}” after this message was "
            f"written. Check the message for “{now}” below, then send again."
        )
        self.written_for = written_for
        self.status = status


@dataclass
class LoopSendResult:
    queued: int
    listed: int
    already: int


def loop_pending(*, days: int = 7) -> list[tuple[PublicIncident, int]]:
    """Public incidents (open, or resolved in the last `days`) with people a reply can reach who have not
    had one for the incident's current status: what the closed loop still has to do."""
    since = timezone.now() - timedelta(days=days)
    incidents = PublicIncident.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=since)
    ).prefetch_related("services")
    out = []
    for incident in incidents:
        waiting = len(loop_preview(incident=incident).to_send)
        if waiting:
            out.append((incident, waiting))
    return out


def loop_send(
    *,
    incident: PublicIncident,
    template: str | None = None,
    actor: Actor,
    only: Collection[str] | None = None,
    written_for: str | None = None,
) -> LoopSendResult:
    """After the preview: log one row per person for the incident's current status (pending for those who
    will get a reply; opted out or cannot reply for those who will not, so they are listed) and deliver in
    the background. A person already answered (or on their way to be) for this status is left alone
    (unique constraint); one whose earlier attempt failed or could not be posted is tried again. `only`
    (person keys) limits the replies to the people the responder kept ticked in the preview; the others
    get no row, so a later send can still reach them.

    `written_for` is the status the responder wrote and previewed the message for: when the incident has
    moved on since (an update posted meanwhile), nothing is sent and `LoopStatusChanged` says so, because
    the message would tell people old news and use up their one reply for the new status."""
    if written_for and written_for != incident.status:
        raise LoopStatusChanged(written_for=written_for, status=incident.status)
    preview = loop_preview(incident=incident, template=template)
    if only is not None:
        keep = set(only)
        preview.recipients = [r for r in preview.recipients if not r.will_send or r.person_key in keep]
    retries = [r for r in preview.recipients if r.previous is not None]
    rows = [
        LoopReply(
            public_incident=incident,
            incident_status=preview.incident_status,
            person_key=r.person_key,
            mention=r.mention,
            text=r.text,
            outcome=r.outcome,
            error=r.reason,
            created_by=_user(actor),
        )
        for r in preview.recipients
        if r.existing is None and r.previous is None
    ]
    with transaction.atomic():
        retried = 0
        for r in retries:
            assert r.previous is not None
            updated = LoopReply.objects.filter(pk=r.previous.pk, outcome__in=RETRYABLE).update(
                text=r.text, outcome=r.outcome, error=r.reason, attempts=0, created_by=_user(actor)
            )
            retried += updated if r.outcome == ReplyOutcome.PENDING else 0
        before = set(
            LoopReply.objects.filter(
                public_incident=incident, incident_status=preview.incident_status
            ).values_list("person_key", flat=True)
        )
        LoopReply.objects.bulk_create(rows, ignore_conflicts=True)
        fresh = [r for r in rows if r.person_key not in before]
        incident_id, status = incident.pk, preview.incident_status
        transaction.on_commit(lambda: _enqueue_deliver(incident_id=incident_id, incident_status=status))
    fresh_queued = sum(1 for r in fresh if r.outcome == ReplyOutcome.PENDING)
    return LoopSendResult(
        queued=fresh_queued + retried,
        listed=len(fresh) - fresh_queued + len(retries) - retried,
        already=len(preview.already) + len(rows) - len(fresh),
    )


def _enqueue_deliver(*, incident_id: int, incident_status: str, run_after: datetime | None = None) -> None:
    from servicepulse.engage.tasks import loop_deliver_task

    task = loop_deliver_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            # The periodic sweep (engage.schedule) picks these rows up once the limit allows.
            logger.info("closed loop for incident %s deferred to the periodic sweep", incident_id)
            return
        task = task.using(run_after=run_after)
    task.enqueue(incident_id, incident_status)


def loop_deliver_due() -> int:
    """Deliver every closed loop that still has pending replies (the periodic sweep). Returns replies sent."""
    pairs = (
        LoopReply.objects.filter(outcome=ReplyOutcome.PENDING)
        .values_list("public_incident_id", "incident_status")
        .distinct()
    )
    return sum(loop_deliver(incident_id=i, incident_status=s, sweep=True).sent for i, s in list(pairs))


@dataclass
class LoopDeliverResult:
    sent: int = 0
    cannot_reply: int = 0
    failed: int = 0
    deferred: int = 0
    retry_at: datetime | None = None


MAX_ATTEMPTS = 3


def loop_deliver(
    *, incident_id: int, incident_status: str, now: datetime | None = None, sweep: bool = False
) -> LoopDeliverResult:
    """Send the pending closed-loop replies for one incident status, within each platform's rate limit.

    Each row is claimed (pending → sending) before its network call, so two workers never send the same
    reply; a row left in "sending" by a crash is shown, not re-sent (a duplicate reply is worse than a
    missing one the team can see). Rows over the rate limit, or refused with Retry-After, are deferred: the
    task is enqueued again to run when the limit allows.
    """
    result = LoopDeliverResult()
    deferred_until: dict[int, datetime] = {}
    pending = LoopReply.objects.filter(
        public_incident_id=incident_id, incident_status=incident_status, outcome=ReplyOutcome.PENDING
    ).select_related("mention__source")
    for row in pending.order_by("id"):
        source = row.mention.source
        clock = now or timezone.now()
        if source.pk in deferred_until:
            result.deferred += 1
            continue
        if cannot := reply_unavailable(source=source):  # e.g. its token was removed after the preview
            _finish(row, ReplyOutcome.CANNOT_REPLY, error=cannot)
            result.cannot_reply += 1
            continue
        wait = reply_rate_wait(source=source, now=clock)
        if wait > timedelta(0):
            deferred_until[source.pk] = clock + wait
            result.deferred += 1
            continue
        claimed = LoopReply.objects.filter(pk=row.pk, outcome=ReplyOutcome.PENDING).update(
            outcome=ReplyOutcome.SENDING,
            attempts=F("attempts") + 1,
            first_tried_at=Coalesce(F("first_tried_at"), Value(clock)),
        )
        if not claimed:
            continue
        row.refresh_from_db(fields=["attempts", "first_tried_at"])
        try:
            reply = connector_for(source).reply(mention=row.mention, text=row.text, key=loop_send_key(row))
        except CannotReply as exc:
            _finish(row, ReplyOutcome.CANNOT_REPLY, error=f"{source.get_kind_display()} cannot reply: {exc}")
            result.cannot_reply += 1
        except ConnectorError as exc:
            if row.attempts >= MAX_ATTEMPTS:
                unknown = isinstance(exc, OutcomeUnknown)
                error = f"outcome unknown, check {source.get_kind_display()} before sending again: {exc}"
                _finish(row, ReplyOutcome.FAILED, error=error if unknown else str(exc))
                result.failed += 1
            else:
                delay = timedelta(seconds=exc.retry_after or 60 * row.attempts)
                deferred_until[source.pk] = clock + delay
                _finish(row, ReplyOutcome.PENDING, error=str(exc))
                result.deferred += 1
        except Exception as exc:  # an unexpected client failure: keep the row visible as failed, go on
            logger.exception("closed-loop reply %s failed", row.pk)
            _finish(row, ReplyOutcome.FAILED, error=f"unexpected error: {exc}")
            result.failed += 1
        else:
            sent_at = timezone.now()
            _finish(row, ReplyOutcome.SENT, external_id=reply.external_id, url=reply.url, sent_at=sent_at)
            _loop_reply_answers_case(row, at=sent_at)
            result.sent += 1
    if deferred_until:
        result.retry_at = min(deferred_until.values())
        retry_at = result.retry_at
        transaction.on_commit(
            lambda: _enqueue_deliver(
                incident_id=incident_id, incident_status=incident_status, run_after=retry_at
            )
        )
    return result


def loop_send_key(row: LoopReply) -> SendKey:
    """What names this closed-loop reply on every try (its row), so a try after a timeout does not post it
    twice; `first_try` when it was first tried (not queued: a reply waiting its turn behind a platform's rate
    limit would otherwise carry an old time into its Bluesky record key); `retry` from the second try of a
    delivery on (X then looks for the reply before posting)."""
    return SendKey(
        name=f"servicepulse-loop-{row.pk}",
        first_try=row.first_tried_at or row.created_at,
        retry=row.attempts > 1,
    )


def _loop_reply_answers_case(row: LoopReply, *, at: datetime) -> None:
    """A closed-loop reply answers the person's post: it is the case's first response if none came before,
    and an open case becomes replied (a closed one stays closed)."""
    with transaction.atomic():
        case = case_open(mention=row.mention)
        if case.service_id is None:  # the incident says which service the post was about
            service = row.public_incident.services.order_by("order", "name").first()
            Case.objects.filter(pk=case.pk, service__isnull=True).update(service=service)
        Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(first_response_at=at)
        CaseActivity.objects.create(
            case=case,
            kind=ActivityKind.REPLY,
            actor=row.created_by,
            text=f"(status update) {row.text}",
            created_at=at,
        )
        if case.state != CaseState.CLOSED:
            case_transition(case=case, to_state=CaseState.REPLIED, actor=row.created_by, at=at)


def _finish(row: LoopReply, outcome: str, **fields: Any) -> None:
    fields["outcome"] = outcome
    LoopReply.objects.filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)


# --- "You said, we did" ----------------------------------------------------------------------------

YOU_SAID_TAG = "you said we did"


def you_said_we_did_draft(
    *, until: datetime | None = None, days: int = 7, author: Actor = None
) -> tuple[Any, bool]:
    """Create the week's "You said, we did" post as a blog draft (blog.services.post_create); returns
    (post, created). A draft with the same title already there is returned unchanged, so the weekly job
    can run twice safely."""
    from servicepulse.blog.models import Post
    from servicepulse.blog.services import post_create
    from servicepulse.engage.you_said import draft_markdown, draft_title, week_digest

    digest = week_digest(until=until, days=days)
    title = draft_title(digest)
    existing = Post.objects.filter(title=title).first()
    if existing is not None:
        return existing, False
    post = post_create(
        title=title, body_markdown=draft_markdown(digest), author=_user(author), tags=[YOU_SAID_TAG]
    )
    return post, True
