"""Writing for experience: service-desk tickets imported from CSV, and sending the weekly report."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from smtplib import SMTPRecipientsRefused

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from servicepulse.catalog.models import Service
from servicepulse.experience.models import Priority, ReportDelivery, Ticket

REQUIRED_COLUMNS = ("opened", "resolved", "service", "priority")
REFERENCE_COLUMNS = ("reference", "ref", "id", "ticket", "number", "ticket_id")
PRIORITY_WORDS = {
    "p1": Priority.P1, "1": Priority.P1, "critical": Priority.P1, "urgent": Priority.P1,
    "p2": Priority.P2, "2": Priority.P2, "high": Priority.P2,
    "p3": Priority.P3, "3": Priority.P3, "medium": Priority.P3, "normal": Priority.P3,
    "p4": Priority.P4, "4": Priority.P4, "low": Priority.P4, "planning": Priority.P4,
}  # fmt: skip
# A ticket opened or resolved later than this from now is a mistake (a placeholder date, a wrong year); the
# margin allows for clocks and time zones.
FUTURE_MARGIN = timedelta(days=1)
_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%d-%m-%Y %H:%M")


class TicketFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, not CSV, required columns missing)."""


@dataclass
class TicketImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    local_times: int = 0  # rows kept whose times had no UTC offset: read in the organisation's time zone

    def as_dict(self) -> dict[str, int]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def _parse_time(value: str) -> tuple[datetime, bool]:
    """(the moment, whether it was read in the organisation's time zone for want of an offset)."""
    text = value.strip()
    if not text:
        raise ValueError("empty")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware just below
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"not a date and time: {text!r}") from None
    local = moment.tzinfo is None or moment.utcoffset() is None
    if local:
        moment = timezone.make_aware(moment.replace(tzinfo=None), timezone.get_default_timezone())
    try:
        # 9999-12-31 23:00-05:00 is a valid time that no datetime (or database) can hold in UTC.
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range: in UTC it falls outside the years 1-9999") from None
    return moment, local


def parse_ticket_time(value: str) -> datetime:
    """ISO 8601 (with or without offset) or a day-first UK export format. A time without an offset is read
    in the organisation's time zone (SERVICEPULSE_TIME_ZONE): service-desk exports give local times."""
    return _parse_time(value)[0]


class _ServiceResolver:
    """Finds a service by id, name or alias, case-insensitively (exports name services their own way)."""

    def __init__(self) -> None:
        self.names: dict[str, Service] = {}
        for service in Service.objects.all():
            for name in [service.id, service.name, *service.aliases]:
                self.names.setdefault(_norm(name), service)

    def get(self, value: str) -> Service | None:
        return self.names.get(_norm(value))


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip().lower())


def tickets_import_records(
    *, records: Iterable[tuple[int, Mapping[str, str]] | Mapping[str, str]], origin: str = ""
) -> TicketImportReport:
    """Import tickets from records with the columns opened, resolved, service, priority (and optionally a
    reference). Records may come with their line numbers as (line, record). Bad records (a time that is not
    one, out of range or more than a day in the future, an unknown service or priority) are reported with
    their line and reason and kept out; the rest are stored. A time without a UTC offset is read in the
    organisation's time zone. Re-importing the same records changes nothing; a ticket resolved since the
    last import is updated."""
    report = TicketImportReport()
    resolver = _ServiceResolver()
    occurrences: dict[str, int] = {}
    rows: list[tuple[int, Ticket]] = []
    now = timezone.now()
    for index, item in enumerate(records, start=1):
        line, record = item if isinstance(item, tuple) else (index, item)
        local_times: set[str] = set()
        try:
            ticket = _ticket_from_record(
                record,
                resolver=resolver,
                occurrences=occurrences,
                origin=origin,
                now=now,
                local_times=local_times,
            )
        except ValueError as exc:
            report.rejected += 1
            report.errors.append((line, str(exc)))
            continue
        report.local_times += bool(local_times)
        rows.append((line, ticket))
    with transaction.atomic():
        existing = {t.key: t for t in Ticket.objects.filter(key__in=[t.key for _, t in rows])}
        fresh: list[Ticket] = []
        seen: set[str] = set()
        for line, ticket in rows:
            if ticket.key in seen:
                report.rejected += 1
                report.errors.append((line, f"duplicate reference {ticket.reference!r} in this file"))
                continue
            seen.add(ticket.key)
            old = existing.get(ticket.key)
            if old is None:
                fresh.append(ticket)
                continue
            fields = ("service_id", "priority", "opened_at", "resolved_at")
            if all(getattr(old, f) == getattr(ticket, f) for f in fields):
                report.unchanged += 1
                continue
            for f in fields:
                setattr(old, f, getattr(ticket, f))
            old.save(update_fields=[*fields, "updated_at"])
            report.updated += 1
        Ticket.objects.bulk_create(fresh, batch_size=500, ignore_conflicts=True)
        report.imported += len(fresh)
    return report


