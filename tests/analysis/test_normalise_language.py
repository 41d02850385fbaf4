"""Normalisation hides who and where from the models; language detection works offline and falls back
for texts too short to tell."""

from __future__ import annotations

import time

import pytest

from servicepulse.analysis.ml.language import UNDETERMINED, detect_language
from servicepulse.analysis.ml.normalise import fold, normalise


def test_normalise_hides_handles_urls_and_addresses() -> None:
    original = (
        "@ITServiceDesk moodle down!! see https://status.uni.ac.uk/x  or mail  it-help@uni.ac.uk"
        " &amp; @ann@mastodon.social"
    )
    assert normalise(original) == "@user moodle down!! see http or mail email & @user"
    assert original.startswith("@ITServiceDesk")  # the caller keeps the original


def test_bare_links_and_addresses_are_found_where_their_run_starts() -> None:
    assert normalise("see bbc.co/news and news.uni.ac.uk/x i.t-help@uni.ac.uk") == "see http and http email"
    assert normalise("ask a.b+c@x.y.org or (it@uni.ac.uk)") == "ask email or (email)"
    assert normalise("moodle.uni.ac.uk is down, e-mail too") == "moodle.uni.ac.uk is down, e-mail too"


@pytest.mark.parametrize(
    "text", ["a." * 10_000, "a-" * 10_000, "a@" * 10_000, "a.a@" * 5_000, "x." * 9_999 + "com/"]
)
def test_a_crafted_post_is_normalised_in_linear_time(text: str) -> None:
    # "a." * 10,000 took 15 s (each dot a new start, read to the end): a post anyone can write where a source reads.
    started = time.perf_counter()
    normalise(text)
    assert time.perf_counter() - started < 0.5


def test_normalise_keeps_hashtags_and_words_and_collapses_space() -> None:
    assert normalise("  #eduroam\tdown\n\nagain  www.example.org/page ") == "#eduroam down again http"
    assert normalise("") == ""


def test_normalise_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        normalise(None)  # type: ignore[arg-type]


def test_fold_removes_case_and_accents() -> None:
    assert fold("Résumé ÉCOLE") == "resume ecole"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The wifi in the library has been down since this morning and nobody answers", "en"),
        ("Le wifi de la bibliothèque ne marche plus depuis ce matin", "fr"),
        ("El correo de la universidad no funciona desde ayer por la tarde", "es"),
        ("Das WLAN in der Bibliothek funktioniert seit heute Morgen nicht", "de"),
    ],
)
def test_language(text: str, expected: str) -> None:
    assert detect_language(normalise(text)) == expected


def test_language_short_and_empty_texts() -> None:
    assert detect_language("ok", fallback="en") == "en"
    assert detect_language("ok", fallback="cy") == "cy"
    assert detect_language("!!! 123 :)") == UNDETERMINED
    assert detect_language("@user http") == UNDETERMINED  # placeholders are not language
    with pytest.raises(TypeError):
        detect_language(3)  # type: ignore[arg-type]


def test_fold_reads_full_width_forms_and_curly_apostrophes() -> None:
    assert fold("ＷｉＦｉ Ap’r Brifysgol apʼr") == "wifi ap'r brifysgol ap'r"  # noqa: RUF001 - other scripts on purpose


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # short texts in another script than Latin are not the Latin-script fallback
        ("教务系统又崩了，选课怎么办？", "zh"),  # noqa: RUF001 - other scripts on purpose
        ("教务系统登不上", "zh"),
        ("Moodle登录不了", "zh"),
        ("الواي فاي لا يعمل", "ar"),
        ("ＷｉＦｉ　繋がらない", "ja"),  # noqa: RUF001 - other scripts on purpose
        ("Mae'r e-bost i lawr eto", "cy"),
        # varieties the detector names apart are filtered and counted under their language
        ("النت فاصل من الصبح والله مش عارف اعمل ايه في المحاضرة", "ar"),
        ("佢哋嘅wifi又壞咗，點算呀", "zh"),  # noqa: RUF001 - other scripts on purpose
    ],
)
def test_language_of_short_texts_in_other_scripts(text: str, expected: str) -> None:
    assert detect_language(normalise(text)) == expected
    assert detect_language(normalise(text), fallback="cy") == expected


def test_language_fallback_stays_for_short_latin_texts() -> None:
    assert detect_language("Diolch!", fallback="cy") == "cy"
    assert detect_language("e-bost down again lol") == "en"
