"""The role windows are shells around one reading view: no window or view of `app` derives from another.

Each window (site, blinded, adjudication) subclasses a Qt window directly and holds the one
`ReadingView`; the reading view subclasses QWidget directly. What they share is composed, not inherited.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QWidget

import app
from app.adjudication_window import AdjudicationWindow
from app.blinded_window import BlindedReadingWindow
from app.main_window import ReadingWindow
from app.reading_view import ReadingView

SHELLS = (ReadingWindow, BlindedReadingWindow, AdjudicationWindow)


def app_classes() -> list[type]:
    """Every window, view, panel and other Qt object class defined in a module of `app` (the undo
    commands are not Qt objects: they share the landmark command by design)."""
    found: list[type] = []
    for module_info in pkgutil.iter_modules(app.__path__, "app."):
        module = importlib.import_module(module_info.name)
        found += [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if c.__module__ == module.__name__ and issubclass(c, QObject)
        ]
    return found


def test_no_window_or_view_of_the_app_derives_from_another() -> None:
    classes = app_classes()
    assert ReadingView in classes and all(shell in classes for shell in SHELLS)
    offenders = {
        cls.__qualname__: [base.__qualname__ for base in cls.__mro__[1:] if base.__module__.startswith("app")]
        for cls in classes
    }
    assert {name: bases for name, bases in offenders.items() if bases} == {}


def test_each_shell_is_one_level_below_qt_around_one_reading_view() -> None:
    for shell in SHELLS:
        assert shell.__bases__ == (QMainWindow,), shell
    assert ReadingView.__bases__ == (QWidget,)
