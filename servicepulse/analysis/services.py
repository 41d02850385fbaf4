"""Writing analysis results and corrections. The only writer of MentionAnalysis and ServiceTag."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
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
        Correction.objects.filter(mention_id=mention_id).order_by("created_at", "id").values_list("field", "value")
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
    correction = Correction.objects.create(
        mention=mention, field=field, value=value, user=user if user is not None and user.is_authenticated else None
    )
    analysis, _ = MentionAnalysis.objects.select_for_update().get_or_create(
        mention=mention, defaults={"created_at": mention.created_at, "analysed_at": timezone.now()}
    )
    model_services = [(s, float(c)) for s, c in analysis.model_output.get("services", [])]
    _apply(analysis, model_services, _latest_corrections(mention.pk))
    return correction
