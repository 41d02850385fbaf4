"""Service tagging from the catalogue alone: aliases (case, accents, hashtags, misspellings), similarity,
none when nothing is close, several services, and catalogue edits without retraining."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from servicepulse.analysis.ml.normalise import normalise
from servicepulse.analysis.ml.tagging import CatalogTagger
from servicepulse.catalog.document import catalog_parse


def _ids(tagger: CatalogTagger, text: str) -> list[str]:
    return [s for s, _ in tagger.tag_texts([text])[0]]


def test_aliases_exact_case_accent_hashtag_and_misspelt(encoder: Any, catalog: list[dict[str, Any]]) -> None:
    records = catalog_parse(
        {"services": [*catalog, {"id": "cafe", "name": "Café card", "aliases": ["café card"]}]}
    )
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
    tagger = CatalogTagger([], encoder=encoder)
    assert tagger.tag_texts(["moodle is down", ""]) == [[], []]
    assert tagger.discriminant(encoder.encode(["moodle is down"]).embeddings).shape == (1, 0)


def test_word_overlap_weighs_words_by_how_few_services_use_them(
    encoder: Any, catalog: list[dict[str, Any]]
) -> None:
    tagger = CatalogTagger(catalog, encoder=encoder)
    # "photocopier" is only in the printing entry (as "photocopiers": plurals and -ed/-ing are stripped)
    scores = tagger.word_overlap("the photocopier jammed halfway")
    assert scores.argmax() == 2 and 0.0 < scores[2] <= 1.0 and scores[0] == scores[1] == 0.0
    assert tagger.word_overlap("what a lovely sunset").tolist() == [0.0, 0.0, 0.0]
    # a word every service's entry uses says nothing about which one
    shared = [{**r, "description": r["description"] + " for students"} for r in catalog]
    assert CatalogTagger(shared, encoder=encoder).word_overlap("students").tolist() == [0.0, 0.0, 0.0]


def test_discriminant_is_fitted_to_the_catalogue_texts_alone(
    encoder: Any, catalog: list[dict[str, Any]]
) -> None:
    tagger = CatalogTagger(catalog, encoder=encoder)
    texts = [
        "my assignment upload failed on the course page",
        "no signal in my halls room",
        "out of print credit",
    ]
    log_p = tagger.discriminant(encoder.encode(texts).embeddings)
    assert log_p.shape == (3, 3)
    assert np.allclose(np.exp(log_p).sum(axis=1), 1.0, atol=1e-4)
    assert log_p.argmax(axis=1).tolist() == [0, 1, 2]
    # one service: nothing to tell apart, so the discriminant says nothing and the similarity decides
    single = CatalogTagger(catalog[:1], encoder=encoder)
    assert not single.discriminant(encoder.encode(texts).embeddings).any()
    assert _ids(single, "moodle is down again") == ["vle"]
    assert _ids(single, "what a lovely sunset over the lake tonight") == []


def test_second_service_only_when_nearly_as_likely(encoder: Any, catalog: list[dict[str, Any]]) -> None:
    tagger = CatalogTagger(catalog, encoder=encoder)
    texts = [
        "moodle logged me out while I was submitting my assignment",
        "eduroam and the printers are both down",
    ]
    one, two = tagger.tag_texts(texts)
    assert [s for s, _ in one] == ["vle"]
    assert {s for s, _ in two} == {"wifi", "printing"}  # both named
    rank, closeness = tagger.rank_scores(texts, encoder.encode(texts).embeddings)
    assert rank.shape == closeness.shape == (2, 3) and rank[0].argmax() == 0


def test_catalogue_of_names_only(encoder: Any) -> None:
    records = catalog_parse({"services": [{"id": "vle", "name": "Moodle"}, {"id": "wifi", "name": "Wi-Fi"}]})
    tagger = CatalogTagger(records, encoder=encoder)
    assert _ids(tagger, "moodle is down")[0] == "vle"
    assert _ids(tagger, "the wifi keeps dropping")[0] == "wifi"
    # two services: the discriminant still tells them apart (one log-odds split into two rows)
    log_p = tagger.discriminant(encoder.encode(["moodle course page", "wifi signal"]).embeddings)
    assert log_p.argmax(axis=1).tolist() == [0, 1]
    assert np.allclose(np.exp(log_p).sum(axis=1), 1.0, atol=1e-4)


def _multilingual_tagger() -> CatalogTagger:
    return CatalogTagger(
        catalog_parse(
            {
                "services": [
                    {"id": "email", "name": "E-mail", "aliases": ["e-bost", "البريد الإلكتروني"]},
                    {"id": "wifi", "name": "Wi-Fi", "aliases": ["eduroam"]},
                    {"id": "records", "name": "Student records", "aliases": ["教务系统", "IT服务台"]},
                    {"id": "app", "name": "University app", "aliases": ["Ap'r Brifysgol"]},
                    {"id": "vle", "name": "Moodle"},
                    {"id": "desktop", "name": "Bwrdd Gwaith", "aliases": ["AppsAnywhere"]},
                ]
            }
        )
    )


@pytest.mark.parametrize(
    ("text", "service"),
    [
        # a hyphenated alias written without its hyphen, or with a space, and full-width
        ("ebost ddim yn gweithio", "email"),
        ("wifi down in the library again", "wifi"),
        ("WiFi down", "wifi"),
        ("ＷｉＦｉ 又断了", "wifi"),  # noqa: RUF001 - other scripts on purpose
        # Chinese and Japanese are written without spaces: the alias is inside the run, a Latin name beside it
        ("教务系统登不上", "records"),
        ("登不上教务系统了，怎么办", "records"),  # noqa: RUF001 - other scripts on purpose
        ("Moodle登录不了", "vle"),
        ("我的moodle又挂了", "vle"),
        ("it服务台没人接电话", "records"),
        # curly and modifier-letter apostrophes as phones type them
        ("ap’r brifysgol wedi torri eto", "app"),  # noqa: RUF001 - other scripts on purpose
        ("apʼr brifysgol wedi torri eto", "app"),  # noqa: RUF001 - other scripts on purpose
        # Arabic with its vowel marks (re's \w split the word at each mark)
        ("البَرِيد الإِلِكْتْرُونِي لا يعمل", "email"),
        ("Bwrdd Gwaith ddim yn llwytho", "desktop"),
    ],
)
def test_aliases_in_other_scripts_and_spellings(text: str, service: str) -> None:
    tagger = _multilingual_tagger()
    assert [tagger.ids[i] for i in tagger.alias_matches(normalise(text))] == [service]


def test_aliases_are_not_found_across_words_or_in_placeholders() -> None:
    tagger = _multilingual_tagger()
    assert tagger.alias_matches(normalise("bit服务台")) == {}  # "it" is not a word of "bit"
    # an e-mail address becomes the placeholder word "email": it does not name the E-mail service
    assert tagger.alias_matches(normalise("write to me at jo@uni.ac.uk please")) == {}
    assert tagger.alias_matches(normalise("教务 is a word, 系统 another")) == {}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("videoconferencing dropped", True),
        ("videocnoferencing dropped", True),  # a transposition
        ("vidoeconferencng dropped", True),  # a transposition and a deletion: two typos in a long word
        ("videoconferrencingg dropped", True),  # two insertions
        ("viedoconferencnig dropped", True),  # two transpositions
        ("vdeoconfrencng dropped", False),  # three typos
        ("videoconferencing"[::-1], False),
        ("lecture captrue is down", True),  # one typo in each word of a two-word alias
        ("lecture captrue captrue", True),
        ("lecturer capture", True),  # one insertion
        ("lectures captured", True),  # one typo each
        ("lectern captive", False),
    ],
)
def test_misspelt_aliases_within_their_typos_and_no_further(text: str, found: bool) -> None:
    """Words of 5-8 letters allow one typo (a transposition counts as one), longer words two."""
    tagger = CatalogTagger(
        [
            {"id": "video", "name": "Video calls", "aliases": ["videoconferencing"]},
            {"id": "capture", "name": "Lecture capture", "aliases": []},
        ]
    )
    assert bool(tagger.alias_matches(normalise(text))) is found
