import gc

import pytest

from lotline.perf import no_gc_pauses


def test_the_collector_is_off_inside_and_restored_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), no_gc_pauses():
        assert not gc.isenabled()
        with no_gc_pauses():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not re-enable it early
        raise RuntimeError
    assert gc.isenabled()


def test_as_a_decorator_it_wraps_every_call():
    @no_gc_pauses()
    def state():
        return gc.isenabled()

    assert state() is False and state() is False
    assert gc.isenabled()


def test_what_the_block_made_goes_to_the_oldest_generation_without_a_young_pass():
    gc.collect()
    with no_gc_pauses():
        made = [[n] for n in range(50_000)]  # tracked objects, kept alive
    # without the hand-off they would sit in the young generation (or, after the young pass their
    # number triggers at once, in the middle one) — never in the oldest before a full collection
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(made[0]) in oldest and id(made[-1]) in oldest
    # cyclic garbage made inside is still collected by a full pass
    with no_gc_pauses():
        cycle = []
        cycle.append(cycle)
        del cycle
    assert gc.collect() >= 1
