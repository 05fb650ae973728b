"""Vertebrae, endplates and the stable landmark keys `<vertebra>.<endplate>.<position>`."""

from __future__ import annotations

from dataclasses import dataclass

from kyphoangle.errors import LandmarkError
from kyphoangle.vocabulary import FRACTURE_LEVELS, Corner, EndplateSide, Vertebra

__all__ = ["FRACTURE_LEVELS", "Corner", "EndplateSide", "Vertebra"]


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
    endplate.key(corner) for vertebra in Vertebra for endplate in endplates_of(vertebra) for corner in Corner
)
"""Every valid landmark key, cranial to caudal."""
