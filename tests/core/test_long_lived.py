from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from core.long_lived import long_lived


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Give the session's objects back to the collector: each test freezes them all."""
    yield
    gc.unfreeze()


class Kept:
    """An object the collector tracks, as a module's classes and functions are."""


def tracked(obj: object) -> bool:
    """Whether a collection would walk `obj`: frozen objects are in no generation."""
    return any(o is obj for o in gc.get_objects())


def test_what_is_made_inside_is_frozen_and_collection_resumes() -> None:
    assert gc.isenabled()
    with long_lived():
        assert not gc.isenabled()
        kept = Kept()
    assert gc.isenabled()
    assert not tracked(kept)


def test_collection_resumes_after_an_error_inside() -> None:
    with pytest.raises(ImportError), long_lived():
        raise ImportError("a failed import")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    try:
        with long_lived():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
