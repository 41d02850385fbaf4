"""`servicepulse export` / `servicepulse restore`: mentions with their analysis and corrections as JSON Lines.

The first line is the service catalogue, `{"catalog": {"services": [...]}}` (a catalogue file's fields plus
`sensitivity` and `target_score`): tags and corrections name services by id, so an export carries what they
mean and restores on its own into a new database. Then one line per mention, oldest first: the import fields
(`id`, `text`, `created_at`, `author`, `url`, `in_reply_to`, `lang`) plus `source`, `source_kind`, `author_id`,
`thread_id`, `raw`, `analysis` (the models' own answer, the effective labels and scores, and the post it is a
near-duplicate of, `duplicate_of`, with `duplicate_of_source` when that post is another source's) and `corrections`
(each with its `field` and `value`, when it was made, `at`, and the user name of who made it, `by`; one put
back to the models' reading also has when and by whom, `reverted_at` and `reverted_by`, and is restored as
such: on record, not in force).

Restoring creates the services of the export's catalogue that the database lacks (those it has are left as
they are: nothing is overwritten or deleted), then the mentions. Restoring an export into a new database gives
back exactly what was exported (export → restore → export is byte-identical), and restoring twice changes
nothing. An export without a catalogue line (made before it had one) that names services the database lacks is
refused before anything is written, unless the caller accepts restoring without them.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch

from servicepulse.analysis.models import Correction, CorrectionField, MentionAnalysis, Sentiment
from servicepulse.analysis.services import CorrectionError, analysis_save, correction_create
from servicepulse.catalog.document import CatalogError, catalog_parse
from servicepulse.catalog.models import Service
from servicepulse.catalog.selectors import catalog_document
from servicepulse.catalog.services import service_save
from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import MentionData, mentions_ingest, quarantine_add
from servicepulse.sources.connectors.file_import.parse import ParseError, parse_timestamp
from servicepulse.sources.models import Source, SourceKind
from servicepulse.sources.services import SourceConfigError, source_get_or_create

BATCH = 500
CATALOG_KEY = "catalog"
SOURCE_NAME_MAX = Source._meta.get_field("name").max_length or 200
LOAD_CATALOG_HINT = (
    "load the catalogue first (`servicepulse catalog load FILE.yaml`; `servicepulse catalog export -o FILE.yaml` "
    "writes it from the database the export came from)"
)


def export_catalog() -> dict[str, Any]:
    """The service catalogue as the export's first line holds it: a catalogue document with each service's
    detection sensitivity and score target besides."""
    return catalog_document(with_detection=True)


def _analysis_record(analysis: MentionAnalysis | None, *, source_id: int) -> dict[str, Any] | None:
    if analysis is None:
        return None
    duplicate = analysis.duplicate_of
    record = {
        "model_output": analysis.model_output,
        "complaint": analysis.complaint,
        "complaint_score": analysis.complaint_score,
        "sentiment": analysis.sentiment,
        "sentiment_score": analysis.sentiment_score,
        "spam": analysis.spam,
        "spam_score": analysis.spam_score,
        "services": analysis.service_ids,
        "language": analysis.language,
        "model_version": analysis.model_version,
        "duplicate_of": duplicate.external_id if duplicate is not None else None,
    }
    if duplicate is not None and duplicate.source_id != source_id:
        # Only then (a post of another source): exports of same-source duplicates are unchanged.
        record["duplicate_of_source"] = duplicate.source.name
    return record


def export_records(*, source: Source | None = None) -> Iterator[dict[str, Any]]:
    qs = Mention.objects.select_related(
        "source", "analysis", "analysis__duplicate_of__source"
    ).prefetch_related(
        "analysis__tags",
        Prefetch("corrections", queryset=Correction.objects.select_related("user", "reverted_by")),
    )
    if source is not None:
        qs = qs.filter(source=source)
    for mention in qs.order_by("created_at", "id").iterator(chunk_size=BATCH):
        analysis = getattr(mention, "analysis", None)
        corrections = sorted(mention.corrections.all(), key=lambda c: (c.created_at, c.pk))
        yield {
            "id": mention.external_id,
            "text": mention.text,
            "created_at": mention.created_at.isoformat(),
            "author": mention.author,
            "author_id": mention.author_id,
            "url": mention.url,
            "in_reply_to": mention.in_reply_to,
            "thread_id": mention.thread_id,
            "lang": mention.language,
            "source": mention.source.name,
            "source_kind": mention.source.kind,
            "raw": mention.raw,
            "analysis": _analysis_record(analysis, source_id=mention.source_id),
            # Who made each correction and when, so a restored database still says who corrected what.
            "corrections": [_correction_record(c) for c in corrections],
        }


def _correction_record(correction: Correction) -> dict[str, Any]:
    record = {
        "field": correction.field,
        "value": correction.value,
        "at": correction.created_at.isoformat(),
        "by": correction.user.get_username() if correction.user is not None else None,
    }
    if correction.reverted_at is not None:  # only then: exports of labels never put back are unchanged
        reverter = correction.reverted_by
        record["reverted_at"] = correction.reverted_at.isoformat()
        record["reverted_by"] = reverter.get_username() if reverter is not None else None
    return record


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def export_write(handle: IO[str] | Any, *, source: Source | None = None) -> int:
    """Write the export to `handle` (a text file, or a management command's stdout): the catalogue line,
    then the mentions. Returns the number of mentions written."""
    handle.write(_line({CATALOG_KEY: export_catalog()}))
    count = 0
    for record in export_records(source=source):
        handle.write(_line(record))
        count += 1
    return count


# -- restore -------------------------------------------------------------------------------------------------


class RestoreRefused(ValueError):
    """The export cannot be restored into this database as it stands; nothing was written. One line."""


@dataclass
class RestoreReport:
    restored: int = 0  # mentions stored
    duplicates: int = 0  # mentions the database already had (their lines change nothing)
    rejected: int = 0  # lines kept out whole, in quarantine with their reason
    parts_quarantined: int = 0  # analyses and corrections in quarantine, their (valid) mention stored
    services_added: int = 0  # services of the export's catalogue this database lacked
    missing_service_refs: int = 0  # tags and corrections naming a service the catalogue lacks: not stored
    missing_services: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # "line N[ (part)]: reason", in file order

    def as_dict(self) -> dict[str, int]:
        return {
            "restored": self.restored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "parts_quarantined": self.parts_quarantined,
            "services_added": self.services_added,
            "missing_service_refs": self.missing_service_refs,
        }


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _decode(line: str) -> Any:
    """One line as JSON; ParseError saying why not (NaN and Infinity are not JSON: no JSON column holds them)."""
    try:
        return json.loads(line, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:  # NaN, or an integer of more digits than Python converts
        raise ParseError(f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ParseError("not valid JSON (nested too deeply)") from None


def _is_catalog_line(record: Any) -> bool:
    return isinstance(record, dict) and CATALOG_KEY in record and "id" not in record


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _mention(record: Any) -> MentionData:
    if not isinstance(record, dict):
        raise ParseError(f"expected a JSON object, got {type(record).__name__}")
    for name in ("id", "text", "created_at", "source", "source_kind"):
        if not isinstance(record.get(name), str) or not record[name]:
            raise ParseError(f"{name} must be a non-empty string")
    if record["source_kind"] not in SourceKind.values:
        raise ParseError(f"source_kind {_show(record['source_kind'])} is not a kind of source")
    if len(record["source"]) > SOURCE_NAME_MAX:
        raise ParseError(f"source is longer than {SOURCE_NAME_MAX} characters")
    try:
        return MentionData(
            external_id=record["id"],
            text=record["text"],
            created_at=parse_timestamp(record["created_at"]),
            author=str(record.get("author") or ""),
            author_id=str(record.get("author_id") or ""),
            url=str(record.get("url") or ""),
            in_reply_to=str(record.get("in_reply_to") or ""),
            thread_id=str(record.get("thread_id") or ""),
            language=str(record.get("lang") or ""),
            raw=raw if isinstance(raw := record.get("raw"), dict) else {},
        )
    except ValueError as exc:
        raise ParseError(str(exc)) from None


def _catalog_records(value: Any) -> list[dict[str, Any]]:
    """The export's catalogue: catalogue records with `sensitivity` and `target_score` (None: the default)."""
    records = catalog_parse(value, extra_keys=("sensitivity", "target_score"))
    for record, item in zip(records, value["services"], strict=True):
        sensitivity = item.get("sensitivity")
        if sensitivity is not None and (
            isinstance(sensitivity, bool) or not isinstance(sensitivity, int | float)
        ):
            raise CatalogError(f"{record['id']}: 'sensitivity' must be a number, got {_show(sensitivity)}")
        target = item.get("target_score")
        if target is not None and (
            isinstance(target, bool) or not isinstance(target, int) or abs(target) > 100
        ):
            raise CatalogError(f"{record['id']}: 'target_score' must be a whole number from -100 to 100")
        record["sensitivity"] = None if sensitivity is None else float(sensitivity)
        record["target_score"] = target
    return records


def _corrected_services(correction: Any) -> list[str]:
    """The service ids a well-formed services correction names (none for any other)."""
    if not isinstance(correction, dict) or correction.get("field") != CorrectionField.SERVICES:
        return []
    value = correction.get("value")
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else []


def _service_refs(record: dict[str, Any]) -> set[str]:
    """The services a line's well-formed analysis and corrections name."""
    refs: set[str] = set()
    if record.get("analysis") is not None:
        with contextlib.suppress(ValueError):  # a malformed analysis goes to quarantine whatever it names
            refs.update(s for s, _ in _analysis_answer(record["analysis"])["services"])
    corrections = record.get("corrections")
    for correction in corrections if isinstance(corrections, list) else []:
        refs.update(_corrected_services(correction))
    return refs


@dataclass
class _Scan:
    catalog_line: int | None = None
    catalog: list[dict[str, Any]] = field(default_factory=list)
    service_refs: set[str] = field(default_factory=set)


def _scan(path: Path) -> _Scan:
    """Read the export once without writing: its catalogue line, and the services its valid lines name."""
    scan = _Scan()
    first = True
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = _decode(line)
            except ParseError:
                first = False
                continue
            if first and _is_catalog_line(record):
                try:
                    scan.catalog = _catalog_records(record[CATALOG_KEY])
                except CatalogError as exc:
                    raise RestoreRefused(
                        f"line {number}: the export's catalogue is not valid ({exc}); nothing was restored"
                    ) from None
                scan.catalog_line = number
            else:
                try:
                    _mention(record)
                except ParseError:
                    pass  # quarantined as a whole by the restore: it names nothing
                else:
                    scan.service_refs |= _service_refs(record)
            first = False
    return scan


@transaction.atomic
def _catalog_restore(records: list[dict[str, Any]]) -> int:
    """Create the export's services this database lacks; those it has are left as they are."""
    have = set(Service.objects.filter(id__in=[r["id"] for r in records]).values_list("id", flat=True))
    added = 0
    for record in records:
        if record["id"] in have:
            continue
        try:
            service_save(
                service_id=record["id"], name=record["name"], aliases=record["aliases"],
                description=record["description"], examples=record["examples"], team=record["team"],
                public=record["public"], sensitivity=record["sensitivity"], target_score=record["target_score"],
            )  # fmt: skip
        except CatalogError as exc:
            raise RestoreRefused(
                f"the export's catalogue is not valid ({exc}); nothing was restored"
            ) from None
        added += 1
    return added


def _score(analysis: dict[str, Any], name: str, problems: list[str]) -> float:
    value = analysis.get(name)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{name} must be a number, got {_show(value)}")
        return 0.0
    return float(value)


def _text(analysis: dict[str, Any], name: str, problems: list[str]) -> str:
    value = analysis.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{name} must be a string, got {_kind(value)}")
        return ""
    return value


def _analysis_answer(analysis: Any) -> dict[str, Any]:
    """`analysis_save`'s arguments (but the mention and duplicate) from an export line's `analysis` object;
    ValueError naming everything wrong with it."""
    if not isinstance(analysis, dict):
        raise ValueError(f"analysis must be an object or null, got {_kind(analysis)}")
    problems: list[str] = []
    output = analysis.get("model_output")
    if output is None:
        output = {}
    elif not isinstance(output, dict):
        problems.append(f"model_output must be an object, got {_kind(output)}")
        output = {}

    def label(name: str, default: Any) -> Any:  # the models' own answer, else the effective label
        value = output.get(name, analysis.get(name))
        return default if value is None else value

    flags = {}
    for name in ("complaint", "spam"):
        value = label(name, False)
        if not isinstance(value, bool):
            problems.append(f"{name} must be true or false, got {_show(value)}")
        flags[name] = value is True
    sentiment = label("sentiment", Sentiment.NEUTRAL)
    if sentiment not in Sentiment.values:
        problems.append(f"sentiment must be one of {', '.join(Sentiment.values)}, got {_show(sentiment)}")
    services: list[tuple[str, float]] = []
    given = output.get("services")
    if given is not None and not isinstance(given, list):
        problems.append(
            f"model_output.services must be a list of [service id, confidence], got {_kind(given)}"
        )
    for index, pair in enumerate(given if isinstance(given, list) else []):
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and pair[0]
            and isinstance(pair[1], int | float)
            and not isinstance(pair[1], bool)
            and math.isfinite(pair[1])
        ):
            problems.append(
                f"model_output.services[{index}] must be [service id, confidence], got {_show(pair)}"
            )
            continue
        services.append((pair[0], float(pair[1])))
    answer = {
        **flags,
        "sentiment": sentiment,
        "complaint_score": _score(analysis, "complaint_score", problems),
        "sentiment_score": _score(analysis, "sentiment_score", problems),
        "spam_score": _score(analysis, "spam_score", problems),
        "services": services,
        "language": _text(analysis, "language", problems),
        "model_version": _text(analysis, "model_version", problems),
        "duplicate_of": _text(analysis, "duplicate_of", problems),
        "duplicate_of_source": _text(analysis, "duplicate_of_source", problems),
    }
    if problems:
        raise ValueError("; ".join(problems))
    return answer


