"""Performance helpers shared by the bulk read paths (trace, exports, reports)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Suspend Python's cyclic garbage collector while building a large result (also a decorator).

    Traces, FSMA 204 exports and recall reports allocate tens of thousands of rows and objects,
    none of them cyclic garbage, and the collector re-scanned the growing result over and over.
    Measured on lotline_bench's most-used raw lot: a forward trace 600-1,000 ms -> ~400 ms; the
    mock recall drill 3.3 s -> 2.8 s. Reference counting still frees everything; the collector's
    previous state is restored on exit (nesting is safe).

    On leaving the outermost block, the objects made meanwhile are handed to the oldest generation
    without a pass (``gc.freeze()`` then ``gc.unfreeze()``: two list splices): otherwise the first
    allocation after re-enabling triggers a young-generation pass over every one of them — 37-104 ms
    right after a big trace (measured with gc.callbacks). They are looked at by the next full
    collection instead, so cyclic garbage among them is still found.

    The pause is process-wide, not per thread: in the server, while one request builds a big trace,
    no thread of the process runs a cyclic collection. That is acceptable because the blocks are
    short (a few hundred ms at most) and reference counting keeps freeing memory meanwhile; garbage
    cycles made by other requests during the block wait for the next collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
