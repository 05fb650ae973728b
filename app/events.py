"""A minimal observer for pure-Python models (napari-style events), so models need no Qt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Event(Generic[T]):
    """A list of callbacks called with one value when the model changes."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], None]] = []

    def connect(self, callback: Callable[[T], None]) -> None:
        """Call `callback(value)` on every emission."""
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[T], None]) -> None:
        """Stop calling `callback`."""
        self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        """Call every callback in connection order."""
        for callback in list(self._callbacks):
            callback(value)