def _duplicate_id(mention: Mention, external_id: str, *, source_name: str) -> int | None:
    """The restored post `mention` was found a near-duplicate of: in the source the export names (a post of
    another source), else in the mention's own. An export from before it named the other source gives only the
    id: then the one earlier post of any source with that id (none when several have it)."""
    if not external_id:
        return None
    posts = Mention.objects.filter(external_id=external_id)
    if source_name:
        return posts.filter(source__name=source_name).values_list("id", flat=True).first()
    same = posts.filter(source=mention.source).values_list("id", flat=True).first()
    if same is not None:
        return same
    elsewhere = list(posts.filter(created_at__lte=mention.created_at).values_list("id", flat=True)[:2])
    return elsewhere[0] if len(elsewhere) == 1 else None


def _correction_user(name: Any) -> User | None:
    """The account that made a restored correction, when this database has one of that name (else nobody:
    the label is kept, only its author is unknown)."""
    if not isinstance(name, str) or not name:
        return None
    return User.objects.filter(username=name).first()


def _correction_time(value: Any) -> datetime | None:
    """When a restored correction was made; None (now) for an export from before it was written, or a time
    that is not ISO 8601 with an offset."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _restore_parts(
    mention: Mention, record: dict[str, Any], *, known: set[str], report: RestoreReport
) -> list[tuple[str, str]]:
    """Store a new mention's analysis and corrections, each on its own: returns (part, reason) of those that
    cannot be stored, for quarantine. Tags of services the catalogue lacks are counted, not stored."""
    rejected: list[tuple[str, str]] = []
    analysis = record.get("analysis")
    if analysis is not None:
        try:
            answer = _analysis_answer(analysis)
        except ValueError as exc:
            rejected.append(("analysis", f"analysis not restored: {exc}"))
        else:
            missing = {s for s, _ in answer["services"]} - known
            report.missing_services |= missing
            report.missing_service_refs += len(missing)
            duplicate_id = _duplicate_id(
                mention, answer.pop("duplicate_of"), source_name=answer.pop("duplicate_of_source")
            )
            analysis_save(mention=mention, duplicate_of_id=duplicate_id, **answer)
    corrections = record.get("corrections")
    if corrections is not None and not isinstance(corrections, list):
        rejected.append(
            ("corrections", f"corrections not restored: expected a list, got {_kind(corrections)}")
        )
        corrections = []
    for index, correction in enumerate(corrections or [], start=1):
        part = f"correction {index}"
        if not (
            isinstance(correction, dict)
            and isinstance(correction.get("field"), str)
            and "value" in correction
        ):
            rejected.append((part, f"{part} not restored: expected an object with field and value"))
            continue
        missing = set(_corrected_services(correction)) - known
        if missing:
            report.missing_services |= missing
            report.missing_service_refs += 1
            names = ", ".join(sorted(missing))
            rejected.append((part, f"{part} not restored: the catalogue has no service {names}"))
            continue
        reverted_at = _correction_time(correction.get("reverted_at"))
        if correction.get("reverted_at") is not None and reverted_at is None:
            # Restored in force, it would silently undo the analyst who put the label back.
            rejected.append(
                (part, f"{part} not restored: reverted_at is not an ISO 8601 time with a UTC offset")
            )
            continue
        try:
            correction_create(
                mention=mention,
                field=correction["field"],
                value=correction["value"],
                user=_correction_user(correction.get("by")),
                created_at=_correction_time(correction.get("at")),
                reverted_at=reverted_at,
                reverted_by=_correction_user(correction.get("reverted_by")),
            )
        except CorrectionError as exc:
            rejected.append((part, f"{part} not restored: {exc}"))
    return rejected


def restore_file(
    *, path: Path, allow_missing_services: bool = False, on_progress: Callable[[int], None] | None = None
) -> RestoreReport:
    """Restore an export: its catalogue's missing services, then its mentions with their analysis and
    corrections. A line that is not a mention goes to quarantine with its line number and reason; a valid
    mention is kept even when its analysis or a correction is malformed (that part goes to quarantine).
    Re-running adds nothing.

    Raises RestoreRefused, having written nothing, when the catalogue line is malformed, or when the lines
    name services neither the database nor the export's catalogue has (unless `allow_missing_services`:
    those tags and corrections are then counted and left out, the corrections in quarantine)."""
    scan = _scan(path)
    known = set(Service.objects.values_list("id", flat=True)) | {r["id"] for r in scan.catalog}
    missing = sorted(scan.service_refs - known)
    if missing and not allow_missing_services:
        raise RestoreRefused(
            f"the export names {len(missing)} service(s) this database's catalogue lacks: {', '.join(missing)}; "
            f"{LOAD_CATALOG_HINT}, or pass --allow-missing-services to restore without their tags and corrections"
        )
    report = RestoreReport()
    report.services_added = _catalog_restore(scan.catalog)
    known = set(Service.objects.values_list("id", flat=True))
    sources: dict[str, Source] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or number == scan.catalog_line:
                continue
            raw = line.rstrip("\n")
            try:
                record = _decode(line)
                data = _mention(record)
                name = record["source"]
                if name not in sources:
                    sources[name] = source_get_or_create(kind=record["source_kind"], name=name)
            except (ParseError, SourceConfigError) as exc:
                quarantine_add(source=None, raw=raw, reason=str(exc), position=f"line {number}")
                report.rejected += 1
                report.problems.append(f"line {number}: {exc}")
                continue
            source = sources[name]
            with transaction.atomic():
                result = mentions_ingest(source=source, items=[data])
                if result.created:
                    mention = Mention.objects.select_related("source").get(pk=result.mention_ids[0])
                    for part, reason in _restore_parts(mention, record, known=known, report=report):
                        quarantine_add(
                            source=source, raw=raw, reason=reason, position=f"line {number} ({part})"
                        )
                        report.parts_quarantined += 1
                        report.problems.append(f"line {number} ({part}): {reason}")
            report.restored += result.created
            report.duplicates += result.duplicates
            if on_progress is not None:
                on_progress(number)
    return report
