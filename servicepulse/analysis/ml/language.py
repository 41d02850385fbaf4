"""Offline language detection (py3langid), with a fallback for texts too short to tell."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Any

from servicepulse.analysis.ml.normalise import EMAIL_TOKEN, HANDLE_TOKEN, URL_TOKEN

UNDETERMINED = "und"
# Below this many letters the detector guesses; it then has to be very sure or we use the fallback.
SHORT_TEXT_LETTERS = 25
SHORT_TEXT_CONFIDENCE = 0.98
_PLACEHOLDERS = re.compile(rf"{re.escape(HANDLE_TOKEN)}|\b{URL_TOKEN}\b|\b{EMAIL_TOKEN}\b|#")
# The detector names some varieties apart; the posts are filtered and counted by the ISO 639-1 language.
_MACROLANGUAGE = {"ary": "ar", "arz": "ar", "yue": "zh", "wuu": "zh", "uzs": "uz", "zxx": UNDETERMINED}
# Languages the detector may name that are written in another script than Latin: the scripts (first word of
# the letters' Unicode names) a text needs some letters of for that guess to stand when the text is short.
_LANGUAGE_SCRIPTS = {
    **{code: {"ARABIC"} for code in ("ar", "ary", "arz", "fa", "ur", "ps", "ug", "sdh")},
    **{code: {"CJK"} for code in ("zh", "yue", "wuu")},
    "ja": {"HIRAGANA", "KATAKANA"},  # short Chinese is often guessed Japanese: kana tell them apart
    "ko": {"HANGUL"},
    **{
        code: {"CYRILLIC"}
        for code in ("ru", "uk", "bg", "be", "mk", "sr", "kk", "ky", "mn", "tg", "tt", "ba")
    },
    **{code: {"GREEK"} for code in ("el", "grc")},
    **{code: {"HEBREW"} for code in ("he", "hbo")},
    **{code: {"DEVANAGARI"} for code in ("hi", "mr", "ne", "sa", "gom")},
    **{
        code: {script}
        for code, script in {
            "th": "THAI",
            "lo": "LAO",
            "km": "KHMER",
            "my": "MYANMAR",
            "ka": "GEORGIAN",
            "hy": "ARMENIAN",
            "am": "ETHIOPIC",
            "bn": "BENGALI",
            "ta": "TAMIL",
            "te": "TELUGU",
            "kn": "KANNADA",
            "ml": "MALAYALAM",
            "si": "SINHALA",
            "gu": "GUJARATI",
            "pa": "GURMUKHI",
            "or": "ORIYA",
        }.items()
    },
}
# A short text mostly in one of these scripts is in this language when the detector's guess does not fit it.
_SCRIPT_LANGUAGE = {
    "ARABIC": "ar",
    "CJK": "zh",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "HANGUL": "ko",
    "GREEK": "el",
    "HEBREW": "he",
    "THAI": "th",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
}


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # npz model, no pickle

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _script(letter: str) -> str:
    """The script of a letter as the first word of its Unicode name ("LATIN", "CJK", "ARABIC", ...); full- and
    half-width forms are their script."""
    words = unicodedata.name(letter, "").replace("-", " ").split()
    if words and words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    return words[0] if words else ""


def detect_language(text: str, *, fallback: str = "en") -> str:
    """ISO 639-1 code of `text` (normalised or not); for a short text the detector is unsure about, its guess
    when the text has letters of that language's script, else the language of the script most of its letters
    are in (Chinese, Arabic, ...), else `fallback`; and "und" when there are no letters at all."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    cleaned = _PLACEHOLDERS.sub(" ", text)
    scripts = Counter(_script(ch) for ch in cleaned if ch.isalpha())
    letters = sum(scripts.values())
    if letters == 0:
        return UNDETERMINED
    language, confidence = _identifier().classify(cleaned)
    language = str(language)
    if letters < SHORT_TEXT_LETTERS and confidence < SHORT_TEXT_CONFIDENCE:
        # The fallback is a Latin-script guess: "教务系统又崩了" or "الواي فاي لا يعمل" is not English.
        if _LANGUAGE_SCRIPTS.get(language, set()) & scripts.keys():
            return _MACROLANGUAGE.get(language, language)
        others = {s: n for s, n in scripts.items() if s != "LATIN"}
        if not others or sum(others.values()) < scripts["LATIN"]:
            return fallback
        return _SCRIPT_LANGUAGE.get(max(others, key=lambda s: others[s]), UNDETERMINED)
    return _MACROLANGUAGE.get(language, language)
