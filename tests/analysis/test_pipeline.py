"""`analyze_texts`: every stage on plain texts with the committed heads, one result per text, in order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from servicepulse.analysis.ml import analyze_texts, model_version
from servicepulse.analysis.ml.tagging import CatalogTagger


def test_pipeline_reads_obvious_posts(encoder: Any, catalog: list[dict[str, Any]]) -> None:
    texts = [
        "@ITDesk moodle has been down for three hours and my assignment is due tonight. Useless, fix it now!",
        "Huge thanks to the service desk, the new eduroam setup in the library is brilliant, love it",
        "Check out my channel and subscribe!!! http://bit.ly/free-stuff free gift cards",
        "Le wifi de la bibliothèque ne marche plus depuis ce matin",
    ]
    results = analyze_texts(texts, catalog, keep_embeddings=True)
    complaint, praise, spam, french = results
    assert [r.text for r in results] == texts
    assert complaint.normalised.startswith("@user moodle")
    assert complaint.complaint and complaint.sentiment == "negative" and complaint.service_ids[0] == "vle"
    assert not praise.complaint and praise.sentiment == "positive" and praise.service_ids[0] == "wifi"
    assert spam.spam and spam.spam_score > 0.5 and not complaint.spam and not praise.spam
    assert french.language == "fr" and complaint.language == "en"
    for r in results:
        assert (
            0.0 <= r.complaint_score <= 1.0
            and 0.0 <= r.spam_score <= 1.0
            and -1.0 <= r.sentiment_score <= 1.0
        )
        assert r.sentiment in ("negative", "neutral", "positive")
        assert r.embedding is not None and np.isclose(np.linalg.norm(r.embedding), 1.0, atol=1e-4)
    assert model_version()


def test_asking_whether_a_service_is_down_is_a_complaint(encoder: Any) -> None:
    from servicepulse.analysis.ml.pipeline import OUTAGE_QUESTION_SCORE

    asked, how_to = analyze_texts(["is eduroam down?", "how do I connect to eduroam on linux?"])
    # The head alone reads the first as a neutral question (about 0.02).
    assert asked.complaint and asked.complaint_score >= OUTAGE_QUESTION_SCORE
    assert not how_to.complaint and how_to.complaint_score < 0.5


def test_pipeline_without_catalogue_and_with_prepared_tagger(
    encoder: Any, catalog: list[dict[str, Any]]
) -> None:
    text = ["the printers on floor two are jammed again"]
    assert analyze_texts(text)[0].services == []
    assert analyze_texts(text, CatalogTagger(catalog, encoder=encoder))[0].service_ids[0] == "printing"
    assert analyze_texts([]) == []
    assert analyze_texts(text)[0].embedding is None


def test_pipeline_batches_give_the_same_answers(encoder: Any) -> None:
    texts = [f"post number {i}: the vpn drops every {i} minutes" for i in range(7)]
    seen: list[int] = []
    small = analyze_texts(texts, batch_size=3, on_progress=seen.append)
    assert seen == [3, 3, 1]
    whole = analyze_texts(texts)
    assert [r.complaint_score for r in small] == pytest.approx([r.complaint_score for r in whole], abs=1e-3)


def test_pipeline_rejects_non_string_text(encoder: Any) -> None:
    with pytest.raises(TypeError, match="text #2 is not a string"):
        analyze_texts(["fine", None])  # type: ignore[list-item]
