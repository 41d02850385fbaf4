"""Writing analysis results and corrections. The only writer of MentionAnalysis and ServiceTag."""

from __future__ import annotations

from collections.abc import Sequence
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


def _latest_corrections(mention_id: int) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for field, value in (
        Correction.objects.filter(mention_id=mention_id)
        .order_by("created_at", "id")
        .values_list("field", "value")
    ):
        latest[field] = value
    return latest


def _apply(analysis: MentionAnalysis, services: list[tuple[str, float]], corrections: dict[str, Any]) -> None:
    """Set the effective labels (model output overridden by corrections) and rewrite the service tags."""
    output = analysis.model_output
    analysis.complaint = corrections.get("complaint", output.get("complaint", False))
    analysis.sentiment = corrections.get("sentiment", output.get("sentiment", Sentiment.NEUTRAL))
    analysis.spam = corrections.get("spam", output.get("spam", False))
    if "services" in corrections:
        services = [(service_id, 1.0) for service_id in corrections["services"]]
    analysis.corrected = sorted(corrections)
    analysis.save()
    known = set(Service.objects.filter(id__in=[s for s, _ in services]).values_list("id", flat=True))
    ServiceTag.objects.filter(analysis=analysis).delete()
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
            for rank, (service_id, confidence) in enumerate(s for s in services if s[0] in known)
        ]
    )


@transaction.atomic
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
    """Store the models' answer for `mention` (one row per mention: re-analysing updates it), then re-apply
    any corrections analysts made, which always win."""
    services = [(str(s), float(c)) for s, c in services]
    analysis, _ = MentionAnalysis.objects.select_for_update().get_or_create(
        mention=mention, defaults={"created_at": mention.created_at, "analysed_at": timezone.now()}
    )
    analysis.created_at = mention.created_at
    analysis.complaint_score = float(complaint_score)
    analysis.sentiment_score = float(sentiment_score)
    analysis.spam_score = float(spam_score)
    analysis.language = language[:16]
    analysis.model_version = model_version[:64]
    analysis.duplicate_of_id = duplicate_of_id
    analysis.analysed_at = timezone.now()
    analysis.model_output = {
        "complaint": bool(complaint),
        "sentiment": sentiment,
        "spam": bool(spam),
        "services": [[s, c] for s, c in services],
    }
    _apply(analysis, list(services), _latest_corrections(mention.pk))
    return analysis


@transaction.atomic
def correction_create(
    *, mention: Mention, field: str, value: Any, user: AbstractBaseUser | AnonymousUser | None = None
) -> Correction:
    """Record an analyst's label; it overrides the model for this mention at once."""
    value = _clean_correction(field, value)
    author = user if isinstance(user, User) and user.is_authenticated else None
    correction = Correction.objects.create(mention=mention, field=field, value=value, user=author)
    analysis, _ = MentionAnalysis.objects.select_for_update().get_or_create(
        mention=mention, defaults={"created_at": mention.created_at, "analysed_at": timezone.now()}
    )
    model_services = [(s, float(c)) for s, c in analysis.model_output.get("services", [])]
    _apply(analysis, model_services, _latest_corrections(mention.pk))
    return correction


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
    from servicepulse.sources.models import Audience

    version = model_version()
    qs = Mention.objects.filter(pk__in=list(mention_ids), source__audience=Audience.USERS)
    if not force:
        qs = qs.exclude(analysis__model_version=version)
    mentions = list(qs.order_by("created_at", "id"))
    if not mentions:
        return 0
    results = analyze_texts([m.text for m in mentions], _tagger(), keep_embeddings=True)
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
    for mention, result, duplicate in zip(mentions, results, duplicates, strict=True):
        services = list(result.services)
        chosen = _chosen_service(mention)
        if chosen in known:
            services = [(chosen, 1.0)] + [(s, c) for s, c in services if s != chosen]
        analysis_save(
            mention=mention,
            complaint=result.complaint,
            complaint_score=result.complaint_score,
            sentiment=result.sentiment,
            sentiment_score=result.sentiment_score,
            spam=result.spam,
            spam_score=result.spam_score,
            services=services,
            language=mention.language or result.language,
            model_version=version,
            duplicate_of_id=pool_ids[duplicate] if duplicate is not None else None,
        )
    return len(mentions)
