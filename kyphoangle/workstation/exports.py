"""The statisticians' study CSV (with its data dictionary) and recomputing stored measurements."""

from __future__ import annotations

from pathlib import Path

from kyphoangle.export import ExportSummary, export_csv
from kyphoangle.observation_export import ObservationExportSummary, export_observations
from kyphoangle.storage.recompute import RecomputeSummary, recompute
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import SignedIn

__all__ = ["export_observations_csv", "export_study_csv", "recompute_measurements"]


def export_study_csv(
    actor: SignedIn,
    out: str | Path,
    *,
    wide: bool = False,
    signed_only: bool = False,
    include_superseded: bool = False,
    normal_table: str | None = None,
) -> ExportSummary:
    """Write every measurement to `out` and its data dictionary beside it (no identity, no dates)."""
    actor.check(Action.EXPORT_STUDY)
    with actor.reading() as (session, user):
        return export_csv(
            session,
            out,
            actor=user,
            wide=wide,
            signed_only=signed_only,
            include_superseded=include_superseded,
            normal_table=normal_table,
        )


def export_observations_csv(
    actor: SignedIn, out: str | Path, *, signed_only: bool = False, include_superseded: bool = False
) -> ObservationExportSummary:
    """Write the readers' observations per level (grades, new and adjacent fractures, cement leakage)."""
    actor.check(Action.EXPORT_STUDY)
    with actor.reading() as (session, user):
        return export_observations(
            session, out, actor=user, signed_only=signed_only, include_superseded=include_superseded
        )


def recompute_measurements(actor: SignedIn, *, normal_table: str | None = None) -> RecomputeSummary:
    """Recompute every read's measurements from its landmarks (audited; one transaction)."""
    actor.check(Action.RECOMPUTE)
    with actor.writing() as (session, user):
        return recompute(session, actor=user, normal_table=normal_table)
