"""The rows of the wide export: one per subject and visit, from the reads chosen for the analysis.

Which read stands for a subject's visit:

- `site` reads: the latest signed, not superseded site read of a film assigned to that visit;
- `central` reads: the final read of each finished case of the blinded campaigns (reader 1's read, or
  the read the adjudicator chose), the latest one when a visit has several.

Films not assigned to a scheduled visit (pending, unscheduled) are left out. The post-operative visit
(the reference of the loss of correction) is the first visit after the baseline in the schedule
(D2-D5 in this study).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.campaign import final_reads, list_campaigns
from kyphoangle.edc.variables import (
    CHANGE_FROM_BASELINE,
    LEVEL_CHOICES,
    LEVEL_SLOTS,
    NOT_EVALUABLE_CHOICES,
    READ_SOURCE_CHOICES,
    SPACING_CHOICES,
    Validation,
    Variable,
    edc_variables,
)
from kyphoangle.storage.models import Image, Read, Subject, User, Visit
from kyphoangle.storage.reads import get_read, measurements_of, spacing_source_of
from kyphoangle.storage.schedule import study_day
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.vocabulary import ReadStatus, ReadType


class ReadSource(StrEnum):
    """Which reads the export is made of."""

    SITE = "site"
    CENTRAL = "central"


@dataclass(frozen=True, slots=True)
class WideExport:
    """The variables (columns) and the rows (raw values as text, by variable name)."""

    variables: tuple[Variable, ...]
    rows: tuple[dict[str, str], ...]


def _code(choices: tuple[tuple[str, str], ...], label: str | None) -> str:
    return next((code for code, text in choices if text == label), "")


def _number(value: float | None) -> str:
    return "" if value is None else repr(round(float(value), 10))


def _chosen_reads(session: Session, source: ReadSource) -> list[Read]:
    if source is ReadSource.SITE:
        query = select(Read).where(
            Read.status == ReadStatus.SIGNED,
            Read.superseded_by_id.is_(None),
            Read.read_type == ReadType.SITE,
        )
        return list(session.scalars(query))
    ids = {
        read_id for campaign in list_campaigns(session) for read_id in final_reads(session, campaign).values()
    }
    return [get_read(session, read_id) for read_id in sorted(ids)]


def _latest_per_visit(reads: Iterable[Read]) -> dict[tuple[int, int], Read]:
    latest: dict[tuple[int, int], Read] = {}
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    for read in reads:
        image = read.image
        if image.visit_id is None or read.status != ReadStatus.SIGNED:
            continue
        key = (image.subject_id, image.visit_id)
        best = latest.get(key)
        if best is None or ((read.signed_at or floor), read.id) > ((best.signed_at or floor), best.id):
            latest[key] = read
    return latest


@dataclass(frozen=True, slots=True)
class _Value:
    value: float | None
    context: tuple[str | None, ...]
    """What must match for a change to be computed (endpoints, normal table)."""


def _values(
    read: Read, subject: Subject, variables: list[Variable]
) -> tuple[dict[str, str], dict[str, _Value]]:
    rows = measurements_of(read)
    slots = {n: level.level for n, level in enumerate(subject.treated_levels, start=1)}
    skipped = {level.level: level.not_evaluable_reason for level in read.levels if level.not_evaluable_reason}
    text: dict[str, str] = {}
    measured: dict[str, _Value] = {}
    for slot, level in slots.items():
        if slot > LEVEL_SLOTS:
            break
        text[f"lvl{slot}_level"] = _code(LEVEL_CHOICES, level)
        reason = skipped.get(level)
        text[f"lvl{slot}_not_evaluable"] = _code(NOT_EVALUABLE_CHOICES, str(reason)) if reason else ""
    for variable in variables:
        if variable.measurement is None or variable.change is not None:
            continue
        vertebra = slots.get(variable.slot) if variable.slot is not None else None
        if variable.slot is not None and vertebra is None:
            continue
        row = rows.get((str(variable.measurement), vertebra))
        value = row.value if row is not None else None
        context: tuple[str | None, ...] = (
            (row.endpoints, row.normal_table_name, row.normal_table_version) if row else ()
        )
        measured[variable.name] = _Value(value, context)
        integer = variable.validation is Validation.INTEGER and value is not None
        text[variable.name] = str(round(value)) if integer and value is not None else _number(value)
    return text, measured


def wide_export(session: Session, *, actor: User, source: ReadSource | str = ReadSource.SITE) -> WideExport:
    """One row per subject and visit of the chosen reads, with the derived changes."""
    require_permission(actor, Permission.EXPORT)
    source = ReadSource(source)
    study = get_study(session)
    visits = sorted(study.visits, key=lambda v: v.position)
    visit_choices = tuple((str(n), visit.code) for n, visit in enumerate(visits, start=1))
    variables = edc_variables(visit_choices)
    baseline = next((v.id for v in visits if v.is_baseline), None)
    post_op = next(
        (v.id for v in visits if not v.is_baseline and v.position > min(x.position for x in visits)), None
    )
    chosen = _latest_per_visit(_chosen_reads(session, source))
    subjects = {s.id: s for s in session.scalars(select(Subject))}
    visit_by_id: dict[int, Visit] = {v.id: v for v in visits}
    per_subject: dict[int, dict[int, tuple[dict[str, str], dict[str, _Value]]]] = {}
    for (subject_id, visit_id), read in chosen.items():
        per_subject.setdefault(subject_id, {})[visit_id] = _values(read, subjects[subject_id], variables)
    rows: list[dict[str, str]] = []
    ordered = sorted(
        chosen.items(), key=lambda item: (subjects[item[0][0]].code, visit_by_id[item[0][1]].position)
    )
    for (subject_id, visit_id), read in ordered:
        subject, visit = subjects[subject_id], visit_by_id[visit_id]
        image: Image = read.image
        text, measured = per_subject[subject_id][visit_id]
        day = study_day(image.study_date, subject.procedure_date)
        row = {
            "record_id": f"{subject.code}-{visit.code}",
            "subject": subject.code,
            "site": subject.site.code if subject.site is not None else "",
            "visit": _code(visit_choices, visit.code),
            "visit_day": "" if day is None else str(day),
            "read_source": _code(READ_SOURCE_CHOICES, str(source)),
            "read_id": str(read.id),
            "spacing_source": _code(SPACING_CHOICES, str(spacing_source_of(read))),
            "normal_table": read.normal_table_name,
            "normal_table_ver": read.normal_table_version,
            "tk_endpoints": read.kyphosis_endpoints,
            "ll_endpoints": read.lordosis_endpoints,
            **text,
        }
        for variable in variables:
            if variable.change is None:
                continue
            reference_visit = baseline if variable.change == CHANGE_FROM_BASELINE else post_op
            base_name = variable.name.rsplit("_", 1)[0]
            row[variable.name] = ""
            if reference_visit is None or reference_visit == visit_id:
                continue
            reference = per_subject[subject_id].get(reference_visit)
            current = measured.get(base_name)
            previous = reference[1].get(base_name) if reference is not None else None
            if current is None or previous is None or current.value is None or previous.value is None:
                continue
            if current.context != previous.context:
                continue
            row[variable.name] = _number(current.value - previous.value)
        rows.append({v.name: row.get(v.name, "") for v in variables})
    return WideExport(tuple(variables), tuple(rows))
