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
