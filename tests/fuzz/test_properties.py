"""Property tests (hypothesis) of the parsers: arbitrary input is either accepted or refused with the
parser's own error, and what is accepted keeps its meaning."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from servicepulse.catalog.document import CatalogError, catalog_parse
from servicepulse.sources.connectors.file_import.parse import ParseError, parse_json_line

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_import_line_text_never_crashes(line: str) -> None:
    with contextlib.suppress(ParseError):
        parse_json_line(line)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_import_line_any_json_never_crashes(value: object) -> None:
    with contextlib.suppress(ParseError):
        parse_json_line(json.dumps(value))


@settings(max_examples=200, deadline=None)
@given(
    external_id=st.text(min_size=1, max_size=40).filter(lambda s: s.replace("\x00", "").strip() != ""),
    text=st.text(min_size=1, max_size=200).filter(lambda s: s.replace("\x00", "").strip() != ""),
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),  # noqa: DTZ001 - naive on purpose: the offset is drawn separately
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_valid_records_keep_their_meaning(
    external_id: str, text: str, moment: datetime, offset_minutes: int
) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    line = json.dumps({"id": external_id, "text": text, "created_at": aware.isoformat()})
    mention = parse_json_line(line)
    assert mention.external_id == external_id.strip().replace("\x00", "")
    assert mention.text == text.replace("\x00", "")  # NUL is dropped (PostgreSQL refuses it), nothing else
    assert mention.created_at.astimezone(UTC) == aware.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_catalog_any_document_never_crashes(value: object) -> None:
    with contextlib.suppress(CatalogError):
        catalog_parse({"services": value} if isinstance(value, list) else value)
