"""The hashed word n-grams the heads read beside the encoder: the same buckets in every process, unit-length
rows, and clear errors for bad input or a spec this code cannot reproduce."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from servicepulse.analysis.ml.lexical import LexicalSpec, hashed_ngrams

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["eduroam keeps dropping in the library again", "thanks, Moodle is back up!", ""]


def _rows(matrix: object) -> list[list[tuple[int, float]]]:
    m = matrix.tocsr()  # type: ignore[attr-defined]
    return [
        sorted(zip(m.indices[a:b].tolist(), np.round(m.data[a:b], 6).tolist(), strict=True))
        for a, b in zip(m.indptr[:-1], m.indptr[1:], strict=True)
    ]


def test_hashed_ngrams_are_the_same_in_another_process() -> None:
    here = _rows(hashed_ngrams(TEXTS))
    code = (
        "import json, sys, numpy as np\n"
        "from servicepulse.analysis.ml.lexical import hashed_ngrams\n"
        "m = hashed_ngrams(json.loads(sys.argv[1]))\n"
        "print(json.dumps([sorted(zip(m.indices[a:b].tolist(), np.round(m.data[a:b], 6).tolist()))"
        " for a, b in zip(m.indptr[:-1], m.indptr[1:])]))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")  # Python's own str hash differs; murmurhash must not
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(TEXTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    there = [[tuple(pair) for pair in row] for row in json.loads(out.stdout)]
    assert there == here


def test_hashed_ngrams_rows() -> None:
    spec = LexicalSpec(n_features=2**16)
    m = hashed_ngrams(TEXTS, spec)
    assert m.shape == (3, 2**16) and m.dtype == np.float32
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1))).ravel()
    np.testing.assert_allclose(norms, [1.0, 1.0, 0.0], atol=1e-6)  # an empty text is an all-zero row
    # 7 words and 6 bigrams; "in" is kept (two letters), so 13 buckets unless two collide
    assert 12 <= m[0].nnz <= 13
    # case-insensitive, punctuation ignored; word order matters only through the bigrams
    same = hashed_ngrams(["THANKS moodle is BACK up", "thanks moodle is back up", "up back is moodle thanks"])
    assert (same[0] != same[1]).nnz == 0
    assert (same[1] != same[2]).nnz > 0
    assert abs(same[1].multiply(same[2]).sum() - 5 / 9) < 1e-5  # the 5 shared words of 9 unit n-grams
    unigrams = hashed_ngrams(["thanks moodle"], LexicalSpec(ngram_max=1))
    assert unigrams.nnz == 2
    assert hashed_ngrams([]).shape == (0, 2**16)


def test_hashed_ngrams_bad_input() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        hashed_ngrams("moodle is down")
    with pytest.raises(TypeError, match="text #2 is not a string"):
        hashed_ngrams(["fine", None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="n-gram range"):
        LexicalSpec(ngram_min=2, ngram_max=1)
    with pytest.raises(ValueError, match="n_features"):
        LexicalSpec(n_features=0)


def test_lexical_spec_json_round_trip_and_unsupported() -> None:
    spec = LexicalSpec(ngram_min=1, ngram_max=3, n_features=2**15)
    assert LexicalSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    other = dict(spec.to_json(), norm="l1")
    with pytest.raises(ValueError, match="norm"):
        LexicalSpec.from_json(other)