def _ticket_from_record(
    record: Mapping[str, str],
    *,
    resolver: _ServiceResolver,
    occurrences: dict[str, int],
    origin: str,
    now: datetime,
    local_times: set[str],
) -> Ticket:
    """The ticket a record describes; ValueError naming the column that is wrong. The columns whose time had no
    offset (read in the organisation's time zone) are added to `local_times`."""

    def get(name: str) -> str:
        value = record.get(name)
        return value.strip() if isinstance(value, str) else ""

    def moment(name: str) -> datetime:
        try:
            value, local = _parse_time(get(name))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        if value > now + FUTURE_MARGIN:
            raise ValueError(f"{name}: {get(name)!r} is in the future (more than a day from now)")
        if local:
            local_times.add(name)
        return value

    opened = moment("opened")
    resolved: datetime | None = None
    if get("resolved"):
        resolved = moment("resolved")
        if resolved < opened:
            raise ValueError("resolved is before opened")
    if not get("service"):
        raise ValueError("service: empty")
    service = resolver.get(get("service"))
    if service is None:
        raise ValueError(f"service: {get('service')!r} is not in the catalogue (id, name or alias)")
    priority = PRIORITY_WORDS.get(_norm(get("priority")).replace("priority ", ""))
    if priority is None:
        raise ValueError(
            f"priority: {get('priority')!r} is not one of P1-P4 (or 1-4, critical/high/medium/low)"
        )
    reference = next((get(c) for c in REFERENCE_COLUMNS if get(c)), "")
    if reference:
        key = f"ref:{reference}"[:128]
    else:
        base = f"{opened.isoformat()}|{service.id}|{priority}"
        occurrences[base] = occurrences.get(base, 0) + 1
        key = "fp:" + hashlib.sha256(f"{base}|{occurrences[base]}".encode()).hexdigest()
    return Ticket(
        key=key,
        reference=reference[:100],
        service=service,
        priority=priority,
        opened_at=opened,
        resolved_at=resolved,
        origin=origin[:255],
    )


