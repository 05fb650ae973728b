"""Randomised worklists: reproducible, independent per reader, repeats hidden and far enough apart."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyphoangle.worklist import (
    CASE_CODE_ALPHABET,
    WorklistError,
    case_codes,
    draw_worklist,
    expected_repeats,
    repeat_gaps,
)


def test_same_seed_same_order_and_readers_differ() -> None:
    first = draw_worklist(60, reader="reader1", seed=2026, repeat_fraction=0.1, min_gap=20)
    again = draw_worklist(60, reader="reader1", seed=2026, repeat_fraction=0.1, min_gap=20)
    other = draw_worklist(60, reader="reader2", seed=2026, repeat_fraction=0.1, min_gap=20)
    reseeded = draw_worklist(60, reader="reader1", seed=2027, repeat_fraction=0.1, min_gap=20)
    assert first == again
    assert [i.case_index for i in first] != [i.case_index for i in other]
    assert [i.case_index for i in first] != [i.case_index for i in reseeded]


def test_order_is_not_the_input_order() -> None:
    items = draw_worklist(60, reader="r", seed=1, repeat_fraction=0.0)
    assert [i.case_index for i in items] != list(range(60))
    assert sorted(i.case_index for i in items) == list(range(60))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=0, max_value=200),
    st.floats(min_value=0.0, max_value=0.3),
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=2**31),
)
def test_every_case_once_plus_repeats_after_the_gap(count: int, fraction: float, gap: int, seed: int) -> None:
    try:
        items = draw_worklist(count, reader="r", seed=seed, repeat_fraction=fraction, min_gap=gap)
    except WorklistError:
        assert expected_repeats(count, fraction) > 0 and count < expected_repeats(count, fraction) + gap + 1
        return
    firsts = [i.case_index for i in items if not i.is_repeat]
    assert sorted(firsts) == list(range(count))
    assert sum(i.is_repeat for i in items) == expected_repeats(count, fraction)
    assert [i.position for i in items] == list(range(len(items)))
    assert all(g >= gap for g in repeat_gaps(items))
    repeated = [i.case_index for i in items if i.is_repeat]
    assert len(set(repeated)) == len(repeated)


def test_too_few_cases_for_the_gap_is_a_clear_error() -> None:
    with pytest.raises(WorklistError, match="at least 20 cases after"):
        draw_worklist(15, reader="r", seed=1, repeat_fraction=0.2, min_gap=20)


def test_case_codes_are_cryptographic_distinct_and_never_repeat_across_draws() -> None:
    codes = case_codes(500)
    assert len(set(codes)) == 500
    assert all(len(c) == 6 and set(c) <= set(CASE_CODE_ALPHABET) for c in codes)
    # No seed goes in: two draws (two campaigns with the same seed) share almost no code.
    assert len(set(case_codes(500)) & set(codes)) < 10
