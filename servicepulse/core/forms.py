"""Form fields every app's pages share.

`LocalDateTimeField` reads a date and time typed on the organisation's clock (the current time zone: the input
carries none). Django's own field refused the hour the clocks repeat and the hour they skip with "… couldn't be
interpreted in time zone Europe/London; it may be ambiguous or it may not exist.", which says neither which
nor what to type instead. Here a repeated time is taken at its first occurrence (summer time), and the
field's `notes` say so for the page to show; a skipped time is refused, saying that the clocks went forward.
Its label names the zone, as the alert rules' quiet hours do.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import lazy
from django.utils.text import format_lazy

from servicepulse.core.times import local_time_text

_zone_name = lazy(timezone.get_current_timezone_name, str)


def _wall(moment: datetime) -> str:
    """ "25 Oct 2026, 01:30" for a naive local time (no zone: the caller says which it is)."""
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def local_moment(naive: datetime, zone: tzinfo) -> tuple[datetime, str]:
    """(`naive` as an aware time in `zone`, a note for the person who typed it; "" when there is nothing to
    say). A time the clocks repeat is taken at its first occurrence, and the note says so and names the
    other. Raises ValidationError for a time the clocks skip."""
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first, ""
    # The offsets differ: the time either happens twice (the clocks go back) or never (they go forward). A
    # time that exists comes back unchanged from UTC.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(
            "%(time)s does not exist in %(zone)s: the clocks went forward that night (%(before)s to "
            "%(after)s), skipping it. Enter a time outside the skipped hour, for example %(example)s.",
            code="nonexistent_time",
            params={
                "time": _wall(naive),
                "zone": str(zone),
                # In the gap, fold 0 reads the time with the offset before the change, fold 1 with the one after.
                "before": first.tzname(),
                "after": second.tzname(),
                # The wall time an hour on: the moment `naive` is on the clock of before the change.
                "example": local_time_text(first.astimezone(UTC)),
            },
        )
    note = (
        f"{_wall(naive)} happens twice in {zone} as the clocks go back: it was taken as the first, "
        f"{local_time_text(first.astimezone(UTC))}, not the second, {local_time_text(second.astimezone(UTC))} "
        "(an hour later)."
    )
    return first, note


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed on the organisation's clock, in a `datetime-local` input. See the module."""

    def __init__(self, *, label: str, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        )
        kwargs.setdefault(
            "error_messages",
            {"invalid": "Enter a date and time, for example 2026-11-20 21:00."},
        )
        # Lazy: the zone is the one in force when the page is drawn (a test or a request may change it).
        super().__init__(label=format_lazy("{} ({} time)", label, _zone_name()), **kwargs)
        self.notes: list[str] = []

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        self.notes = []
        if value in self.empty_values:
            return None
        naive: datetime | None
        if isinstance(value, datetime):
            naive = value
        else:
            try:
                parsed = parse_datetime(str(value).strip())
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            # The other input formats Django accepts ("20/11/2026 21:00"); BaseTemporalField skips the zone.
            naive = parsed or BaseTemporalField.to_python(self, value)
        if naive is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_aware(naive):
            return naive  # a time that names its own offset means what it says
        moment, note = local_moment(naive, timezone.get_current_timezone())
        if note:
            self.notes.append(note)
        return moment


def tell_time_notes(request: HttpRequest, form: forms.Form) -> None:
    """Show the person who saved `form` what its times had to decide (`time_notes`), as messages."""
    for note in time_notes(form):
        messages.info(request, note)


def time_notes(form: forms.Form) -> list[str]:
    """What a valid form's `LocalDateTimeField`s had to decide about the times typed (a time the clocks
    repeat), for the page to tell the person who typed them."""
    return [
        note
        for field in form.fields.values()
        if isinstance(field, LocalDateTimeField)
        for note in field.notes
    ]
