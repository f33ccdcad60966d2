"""Ordered parallel map with bounded look-ahead: the one way llmtel overlaps work."""

from __future__ import annotations

import concurrent.futures as cf
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def ordered_map(fn: Callable[[In], Out], items: Iterable[In], workers: int, name: str) -> Iterator[Out]:
    """`map(fn, items)` on `workers` threads, results in input order.

    numpy, Arrow and libpq release the GIL in their bulk work, so threads overlap with each
    other and with the consumer. At most `workers` results wait beside the one being
    consumed, so memory stays flat however many items there are.
    """
    with cf.ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        pending: deque[cf.Future[Out]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
