"""Blinded reading campaigns for the command line: creating, worklists, the next case, reading, adjudicating,
progress, closing, exporting and the agreement statistics.

A reader sees only the campaigns they are a member of, by case code and blinded image UID; progress of
other readers, other campaigns and the case code key are for data managers and admins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kyphoangle import campaign as campaigns
from kyphoangle.agreement_report import AgreementReport, agreement_report
from kyphoangle.campaign import AdjudicationRule, CampaignProgress
from kyphoangle.campaign_export import CampaignExportSummary, export_campaign
from kyphoangle.dicom.blinded_copy import blinded_instance_uid, write_blinded_copy
from kyphoangle.errors import PermissionDeniedError, RadiographError
from kyphoangle.landmark_file import read_landmark_file
from kyphoangle.protocol import MeasurementName
from kyphoangle.storage.reads import get_read
from kyphoangle.storage.users import get_user
from kyphoangle.vocabulary import CampaignRole, ReadStatus, ReadType
from kyphoangle.workstation.access import Action, Scope
from kyphoangle.workstation.connection import SignedIn, record_denial

__all__ = [
    "AdjudicationDecision",
    "CreatedCampaign",
    "NextCase",
    "SavedCaseRead",
    "WorklistRow",
    "adjudicate_case",
    "campaign_agreement",
    "campaign_status",
    "close_campaign",
    "create_campaign",
    "export_campaign_csv",
    "my_worklist",
    "next_case",
    "read_case",
]


@dataclass(frozen=True, slots=True)
class CreatedCampaign:
    """A campaign just created, with the random seed that fixed its order."""

    code: str
    seed: int


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One case of a worklist: its place, its code, and whether it is done (or awaiting adjudication)."""

    position: int | None
    case_code: str
    done: bool
    awaiting_adjudication: bool = False


@dataclass(frozen=True, slots=True)
class NextCase:
    """A reader's next case: code, place, blinded image UID, levels, draft read, blinded film copy."""

    case_code: str
    position: int
    total: int
    blinded_uid: str
    fractured_levels: tuple[str, ...]
    draft_read_id: int | None
    film: Path | None


@dataclass(frozen=True, slots=True)
class SavedCaseRead:
    """A campaign read just saved (and perhaps signed)."""

    read_id: int
    read_type: ReadType
    status: ReadStatus


@dataclass(frozen=True, slots=True)
class AdjudicationDecision:
    """Which read became a case's final read."""

    case_code: str
    read_id: int
    chosen: CampaignRole | None


def _require_member(actor: SignedIn, code: str, scope: Scope, action: Action) -> None:
    """Refuse (audited) a reader who is not a member of the campaign; managers see every campaign."""
    if scope is not Scope.ASSIGNED:
        return
    with actor.reading() as (session, user):
        campaign = campaigns.get_campaign(session, code)
        member = any(m[1].id == user.id for m in campaigns.members_of(session, campaign).values())
    if not member:
        record_denial(actor.database, actor.account.login, action)
        raise PermissionDeniedError(f"you are not a reader of campaign {code}")


def create_campaign(
    actor: SignedIn,
    code: str,
    *,
    readers: Sequence[str],
    adjudicator: str,
    title: str = "",
    subjects: Sequence[str] | None = None,
    visits: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    measurements: Sequence[MeasurementName] = (MeasurementName.REGIONAL_ANGLE,),
    rule: AdjudicationRule | None = None,
    repeat_fraction: float = campaigns.DEFAULT_REPEAT_FRACTION,
    min_gap: int = campaigns.DEFAULT_MIN_GAP,
    min_gap_days: int | None = None,
    seed: int | None = None,
    snapping: bool = True,
) -> CreatedCampaign:
    """Create a campaign and its readers' worklists in one transaction."""
    actor.check(Action.MANAGE_CAMPAIGNS)
    with actor.writing() as (session, user):
        campaign = campaigns.create_campaign(
            session,
            actor=user,
            code=code,
            title=title,
            readers=[get_user(session, name) for name in readers],
            adjudicator=get_user(session, adjudicator),
            subjects=subjects,
            visits=visits,
            sites=sites,
            measurements=measurements,
            rule=rule,
            repeat_fraction=repeat_fraction,
            min_gap=min_gap,
            min_gap_days=min_gap_days,
            seed=seed,
            snapping=snapping,
        )
        return CreatedCampaign(campaign.code, campaign.random_seed)


def my_worklist(actor: SignedIn, code: str) -> tuple[bool, list[WorklistRow]]:
    """The user's worklist (case codes only), or the adjudicator's cases awaiting adjudication: (whether
    the user adjudicates the campaign, the rows)."""
    scope = actor.check(Action.LIST_CAMPAIGNS)
    _require_member(actor, code, scope, Action.LIST_CAMPAIGNS)
    with actor.reading() as (session, user):
        campaign = campaigns.get_campaign(session, code)
        adjudicator = campaigns.members_of(session, campaign).get(CampaignRole.ADJUDICATOR)
        if adjudicator is not None and adjudicator[1].id == user.id:
            waiting = campaigns.adjudication_worklist(session, campaign, user)
            return True, [WorklistRow(None, case, False, True) for case in waiting]
        entries = campaigns.worklist(session, campaign, user)
        return False, [WorklistRow(e.position, e.case_code, e.done) for e in entries]


