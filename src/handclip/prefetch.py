"""An ordered map run ahead in background threads, so file decoding and writing overlap the network.

Image decoding (PIL, OpenCV), resizing and PNG encoding release the GIL, so one or two threads beside the
thread running the model keep a second core busy without a process pool's copies and start-up.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int = 1, ahead: int = 16) -> Iterator[R]:
    """fn(item) for each item, in the items' order, computed by `workers` threads up to `ahead` items before
    they are asked for. `items` is read in the caller's thread; an exception of fn is raised where its result
    is yielded, and the work not yet started is dropped when the caller stops early."""
    if workers < 1 or ahead < 1:
        raise ValueError(f"workers and ahead must be at least 1, got {workers} and {ahead}")
    pending: deque = deque()
    with ThreadPoolExecutor(workers) as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
