"""Writing analysis results and corrections. The only writer of MentionAnalysis and ServiceTag."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from servicepulse.analysis.models import Correction, CorrectionField, MentionAnalysis, Sentiment, ServiceTag
from servicepulse.catalog.models import Service
from servicepulse.mentions.models import Mention


class CorrectionError(ValueError):
    """A correction's value does not fit its field."""


def _clean_correction(field: str, value: Any) -> Any:
    if field in (CorrectionField.COMPLAINT, CorrectionField.SPAM):
        if not isinstance(value, bool):
            raise CorrectionError(f"{field} must be true or false")
        return value
    if field == CorrectionField.SENTIMENT:
        if value not in Sentiment.values:
            raise CorrectionError(f"sentiment must be one of {', '.join(Sentiment.values)}")
        return value
    if field == CorrectionField.SERVICES:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise CorrectionError("services must be a list of service ids")
        unknown = sorted(set(value) - set(Service.objects.filter(id__in=value).values_list("id", flat=True)))
        if unknown:
            raise CorrectionError(f"unknown service id(s): {', '.join(unknown)}")
        return list(dict.fromkeys(value))
    raise CorrectionError(f"{field!r} cannot be corrected (choose {', '.join(CorrectionField.values)})")


def _latest_corrections(mention_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The latest correction in force per field of each mention (reverted ones are left out), in one query."""
    latest: dict[int, dict[str, Any]] = {}
    for mention_id, field, value in (
        Correction.objects.filter(mention_id__in=list(mention_ids), reverted_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("mention_id", "field", "value")
    ):
        latest.setdefault(mention_id, {})[field] = value
    return latest


ANALYSIS_FIELDS = (
    "created_at",
    "complaint",
    "complaint_score",
    "sentiment",
    "sentiment_score",
    "spam",
    "spam_score",
    "language",
    "duplicate_of",
    "corrected",
    "model_output",
    "model_version",
    "analysed_at",
)


def _apply(analyses: Sequence[MentionAnalysis], corrections: dict[int, dict[str, Any]]) -> None:
    """Set the effective labels (the models' output overridden by analysts' corrections), store the rows and
    rewrite their service tags: a fixed handful of queries however many analyses there are."""
    model_services: dict[int, list[tuple[str, float]]] = {}
    for analysis in analyses:
        output = analysis.model_output
        mine = corrections.get(analysis.pk, {})
        analysis.complaint = mine.get("complaint", output.get("complaint", False))
        analysis.sentiment = mine.get("sentiment", output.get("sentiment", Sentiment.NEUTRAL))
        analysis.spam = mine.get("spam", output.get("spam", False))
        analysis.corrected = sorted(mine)
        if "services" in mine:
            model_services[analysis.pk] = [(service_id, 1.0) for service_id in mine["services"]]
        else:
            model_services[analysis.pk] = [(str(s), float(c)) for s, c in output.get("services", [])]
    # One INSERT .. ON CONFLICT UPDATE: bulk_update's CASE expressions cost more than the models here.
    MentionAnalysis.objects.bulk_create(
        analyses, update_conflicts=True, unique_fields=["mention"], update_fields=ANALYSIS_FIELDS
    )
    wanted = {service_id for services in model_services.values() for service_id, _ in services}
    known = set(Service.objects.filter(id__in=wanted).values_list("id", flat=True))
    ServiceTag.objects.filter(analysis__in=[a.pk for a in analyses]).delete()
    ServiceTag.objects.bulk_create(
        [
            ServiceTag(
                analysis=analysis,
                service_id=service_id,
                confidence=confidence,
                rank=rank,
                created_at=analysis.created_at,
                complaint=analysis.complaint,
                sentiment=analysis.sentiment,
                spam=analysis.spam,
            )
            for analysis in analyses
            for rank, (service_id, confidence) in enumerate(
                s for s in model_services[analysis.pk] if s[0] in known
            )
        ]
    )


def _locked_analyses(mentions: Sequence[Mention]) -> dict[int, MentionAnalysis]:
    """The analysis row of each mention, created when missing, locked for this transaction (two workers
    given the same mention write one after the other, into the same row)."""
    now = timezone.now()
    MentionAnalysis.objects.bulk_create(
        [MentionAnalysis(mention=m, created_at=m.created_at, analysed_at=now) for m in mentions],
        ignore_conflicts=True,
    )
    rows = MentionAnalysis.objects.select_for_update().filter(mention__in=[m.pk for m in mentions])
    return {row.pk: row for row in rows.order_by("pk")}


@dataclass(frozen=True)
class ModelAnswer:
    """The models' reading of one mention, as `analyses_save` stores it."""

    mention: Mention
    complaint: bool
    complaint_score: float
    sentiment: str
    sentiment_score: float
    spam: bool
    spam_score: float
    services: Sequence[tuple[str, float]]
    language: str = ""
    model_version: str = ""
    duplicate_of_id: int | None = None


@transaction.atomic
def analyses_save(answers: Sequence[ModelAnswer]) -> list[MentionAnalysis]:
    """Store the models' answers (one row per mention: re-analysing updates it), then re-apply any
    corrections analysts made, which always win. A batch costs a fixed number of queries."""
    if not answers:
        return []
    rows = _locked_analyses([answer.mention for answer in answers])
    now = timezone.now()
    analyses = []
    for answer in answers:
        analysis = rows[answer.mention.pk]
        services = [(str(s), float(c)) for s, c in answer.services]
        analysis.created_at = answer.mention.created_at
        analysis.complaint_score = float(answer.complaint_score)
        analysis.sentiment_score = float(answer.sentiment_score)
        analysis.spam_score = float(answer.spam_score)
        analysis.language = answer.language[:16]
        analysis.model_version = answer.model_version[:64]
        analysis.duplicate_of_id = answer.duplicate_of_id
        analysis.analysed_at = now
        analysis.model_output = {
            "complaint": bool(answer.complaint),
            "sentiment": answer.sentiment,
            "spam": bool(answer.spam),
            "services": [[s, c] for s, c in services],
        }
        analyses.append(analysis)
    _apply(analyses, _latest_corrections(list(rows)))
    return analyses


def analysis_save(
    *,
    mention: Mention,
    complaint: bool,
    complaint_score: float,
    sentiment: str,
    sentiment_score: float,
    spam: bool,
    spam_score: float,
    services: Sequence[tuple[str, float]],
    language: str = "",
    model_version: str = "",
    duplicate_of_id: int | None = None,
) -> MentionAnalysis:
    """Store the models' answer for one mention (`analyses_save` of one)."""
    answer = ModelAnswer(
        mention=mention,
        complaint=complaint,
        complaint_score=complaint_score,
        sentiment=sentiment,
        sentiment_score=sentiment_score,
        spam=spam,
        spam_score=spam_score,
        services=services,
        language=language,
        model_version=model_version,
        duplicate_of_id=duplicate_of_id,
    )
    return analyses_save([answer])[0]


@transaction.atomic
def correction_create(
    *,
    mention: Mention,
    field: str,
    value: Any,
    user: AbstractBaseUser | AnonymousUser | None = None,
    created_at: datetime | None = None,
    reverted_at: datetime | None = None,
    reverted_by: AbstractBaseUser | AnonymousUser | None = None,
) -> Correction:
    """Record an analyst's label; it overrides the model for this mention at once. `created_at` is for a
    correction made earlier (a restored export keeps when it was made, and so which one is the latest), and
    `reverted_at` (with `reverted_by`) for one that had since been put back to the models' reading (a
    restored export keeps it in the trail, not in force)."""
    value = _clean_correction(field, value)
    correction = Correction.objects.create(mention=mention, field=field, value=value, user=_author(user))
    moments: dict[str, Any] = {}
    if created_at is not None:
        moments["created_at"] = created_at  # auto_now_add ignores a value given to create()
    if reverted_at is not None:
        moments.update(reverted_at=reverted_at, reverted_by=_author(reverted_by))
    if moments:
        Correction.objects.filter(pk=correction.pk).update(**moments)
        for name, moment in moments.items():
            setattr(correction, name, moment)
    analysis = _locked_analyses([mention])[mention.pk]
    _apply([analysis], _latest_corrections([mention.pk]))
    return correction


def _author(user: AbstractBaseUser | AnonymousUser | None) -> User | None:
    return user if isinstance(user, User) and user.is_authenticated else None


@transaction.atomic
def correction_revert(
    *,
    mention: Mention,
    field: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    reverted_at: datetime | None = None,
) -> int:
    """Put one label of a mention back to the models' reading: every correction of `field` in force is marked
    as reverted by `user` at `reverted_at` (now by default); none is deleted, so who corrected it and who put
    it back stay on record. The effective label and the service tags follow at once, as for a correction;
    `servicepulse train` no longer learns from the reverted corrections, and a later correction is in force
    again. Returns how many corrections were in force (0: the label was already the models' reading)."""
    if field not in CorrectionField.values:
        raise CorrectionError(f"{field!r} cannot be corrected (choose {', '.join(CorrectionField.values)})")
    in_force = Correction.objects.filter(mention=mention, field=field, reverted_at__isnull=True)
    if not in_force.exists():
        return 0
    # Locked before the corrections change: a correction made meanwhile re-applies the labels after this.
    analysis = _locked_analyses([mention])[mention.pk]
    reverted = in_force.update(reverted_at=reverted_at or timezone.now(), reverted_by=_author(user))
    _apply([analysis], _latest_corrections([mention.pk]))
    return reverted


# --- running the pipeline on stored mentions ------------------------------------------------------------

_taggers: dict[str, Any] = {}
RECENT_FOR_DUPLICATES = 200  # earlier posts of the same source a new post is compared with


def _tagger() -> Any:
    """A catalogue tagger for the current catalogue; an edit makes a new one (no retraining needed)."""
    import hashlib
    import json

    from servicepulse.analysis.ml.tagging import CatalogTagger
    from servicepulse.catalog.selectors import catalog_as_records

    records = catalog_as_records()
    key = hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()
    tagger = _taggers.get(key)
    if tagger is None:
        _taggers.clear()
        tagger = _taggers[key] = CatalogTagger(records)
    return tagger


def _chosen_service(mention: Mention) -> str | None:
    """A service the person chose themselves (the report-a-problem widget stores it in the payload)."""
    raw = mention.raw if isinstance(mention.raw, dict) else {}
    value = raw.get("service_id")
    return value if isinstance(value, str) and value else None


def _reported_problem(mention: Mention) -> bool:
    """A report from the report-a-problem widget: the person said there is a problem, whatever the wording
    of the sentence they added (often none: "Wi-Fi and eduroam — not working")."""
    raw = mention.raw if isinstance(mention.raw, dict) else {}
    return mention.source.kind == "widget" and isinstance(raw.get("problem"), str)


REPLY_INHERITS = 0.8  # confidence kept by what a reply takes from its parent or thread root


@dataclass
class _Thread:
    """What a reply may take from the post it answers: its services (best first, with confidence) and its
    complaint score when it was read as a complaint."""

    services: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    complaint_score: float | None = None


def _thread_posts(mentions: Sequence[Mention]) -> dict[tuple[int, str], _Thread]:
    """The parents and thread roots of these mentions that are already analysed, keyed by (source, external
    id); `mentions_analyze` adds the batch's own mentions as they get analysed."""
    wanted = {(m.source_id, ref) for m in mentions for ref in (m.in_reply_to, m.thread_id) if ref}
    if not wanted:
        return {}
    in_sources = {
        "mention__source__in": {source for source, _ in wanted},
        "mention__external_id__in": {ref for _, ref in wanted},
    }
    found: dict[tuple[int, str], _Thread] = {}
    analyses = MentionAnalysis.objects.filter(**in_sources).values_list(
        "mention__source_id", "mention__external_id", "complaint", "complaint_score"
    )
    for source_id, external_id, complaint, score in analyses:
        if (source_id, external_id) in wanted:
            found[(source_id, external_id)] = _Thread(complaint_score=score if complaint else None)
    tags = (
        ServiceTag.objects.filter(**{f"analysis__{k}": v for k, v in in_sources.items()})
        .order_by("rank")
        .values_list(
            "analysis__mention__source_id", "analysis__mention__external_id", "service_id", "confidence"
        )
    )
    for source_id, external_id, service_id, confidence in tags:
        if (source_id, external_id) in found:
            found[(source_id, external_id)].services.append((service_id, confidence))
    return found


def _thread_of(mention: Mention, known: dict[tuple[int, str], _Thread]) -> _Thread | None:
    """The analysed post this reply answers, else its thread root."""
    for ref in (mention.in_reply_to, mention.thread_id):
        if ref and (mention.source_id, ref) in known:
            return known[(mention.source_id, ref)]
    return None


def mentions_analyze(*, mention_ids: Sequence[int], force: bool = False) -> int:
    """Run the understanding pipeline on these mentions and store the results.

    Mentions already analysed by the current models are skipped unless `force` (so a task delivered twice,
    or requeued after a worker died, costs nothing); after `servicepulse train` the new models' version
    differs and they are analysed again. Mentions of peer sources (the learning digest's) are not analysed.
    Returns how many were analysed.
    """
    from servicepulse.analysis.ml.duplicates import find_near_duplicates
    from servicepulse.analysis.ml.normalise import normalise
    from servicepulse.analysis.ml.pipeline import analyze_texts, model_version
    from servicepulse.analysis.ml.replies import is_me_too
    from servicepulse.sources.models import Audience

    version = model_version()
    qs = Mention.objects.filter(pk__in=list(mention_ids), source__audience=Audience.USERS)
    if not force:
        qs = qs.exclude(analysis__model_version=version)
    mentions = list(qs.select_related("source").order_by("created_at", "id"))
    if not mentions:
        return 0
    tagger = _tagger()
    results = analyze_texts([m.text for m in mentions], tagger, keep_embeddings=True)
    known = set(Service.objects.values_list("id", flat=True))
    # Near-duplicates: against the same sources' recent posts, then earlier posts in this batch.
    earlier = list(
        Mention.objects.filter(
            source__in={m.source_id for m in mentions}, created_at__lt=mentions[0].created_at
        )
        .exclude(pk__in=[m.pk for m in mentions])
        .order_by("-created_at")
        .values_list("id", "text")[:RECENT_FOR_DUPLICATES]
    )
    duplicates = find_near_duplicates(
        [r.normalised for r in results], earlier_texts=[normalise(text) for _, text in earlier]
    )
    pool_ids = [mention_id for mention_id, _ in earlier] + [m.pk for m in mentions]
    threads = _thread_posts(mentions)
    answers = []
    for mention, result, duplicate in zip(mentions, results, duplicates, strict=True):
        services = list(result.services)
        chosen = _chosen_service(mention)
        if chosen in known:
            services = [(chosen, 1.0)] + [(s, c) for s, c in services if s != chosen]
        complaint, complaint_score = result.complaint, result.complaint_score
        if _reported_problem(mention):
            complaint, complaint_score = True, 1.0
        thread = _thread_of(mention, threads) if mention.in_reply_to or mention.thread_id else None
        if thread is not None:
            if thread.services and chosen not in known and not tagger.alias_matches(result.normalised):
                # A reply that names no service is about its thread's topic ("same here", "try logging out
                # and in again"), whatever it resembles on its own: the tagger's guess for a short answer is
                # wrong more often than right (59 % of the demo's answers).
                services = [(s, round(c * REPLY_INHERITS, 4)) for s, c in thread.services]
            if not complaint and thread.complaint_score is not None and is_me_too(result.normalised):
                # Agreeing under a complaint is that person's complaint too (counted once per person).
                complaint = True
                complaint_score = max(complaint_score, thread.complaint_score)
        # A later reply in this batch may need them.
        threads[(mention.source_id, mention.external_id)] = _Thread(
            services=services, complaint_score=complaint_score if complaint else None
        )
        answers.append(
            ModelAnswer(
                mention=mention,
                complaint=complaint,
                complaint_score=complaint_score,
                sentiment=result.sentiment,
                sentiment_score=result.sentiment_score,
                spam=result.spam,
                spam_score=result.spam_score,
                services=services,
                language=mention.language or result.language,
                model_version=version,
                duplicate_of_id=pool_ids[duplicate] if duplicate is not None else None,
            )
        )
    analyses_save(answers)
    return len(mentions)
