"""Words of a post in any script, for the word counts behind complaint themes and incident explanations.

Chinese and Japanese are written without spaces, so a run of their characters is not a word: a post's whole
sentence ("教务系统又崩了") would be one "word" that no other post shares. Such a run is read as its overlapping
pairs of characters ("教务", "务系", "系统", ...), the usual unit for counting words in these languages without a
dictionary: the pairs that are real words ("系统", system) recur across posts, the others do not. Thai, Lao,
Khmer and Myanmar runs stay whole (their letters are not words, and splitting them needs a dictionary).
"""

from __future__ import annotations

import regex

# Han (with the CJK extensions and compatibility ideographs), hiragana, katakana and the iteration marks.
_CJK = (
    "\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f"
)
# A word: letters with their combining marks (the regex module's \w has them), inner apostrophes and hyphens
# ("doesn't", "e-mail", "ap'r"), or a run of CJK characters.
_LETTER = f"[^\\W_{_CJK}]"
_WORD = regex.compile(f"[{_CJK}]+|{_LETTER}(?:(?:{_LETTER}|['\\-])*{_LETTER})?")
_CJK_RUN = regex.compile(f"[{_CJK}]+")


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, curly apostrophes made straight, in order; each run of Chinese or
    Japanese characters as its overlapping character pairs (a single character alone)."""
    found: list[str] = []
    for word in _WORD.findall(text.replace("\u2019", "'")):
        if _CJK_RUN.fullmatch(word):
            found.extend([word] if len(word) == 1 else [word[i : i + 2] for i in range(len(word) - 1)])
        else:
            found.append(word.lower())
    return found


def is_cjk(word: str) -> bool:
    """Whether `word` is one of the character pairs `words` makes of Chinese or Japanese (a short word, but a
    word: the length rules for Latin words do not apply)."""
    return bool(_CJK_RUN.fullmatch(word))
