"""Vertebrae, endplates and the stable landmark keys `<vertebra>.<endplate>.<position>`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kyphoangle.errors import LandmarkError


class Vertebra(StrEnum):
    """Vertebrae a reader can mark, cranial to caudal."""

    T1 = "T1"
    T2 = "T2"
    T3 = "T3"
    T4 = "T4"
    T5 = "T5"
    T6 = "T6"
    T7 = "T7"
    T8 = "T8"
    T9 = "T9"
    T10 = "T10"
    T11 = "T11"
    T12 = "T12"
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"
    L5 = "L5"
    S1 = "S1"

    @property
    def order(self) -> int:
        """Position from T1 (0) to S1 (17)."""
        return _ORDER.index(self)

    def above(self) -> Vertebra | None:
        """The next vertebra cranially, or None for T1."""
        return _ORDER[self.order - 1] if self.order > 0 else None

    def below(self) -> Vertebra | None:
        """The next vertebra caudally, or None for S1."""
        return _ORDER[self.order + 1] if self.order + 1 < len(_ORDER) else None


_ORDER: tuple[Vertebra, ...] = tuple(Vertebra)

FRACTURE_LEVELS: tuple[str, ...] = tuple(v.value for v in _ORDER[_ORDER.index(Vertebra.T10) : -1])
"""Levels whose fracture the trial measures (T10 to L5)."""


class EndplateSide(StrEnum):
    """Which endplate of a vertebral body."""

    SUPERIOR = "superior"
    INFERIOR = "inferior"


class Corner(StrEnum):
    """A point on an endplate: its two corners and the middle (used only for the middle height)."""

    ANTERIOR = "anterior"
    MIDDLE = "middle"
    POSTERIOR = "posterior"


@dataclass(frozen=True, slots=True)
class EndplateRef:
    """One endplate of one vertebra, e.g. `T12.inferior`."""

    vertebra: Vertebra
    side: EndplateSide

    def __post_init__(self) -> None:
        object.__setattr__(self, "vertebra", Vertebra(self.vertebra))
        object.__setattr__(self, "side", EndplateSide(self.side))
        if self.vertebra is Vertebra.S1 and self.side is EndplateSide.INFERIOR:
            raise LandmarkError("S1 has only its superior endplate")

    def __str__(self) -> str:
        return f"{self.vertebra}.{self.side}"

    @property
    def sort_key(self) -> tuple[int, int]:
        """Cranial-to-caudal order: by vertebra, superior before inferior."""
        return self.vertebra.order, 0 if self.side is EndplateSide.SUPERIOR else 1

    @classmethod
    def parse(cls, text: str) -> EndplateRef:
        """Parse `T12.inferior`; raises LandmarkError on anything else."""
        parts = text.split(".")
        if len(parts) != 2:
            raise LandmarkError(f"{text!r} is not an endplate such as 'T12.inferior'")
        try:
            return cls(Vertebra(parts[0]), EndplateSide(parts[1]))
        except ValueError:
            raise LandmarkError(f"{text!r} is not an endplate such as 'T12.inferior'") from None

    def key(self, corner: Corner) -> str:
        """The landmark key of one point of this endplate."""
        return f"{self}.{Corner(corner)}"

    @property
    def line_keys(self) -> tuple[str, str]:
        """Keys of the endplate line: posterior then anterior corner."""
        return self.key(Corner.POSTERIOR), self.key(Corner.ANTERIOR)


@dataclass(frozen=True, slots=True)
class LandmarkKey:
    """A parsed landmark key `<vertebra>.<endplate>.<position>`."""

    endplate: EndplateRef
    corner: Corner

    def __str__(self) -> str:
        return self.endplate.key(self.corner)

    @classmethod
    def parse(cls, text: str) -> LandmarkKey:
        """Parse `L1.superior.anterior`; raises LandmarkError naming the bad key."""
        vertebra, _, rest = text.partition(".")
        side, _, corner = rest.partition(".")
        try:
            return cls(EndplateRef(Vertebra(vertebra), EndplateSide(side)), Corner(corner))
        except ValueError:
            raise LandmarkError(
                f"{text!r} is not a landmark key (expected e.g. 'L1.superior.anterior')"
            ) from None


def endplates_of(vertebra: Vertebra) -> tuple[EndplateRef, ...]:
    """The endplates of a vertebra (S1: only the superior one)."""
    sides = (EndplateSide.SUPERIOR,) if vertebra is Vertebra.S1 else tuple(EndplateSide)
    return tuple(EndplateRef(vertebra, side) for side in sides)


ALL_LANDMARK_KEYS: tuple[str, ...] = tuple(
    endplate.key(corner) for vertebra in _ORDER for endplate in endplates_of(vertebra) for corner in Corner
)
"""Every valid landmark key, cranial to caudal."""