def tickets_import_file(*, path: Path) -> TicketImportReport:
    """Import a CSV file of tickets (header row: opened, resolved, service, priority[, reference])."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TicketFileError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise TicketFileError(f"{path} is not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise TicketFileError(f"{path} is empty: expected a header row with {', '.join(REQUIRED_COLUMNS)}")
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise TicketFileError(f"{path}: missing column(s) {', '.join(missing)} in the header row")

    report = TicketImportReport()
    good: list[tuple[int, Mapping[str, str]]] = []
    try:
        for record in reader:
            if None in record:  # more cells than the header has columns: malformed whatever it holds
                report.rejected += 1
                report.errors.append((reader.line_num, "more cells than the header has columns"))
                continue
            good.append((reader.line_num, {k: v or "" for k, v in record.items()}))
    except csv.Error as exc:
        raise TicketFileError(f"{path}, line {reader.line_num}: not valid CSV ({exc})") from exc
    result = tickets_import_records(records=good, origin=path.name)
    result.rejected += report.rejected
    result.errors = sorted(report.errors + result.errors)
    return result


def tickets_delete_origin(*, origin: str) -> int:
    """Remove the tickets imported from `origin` (the demo's reset uses it)."""
    deleted, _ = Ticket.objects.filter(origin=origin).delete()
    return deleted


@dataclass
class ReportSendResult:
    """What `report_email_send` did, address by address."""

    sent: list[str] = field(default_factory=list)
    already_sent: list[tuple[str, datetime]] = field(default_factory=list)  # (address, when): not sent again
    invalid: list[str] = field(default_factory=list)  # not an e-mail address: nothing sent to it
    refused: list[tuple[str, str]] = field(default_factory=list)  # (address, the mail server's reason)


def _recipient_norm(address: str) -> str:
    return address.strip().lower()


def report_email_send(*, week: str, recipients: list[str], resend: bool = False) -> ReportSendResult:
    """E-mail the weekly report for ISO week `week` (e.g. "2026-W47"): HTML and text, the PDF attached, one
    message per recipient (one bad or refused address does not stop the others, and nobody sees the list).
    An address that already got this week's report is skipped unless `resend`; one that is not an e-mail
    address, or that the mail server refuses, is reported back and not recorded, so a later run tries it
    again. A failure of the mail server itself (unreachable) is raised, after recording those already sent."""
    from servicepulse.experience import rendering
    from servicepulse.experience.selectors import report_build

    result = ReportSendResult()
    wanted: list[str] = []
    for address in recipients:
        address = address.strip()
        try:
            validate_email(address)
        except ValidationError:
            result.invalid.append(address)
            continue
        if _recipient_norm(address) not in {_recipient_norm(a) for a in wanted}:
            wanted.append(address)
    if not wanted:
        return result
    report = report_build(week=week)
    label = report.week.label
    if not resend:
        earlier = dict(
            ReportDelivery.objects.filter(
                week=label, recipient__in=[_recipient_norm(a) for a in wanted]
            ).values_list("recipient", "sent_at")
        )
        result.already_sent = [
            (a, earlier[_recipient_norm(a)]) for a in wanted if _recipient_norm(a) in earlier
        ]
        wanted = [a for a in wanted if _recipient_norm(a) not in earlier]
        if not wanted:
            return result
    subject = (
        f"{settings.SERVICEPULSE_ORGANISATION}: IT experience report, week {label} ({report.week.title})"
    )
    text = rendering.report_text(report, attached=True)
    html = rendering.report_email_html(report)
    pdf = rendering.report_pdf(report)
    with get_connection() as connection:
        for address in wanted:
            key = _recipient_norm(address)
            # Claimed before sending, so two runs at once (a retried task, a second scheduler) send it once.
            if resend:
                ReportDelivery.objects.update_or_create(
                    week=label, recipient=key, defaults={"sent_at": timezone.now()}
                )
            else:
                try:
                    with transaction.atomic():
                        ReportDelivery.objects.create(week=label, recipient=key, sent_at=timezone.now())
                except IntegrityError:
                    continue  # another run has just sent it
            message = EmailMultiAlternatives(
                subject=subject,
                body=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[address],
                connection=connection,
            )
            message.attach_alternative(html, "text/html")
            message.attach(f"servicepulse-report-{label}.pdf", pdf, "application/pdf")
            try:
                message.send()
            except SMTPRecipientsRefused as exc:
                ReportDelivery.objects.filter(week=label, recipient=key).delete()
                reason = "; ".join(
                    f"{code} {raw.decode(errors='replace') if isinstance(raw, bytes) else raw}"
                    for code, raw in exc.recipients.values()
                )
                result.refused.append((address, reason or "refused"))
                continue
            except BaseException:
                ReportDelivery.objects.filter(week=label, recipient=key).delete()
                raise
            result.sent.append(address)
    return result