def next_case(actor: SignedIn, code: str, *, film: str | Path | None = None) -> NextCase | None:
    """The user's next case (never its file's path); with `film`, a blinded copy of it written there."""
    actor.check(Action.READ_CASES)
    with actor.reading() as (session, user):
        case = campaigns.next_case(session, campaigns.get_campaign(session, code), user)
    if case is None:
        return None
    written = None
    if film is not None:
        try:
            written = write_blinded_copy(case.file_path, film, case_code=case.case_code)
        except RadiographError as exc:
            if exc.path == str(Path(film)):
                raise
            # The film's own path may name the patient: the message names the case only.
            raise RadiographError(
                None,
                f"the film of case {case.case_code} cannot be read ({exc.reason}); please tell "
                "the data manager, quoting the case code",
            ) from None
    return NextCase(
        case.case_code,
        case.position,
        case.total,
        blinded_instance_uid(case.sop_instance_uid, case.case_code),
        tuple(case.fractured_levels),
        case.read_id,
        Path(written) if written is not None else None,
    )


def read_case(actor: SignedIn, code: str, file: str | Path, *, sign_with: str | None = None) -> SavedCaseRead:
    """Save (and sign, with the reader's password) the user's landmarks for their current case."""
    actor.check(Action.READ_CASES)
    if sign_with is not None:
        actor.check(Action.SIGN)
    content = read_landmark_file(file)
    with actor.writing() as (session, user):
        campaign = campaigns.get_campaign(session, code)
        read = campaigns.save_case_read(session, campaign, user, content)
        if sign_with is not None:
            campaigns.sign_case_read(session, campaign, user, sign_with)
        return SavedCaseRead(read.id, read.read_type, read.status)


def adjudicate_case(
    actor: SignedIn,
    code: str,
    case_code: str,
    *,
    reason: str,
    password: str,
    choose: CampaignRole | None = None,
    read_id: int | None = None,
) -> AdjudicationDecision:
    """Select a case's final read: a reader slot's first read (password checked) or a read by id."""
    actor.check(Action.ADJUDICATE)
    with actor.writing() as (session, user):
        campaign = campaigns.get_campaign(session, code)
        if choose is not None:
            decision = campaigns.choose_reader_read(
                session, campaign, user, case_code, role=choose, reason=reason, password=password
            )
            return AdjudicationDecision(case_code, decision.chosen_read_id, choose)
        if read_id is None:
            raise PermissionDeniedError("say which read becomes final: a reader slot or a read id")
        campaigns.adjudicate(
            session, campaign, user, case_code, read=get_read(session, read_id), reason=reason
        )
        return AdjudicationDecision(case_code, read_id, None)


def campaign_status(actor: SignedIn, code: str) -> CampaignProgress:
    """The campaign's progress: every reader's line for managers, only one's own for a member reader."""
    scope = actor.check(Action.LIST_CAMPAIGNS)
    _require_member(actor, code, scope, Action.LIST_CAMPAIGNS)
    with actor.reading() as (session, _user):
        campaign = campaigns.get_campaign(session, code)
        progress = campaigns.campaign_progress(session, campaign)
    if scope is Scope.ALL:
        return progress
    return replace(progress, readers=tuple(r for r in progress.readers if r.login == actor.account.login))


def close_campaign(actor: SignedIn, code: str, *, reason: str = "") -> CampaignProgress:
    """Close a campaign (audited with the reason); its progress when it was closed."""
    actor.check(Action.MANAGE_CAMPAIGNS)
    with actor.writing() as (session, user):
        campaign = campaigns.get_campaign(session, code)
        progress = campaigns.campaign_progress(session, campaign)
        campaigns.close_campaign(session, campaign, actor=user, reason=reason)
        return progress


def export_campaign_csv(
    actor: SignedIn, code: str, out: str | Path, *, key: str | Path | None = None
) -> CampaignExportSummary:
    """Write the blinded campaign CSV, and with `key` the case code key (audited)."""
    actor.check(Action.EXPORT_CAMPAIGNS)
    with actor.writing() as (session, user):
        return export_campaign(session, campaigns.get_campaign(session, code), out, actor=user, key=key)


def campaign_agreement(actor: SignedIn, code: str) -> AgreementReport:
    """The campaign's reliability statistics, computed from the signed reads now."""
    actor.check(Action.EXPORT_CAMPAIGNS)
    with actor.reading() as (session, user):
        return agreement_report(session, campaigns.get_campaign(session, code), actor=user)
