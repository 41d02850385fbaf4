"""Progress bars for long CLI work. They go to stderr so stdout stays machine-readable."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(
    iterable: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it"
) -> Iterator[T]:
    """Wrap `iterable` in a progress bar on stderr (shown whether or not stderr is a terminal)."""
    yield from tqdm(
        iterable, total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.2
    )


def progress_bar(*, total: int | None, desc: str = "", unit: str = "it") -> tqdm:
    """A manually advanced bar (`bar.update(n)`), for work that is not a simple loop; use as a context manager."""
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.2)
