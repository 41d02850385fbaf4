"""Fixtures of the analysis tests: the shared encoder is loaded once per session (it is cached per process)."""

from __future__ import annotations

from typing import Any

import pytest

CATALOG: list[dict[str, Any]] = [
    {
        "id": "vle",
        "name": "Moodle VLE",
        "aliases": ["moodle", "vle"],
        "description": "the virtual learning environment: course pages, quizzes, assignment upload",
        "examples": [
            "moodle has logged me out three times while uploading my essay",
            "can't see my course page on the vle this morning",
        ],
    },
    {
        "id": "wifi",
        "name": "Wi-Fi",
        "aliases": ["eduroam", "wifi", "wireless"],
        "description": "the campus wireless network in halls, the library and lecture theatres",
        "examples": ["eduroam keeps dropping in the library", "no internet connection in my halls room"],
    },
    {
        "id": "printing",
        "name": "Printing",
        "aliases": ["printer", "printers", "print credit"],
        "description": "printers, photocopiers and print credit for students",
        "examples": ["the printers on the second floor are jammed again", "my print credit vanished"],
    },
]


@pytest.fixture(scope="session")
def encoder() -> Any:
    from servicepulse.analysis.ml.encoder import get_encoder

    return get_encoder()


@pytest.fixture(scope="session")
def catalog() -> list[dict[str, Any]]:
    return [dict(r) for r in CATALOG]
