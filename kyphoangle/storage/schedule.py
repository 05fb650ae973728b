"""The visit schedule as data (`resources/visit_schedule.json`), and which visit a study day falls in.

Windows (days relative to the procedure, D0): baseline D-8..D-1, D2-D5, D15 ±3 (D12..D18),
D90 ±14 (D76..D104), D180 ±21 (D159..D201), D360 ±30 (D330..D390). The windows are the file's, not
the code's: a study changes them by editing the file before its database is created, after which the
database holds its own copy (table `visit`), so assignments never change behind the study's back.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kyphoangle.errors import ScheduleError
from kyphoangle.resources import resource_path

SCHEDULE_FORMAT = "kyphoangle.visit_schedule/1"
UNSCHEDULED = "unscheduled"
"""The visit label of a film outside every window (or set so by hand)."""


@dataclass(frozen=True, slots=True)
class VisitWindow:
    """One visit: stable code, label, target day and inclusive window `[min_day, max_day]`."""

    code: str
    label: str
    target_day: int
    min_day: int
    max_day: int
    is_baseline: bool = False

    def contains(self, study_day: int) -> bool:
        """Whether a film taken on `study_day` (days from D0) belongs to this visit."""
        return self.min_day <= study_day <= self.max_day


@dataclass(frozen=True, slots=True)
class VisitSchedule:
    """The study's visits in order; windows never overlap and exactly one is the baseline."""

    study_code: str
    title: str
    version: str
    default_normal_table: str
    visits: tuple[VisitWindow, ...]

    def __post_init__(self) -> None:
        codes = [visit.code for visit in self.visits]
        if len(set(codes)) != len(codes):
            raise ScheduleError("visit codes must be unique")
        if UNSCHEDULED in codes:
            raise ScheduleError(f"{UNSCHEDULED!r} is reserved for films outside every window")
        if sum(visit.is_baseline for visit in self.visits) != 1:
            raise ScheduleError("exactly one visit must be the baseline")
        ordered = sorted(self.visits, key=lambda v: v.min_day)
        for visit in ordered:
            if visit.min_day > visit.max_day or not visit.min_day <= visit.target_day <= visit.max_day:
                raise ScheduleError(f"visit {visit.code}: the window must hold its target day")
        for earlier, later in itertools.pairwise(ordered):
            if later.min_day <= earlier.max_day:
                raise ScheduleError(f"visits {earlier.code} and {later.code} have overlapping windows")

    def visit_for_day(self, study_day: int) -> VisitWindow | None:
        """The visit whose window holds `study_day`, or None (unscheduled)."""
        for visit in self.visits:
            if visit.contains(study_day):
                return visit
        return None

    @property
    def baseline(self) -> VisitWindow:
        """The baseline visit (before the procedure)."""
        return next(visit for visit in self.visits if visit.is_baseline)


def study_day(study_date: dt.date | None, procedure_date: dt.date | None) -> int | None:
    """Days from the procedure (D0) to the film, or None when either date is unknown."""
    if study_date is None or procedure_date is None:
        return None
    return (study_date - procedure_date).days


def visit_for(windows: Sequence[VisitWindow], day: int | None) -> VisitWindow | None:
    """The window holding `day` among `windows`, or None (unknown day or unscheduled)."""
    if day is None:
        return None
    return next((window for window in windows if window.contains(day)), None)


def parse_visit_schedule(data: object, *, origin: str) -> VisitSchedule:
    """Validate a decoded schedule document; `origin` names it in error messages."""
    if not isinstance(data, dict) or data.get("format") != SCHEDULE_FORMAT:
        raise ScheduleError(f"{origin}: not a visit schedule (expected format {SCHEDULE_FORMAT!r})")
    try:
        visits = tuple(
            VisitWindow(
                code=str(item["code"]),
                label=str(item.get("label", item["code"])),
                target_day=int(item["target_day"]),
                min_day=int(item["min_day"]),
                max_day=int(item["max_day"]),
                is_baseline=bool(item.get("baseline", False)),
            )
            for item in data["visits"]
        )
        return VisitSchedule(
            study_code=str(data["study"]),
            title=str(data.get("title", data["study"])),
            version=str(data.get("version", "1")),
            default_normal_table=str(data.get("default_normal_table", "farcy-1990")),
            visits=visits,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScheduleError(f"{origin}: malformed visit schedule ({exc!r})") from None
    except ScheduleError as exc:
        raise ScheduleError(f"{origin}: {exc}") from None


def load_visit_schedule(path: str | Path | None = None) -> VisitSchedule:
    """Read the schedule file (default: the one shipped in `resources/`)."""
    target = Path(path) if path is not None else resource_path("visit_schedule.json")
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScheduleError(f"{target.name}: cannot be read ({exc})") from None
    return parse_visit_schedule(data, origin=target.name)
