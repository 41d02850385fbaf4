"""Offline language detection (py3langid), with a fallback for texts too short to tell."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from servicepulse.analysis.ml.normalise import EMAIL_TOKEN, HANDLE_TOKEN, URL_TOKEN

UNDETERMINED = "und"
# Below this many letters the detector guesses; it then has to be very sure or we use the fallback.
SHORT_TEXT_LETTERS = 25
SHORT_TEXT_CONFIDENCE = 0.98
_PLACEHOLDERS = re.compile(rf"{re.escape(HANDLE_TOKEN)}|\b{URL_TOKEN}\b|\b{EMAIL_TOKEN}\b|#")


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # npz model, no pickle

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, *, fallback: str = "en") -> str:
    """ISO 639-1 code of `text` (normalised or not), `fallback` for a short text the detector is unsure about,
    and "und" when there are no letters at all."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    cleaned = _PLACEHOLDERS.sub(" ", text)
    letters = sum(ch.isalpha() for ch in cleaned)
    if letters == 0:
        return UNDETERMINED
    language, confidence = _identifier().classify(cleaned)
    if letters < SHORT_TEXT_LETTERS and confidence < SHORT_TEXT_CONFIDENCE:
        return fallback
    return str(language)
