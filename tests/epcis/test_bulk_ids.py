"""bulk.new_id: the ids of the rows a bulk chunk writes are time-ordered UUIDs (version 7 layout),
unique, and sort by the millisecond they were made in."""

from __future__ import annotations

import time
import uuid

from lotline.epcis import bulk


def test_a_new_id_is_a_version_7_rfc_4122_uuid_carrying_the_current_millisecond():
    before = time.time_ns() // 1_000_000
    made = bulk.new_id()
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_ids_made_in_later_milliseconds_sort_after_and_none_repeats():
    first = [bulk.new_id() for _ in range(2_000)]
    time.sleep(0.002)
    later = [bulk.new_id() for _ in range(2_000)]
    assert max(first) < min(later)
    assert len(set(first + later)) == 4_000
