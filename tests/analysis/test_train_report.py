"""What `servicepulse train` says it learns from the database: the analysts' corrections by label (the latest
per post and label), the blog moderators' decisions apart from them, and the services corrections it leaves to
the catalogue, so an analyst can see their corrections counted."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from servicepulse.analysis.services import correction_create
from servicepulse.blog.models import ModerationDecision
from tests.factories import MentionFactory, ServiceFactory


def _said(tmp_path: Path, *args: str) -> str:
    """The command's stderr up to where it looks for the (here missing) development data."""
    err = StringIO()
    with pytest.raises(CommandError, match="development data directory not found"):
        call_command(
            "train", "--data", str(tmp_path / "none"), "--output", str(tmp_path / "o"), *args, stderr=err
        )
    return err.getvalue().strip()


@pytest.mark.django_db
def test_train_counts_the_analysts_corrections_apart_from_moderation(tmp_path: Path) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    post = MentionFactory(text="moodle logged me out again")
    correction_create(mention=post, field="complaint", value=True)
    correction_create(mention=post, field="complaint", value=False)  # re-corrected: one label, the latest
    correction_create(mention=post, field="sentiment", value="negative")
    correction_create(mention=MentionFactory(text="free followers"), field="spam", value=True)
    correction_create(mention=post, field="services", value=["vle"])
    ModerationDecision.objects.create(
        decision="spam", is_spam=True, previous_status="pending", kind="comment", text="cheap essays"
    )

    assert _said(tmp_path) == (
        "training with 3 analyst correction(s) (complaint 1, sentiment 1, spam 1) and 1 blog moderation "
        "decision(s) from the database; 1 post(s) with corrected services are not trained on: services come "
        "from the catalogue (add aliases or examples there)"
    )
    assert _said(tmp_path, "--no-corrections") == (
        "training without the corrections in the database (--no-corrections)"
    )
