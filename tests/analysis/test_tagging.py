"""Service tagging from the catalogue alone: aliases (case, accents, hashtags, misspellings), similarity,
none when nothing is close, several services, and catalogue edits without retraining."""

from __future__ import annotations

from typing import Any

from servicepulse.analysis.ml.catalog_file import validate_records
from servicepulse.analysis.ml.tagging import CatalogTagger


def _ids(tagger: CatalogTagger, text: str) -> list[str]:
    return [s for s, _ in tagger.tag_texts([text])[0]]


def test_aliases_exact_case_accent_hashtag_and_misspelt(encoder: Any, catalog: list[dict[str, Any]]) -> None:
    records = validate_records([*catalog, {"id": "cafe", "name": "Café card", "aliases": ["café card"]}])
    tagger = CatalogTagger(records, encoder=encoder)
    assert tagger.alias_matches("MOODLE is down") == {0: 1.0}
    assert tagger.alias_matches("#Eduroam dead again") == {1: 1.0}
    assert tagger.alias_matches("my #PrintCredit vanished") == {2: 1.0}  # camelCase hashtag
    assert tagger.alias_matches("cafe card rejected") == {3: 1.0}  # accent-insensitive
    assert tagger.alias_matches("eduraom again") == {1: 0.7}  # transposition
    assert tagger.alias_matches("mooodle crashed") == {0: 0.7}
    assert tagger.alias_matches("the vpn is slow") == {}  # short aliases must match exactly: no "vle"


def test_tag_best_first_with_confidence(encoder: Any, catalog: list[dict[str, Any]]) -> None:
    tagger = CatalogTagger(catalog, encoder=encoder)
    tags = tagger.tag_texts(
        [
            "moodle logged me out while I was submitting my assignment",
            "cannot connect to the wireless network in my halls",
            "the printer ate my dissertation and moodle is down too",
            "what a lovely sunset over the lake tonight",
        ]
    )
    assert tags[0][0][0] == "vle" and 0.5 <= tags[0][0][1] <= 1.0
    assert tags[1][0][0] == "wifi"
    assert {"printing", "vle"} <= {s for s, _ in tags[2]}
    assert tags[3] == []  # nothing in the catalogue is close enough
    for row in tags:
        confidences = [c for _, c in row]
        assert all(0.0 <= c <= 1.0 for c in confidences)


def test_catalogue_edit_takes_effect_without_retraining(encoder: Any, catalog: list[dict[str, Any]]) -> None:
    text = "the timetable app shows my lectures at the wrong rooms"
    assert "timetabling" not in _ids(CatalogTagger(catalog, encoder=encoder), text)
    edited = [
        *catalog,
        {
            "id": "timetabling",
            "name": "Timetabling",
            "aliases": ["timetable"],
            "description": "personal timetables of lectures and rooms",
            "examples": ["my timetable is empty this week"],
        },
    ]
    assert _ids(CatalogTagger(edited, encoder=encoder), text)[0] == "timetabling"


def test_empty_catalogue_tags_nothing(encoder: Any) -> None:
    assert CatalogTagger([], encoder=encoder).tag_texts(["moodle is down", ""]) == [[], []]
