"""`servicepulse train [--data ../shared/data] [--output DIR]`: retrain the classifier heads from the
development data plus every analyst correction stored in the database, cross-validate them, and write the
artifacts (by default over the committed ones, `servicepulse/analysis/artifacts/`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

if TYPE_CHECKING:
    from tqdm import tqdm


class Command(BaseCommand):
    needs_migrated_database = False  # only for corrections, and _corrections() says what to do
    help = "Retrain the complaint, sentiment and spam heads from the development data and stored corrections."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", default="../shared/data", help="development data directory")
        parser.add_argument("--output", help="artifact directory (default: the package's artifacts)")
        parser.add_argument("--no-eval", action="store_true", help="skip cross-validation")
        parser.add_argument(
            "--no-corrections", action="store_true", help="ignore corrections in the database"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from servicepulse.analysis.ml.artifacts import artifacts_dir
        from servicepulse.analysis.ml.datasets import DataMissing
        from servicepulse.analysis.ml.training import train_heads
        from servicepulse.core.progress import progress_bar

        data = Path(options["data"])
        out = Path(options["output"]) if options["output"] else artifacts_dir()
        if options["no_corrections"]:
            corrections: list[Any] = []
            self.stderr.write("training without the corrections in the database (--no-corrections)")
        else:
            analysts, moderation, services = _corrections()
            corrections = analysts + moderation
            self.stderr.write(_corrections_said(analysts, moderation, services))
        bars: list[tqdm] = []  # the encoding bar, opened when the number of texts is known

        def encoding(done: int, total: int) -> None:
            if not bars:
                bars.append(progress_bar(total=total, desc="encoding", unit="texts"))
            bars[0].update(done - bars[0].n)

        try:
            heads = train_heads(
                data,
                out_dir=out,
                corrections=corrections,
                evaluate=not options["no_eval"],
                progress=lambda msg: self.stderr.write(msg),
                encoding_progress=encoding,
            )
        except DataMissing as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for bar in bars:
                bar.close()
        self.stdout.write(
            json.dumps({"version": heads.version, "cross_validation": heads.meta["cross_validation"]})
        )


def _corrections_said(analysts: list[Any], moderation: list[Any], services: int) -> str:
    """What the training learns from the database, in one line: the analysts' corrections by label (what
    they count and recognise), the blog moderators' decisions apart, and the services corrections it leaves
    to the catalogue."""
    by_task = {
        task: sum(1 for c in analysts if c.task == task) for task in ("complaint", "sentiment", "spam")
    }
    detail = ", ".join(f"{task} {n}" for task, n in by_task.items() if n)
    said = f"training with {len(analysts)} analyst correction(s)" + (f" ({detail})" if detail else "")
    said += f" and {len(moderation)} blog moderation decision(s) from the database"
    if services:
        said += (
            f"; {services} post(s) with corrected services are not trained on: services come from the "
            "catalogue (add aliases or examples there)"
        )
    return said


def _corrections() -> tuple[list[Any], list[Any], int]:
    """The latest correction per (mention, field) for the classifier fields and the blog moderators' latest
    approve/spam decision per comment, as labelled texts; and how many posts have corrected services."""
    from django.db.utils import DatabaseError

    from servicepulse.analysis.ml.training import LabelledText
    from servicepulse.analysis.models import Correction, CorrectionField
    from servicepulse.blog.selectors import moderation_decisions_for_training

    latest: dict[tuple[int, str], tuple[str, Any]] = {}
    try:
        rows = (
            # Reverted corrections (put back to the models' reading) are kept for the record, not learnt.
            Correction.objects.filter(
                field__in=[CorrectionField.COMPLAINT, CorrectionField.SENTIMENT, CorrectionField.SPAM],
                reverted_at__isnull=True,
            )
            .order_by("created_at", "id")
            .values_list("mention_id", "field", "value", "mention__text")
        )
        for mention_id, field, value, text in rows:
            latest[(mention_id, field)] = (text, value)
        # Blog moderators' approve/spam decisions teach the spam head too (the command gathers every app's
        # labels).
        moderation = moderation_decisions_for_training()
        services = (
            Correction.objects.filter(field=CorrectionField.SERVICES, reverted_at__isnull=True)
            .values("mention_id")
            .distinct()
            .count()
        )
    except DatabaseError as exc:
        raise CommandError(
            f"cannot read corrections ({exc.__class__.__name__}); run `servicepulse manage migrate` or use "
            "--no-corrections"
        ) from exc
    analysts = []
    for (_, field), (text, value) in latest.items():
        label = int(bool(value)) if field in (CorrectionField.COMPLAINT, CorrectionField.SPAM) else value
        analysts.append(LabelledText(text=text, task=str(field), label=label))
    decisions = [LabelledText(text=text, task="spam", label=int(is_spam)) for text, is_spam in moderation]
    return analysts, decisions, services
