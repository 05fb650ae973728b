"""Randomised, reproducible reading orders for blinded central reading, with hidden repeats.

Each reader's order is drawn from a generator seeded by the campaign seed and the reader's login
(SHA-256 of both), so the same campaign gives the same orders again and no order depends on another
reader's. A fraction of the cases is presented a second time to the same reader, at least `min_gap`
cases after the first presentation, at a random position among the others. Case codes come from a
cryptographic source (`secrets`), never from the seed, the subject, the visit or a date.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from kyphoangle.errors import KyphoangleError

CASE_CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY3479"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z, 6/G)


class WorklistError(KyphoangleError):
    """A campaign's worklist cannot be drawn as configured."""


@dataclass(frozen=True, slots=True)
class WorklistItem:
    """One presentation of a case to a reader: its position, and whether it is the repeat."""

    position: int
    case_index: int
    is_repeat: bool


def _rng(seed: int, *salt: str) -> random.Random:
    digest = hashlib.sha256("\x1f".join((str(seed), *salt)).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def case_codes(count: int, *, length: int = 6) -> list[str]:
    """`count` distinct case codes such as `K7RX3P`, from the operating system's cryptographic source.

    Never drawn from the campaign seed: the seed is recorded and fixes the reading orders only, so
    knowing it (or reusing it in another campaign) tells nothing about the codes.
    """
    codes: dict[str, None] = {}
    while len(codes) < count:
        codes["".join(secrets.choice(CASE_CODE_ALPHABET) for _ in range(length))] = None
    return list(codes)


def draw_worklist(
    case_count: int, *, reader: str, seed: int, repeat_fraction: float = 0.1, min_gap: int = 20
) -> list[WorklistItem]:
    """The reader's order: every case once in random order, plus repeats placed >= `min_gap` cases later.

    The number of repeats is `round(repeat_fraction * case_count)`. Raises WorklistError when the gap
    cannot be kept (too few cases for the gap).
    """
    if case_count < 0 or not 0.0 <= repeat_fraction <= 1.0 or min_gap < 0:
        raise WorklistError("case count, repeat fraction (0 to 1) and gap must not be negative")
    rng = _rng(seed, "order", reader)
    order = list(range(case_count))
    rng.shuffle(order)
    repeats = round(repeat_fraction * case_count)
    if repeats == 0:
        return [WorklistItem(i, case, False) for i, case in enumerate(order)]
    if case_count <= min_gap:
        raise WorklistError(
            f"a repeat must come at least {min_gap} cases after the first reading, but there are only "
            f"{case_count} cases"
        )
    # Repeat cases drawn among those read early enough that the gap fits before the end.
    eligible = order[: case_count - min_gap]
    if len(eligible) < repeats:
        raise WorklistError(
            f"{repeats} repeats with a gap of {min_gap} cases need at least {repeats + min_gap} cases"
        )
    chosen = rng.sample(eligible, repeats)
    sequence: list[tuple[int, bool]] = [(case, False) for case in order]
    # An insertion never shortens another repeat's gap, so the gaps hold whatever the insertion order.
    for case in chosen:
        first = next(i for i, (c, repeat) in enumerate(sequence) if c == case and not repeat)
        earliest = first + min_gap + 1
        position = rng.randint(min(earliest, len(sequence)), len(sequence))
        sequence.insert(position, (case, True))
    return [WorklistItem(i, case, repeat) for i, (case, repeat) in enumerate(sequence)]


def repeat_gaps(items: Sequence[WorklistItem]) -> list[int]:
    """For each repeat, how many cases lie between it and the first reading of the same case."""
    first: dict[int, int] = {}
    gaps = []
    for item in items:
        if item.is_repeat:
            gaps.append(item.position - first[item.case_index] - 1)
        else:
            first[item.case_index] = item.position
    return gaps


def expected_repeats(case_count: int, repeat_fraction: float) -> int:
    """How many repeats a worklist of `case_count` cases holds."""
    return round(repeat_fraction * case_count) if case_count else 0


__all__ = [
    "CASE_CODE_ALPHABET",
    "WorklistError",
    "WorklistItem",
    "case_codes",
    "draw_worklist",
    "expected_repeats",
    "repeat_gaps",
]
