"""The data manager's side of the central reading campaigns, over the study database.

Each method is one user action in one session (a write transaction only when something is written, so
a refused creation leaves nothing behind) and returns plain values: no database object outlives its
session. The signed-in user is looked up again in every session and must be allowed to manage
campaigns; the core functions check the finer permissions (exporting, seeing the key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from kyphoangle.agreement_report import AgreementReport, agreement_report
from kyphoangle.campaign import (
    AdjudicationRule,
    CampaignProgress,
    CampaignSettings,
    campaign_progress,
    close_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    members_of,
    settings_of,
)
from kyphoangle.campaign_export import CampaignExportSummary, export_campaign, write_key_file
from kyphoangle.errors import KyphoangleError, OutputFileError
from kyphoangle.protocol import MeasurementName
from kyphoangle.storage import Database
from kyphoangle.storage.models import Campaign, User
from kyphoangle.storage.study import list_visits
from kyphoangle.storage.subjects import list_subjects
from kyphoangle.storage.users import READ_TYPES_BY_ROLE, get_user, list_users
from kyphoangle.vocabulary import CampaignRole, CampaignStatus, ReadType, UserRole
from kyphoangle.workstation import exchange
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import DatabaseService, SignedIn
from kyphoangle.workstation.records import Account

_T = TypeVar("_T")


class CampaignFileError(KyphoangleError):
    """A campaign file (CSV, key) could not be written where the user asked."""


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """One line of the campaign list."""

    code: str
    title: str
    status: CampaignStatus
    cases: int
    finished: int
    awaiting_adjudication: int


@dataclass(frozen=True, slots=True)
class CampaignDetails:
    """Everything the status panel shows of one campaign."""

    code: str
    title: str
    status: CampaignStatus
    created_at: dt.datetime
    seed: int
    repeat_fraction: float
    settings: CampaignSettings
    progress: CampaignProgress
    adjudicator: str
    """The adjudicator's login (empty when the campaign has none)."""


@dataclass(frozen=True, slots=True)
class Person:
    """A user who can take part in a campaign."""

    login: str
    full_name: str
    role: UserRole

    @property
    def label(self) -> str:
        """Login, with the full name when there is one."""
        return f"{self.login} ({self.full_name})" if self.full_name else self.login


@dataclass(frozen=True, slots=True)
class Choice:
    """A subject, visit or site a campaign's films can be chosen by: its code and a description."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class CampaignChoices:
    """What the new-campaign dialog offers."""

    subjects: tuple[Choice, ...]
    visits: tuple[Choice, ...]
    sites: tuple[Choice, ...]
    readers: tuple[Person, ...]
    """Active users who may do central reads."""
    adjudicators: tuple[Person, ...]
    """Active users who may do adjudication reads."""


@dataclass(frozen=True, slots=True)
class CampaignRequest:
    """A new campaign as entered in the dialog (logins and codes; the core checks everything)."""

    code: str
    readers: tuple[str, ...]
    """Logins in reader order: reader 1, reader 2, ..."""
    adjudicator: str
    title: str = ""
    subjects: tuple[str, ...] | None = None
    visits: tuple[str, ...] | None = None
    sites: tuple[str, ...] | None = None
    measurements: tuple[MeasurementName, ...] = (MeasurementName.REGIONAL_ANGLE,)
    rule: AdjudicationRule | None = None
    repeat_fraction: float = 0.1
    """Share of the cases presented twice, 0 to 1."""
    min_gap: int = 20
    min_gap_days: int | None = None
    seed: int | None = None
    snapping: bool = True
    """Whether the readers may accept snapping proposals (off: every landmark placed by hand)."""


@contextmanager
def _file_errors(path: Path) -> Iterator[None]:
    """A file that cannot be written becomes a CampaignFileError naming it (the transaction rolls back)."""
    try:
        yield
    except OutputFileError as exc:
        raise CampaignFileError(f"{path} cannot be written: {exc.reason}") from exc
    except OSError as exc:
        raise CampaignFileError(f"{path} cannot be written: {exc.strerror or exc}") from exc


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _may_read(user: User, kind: ReadType) -> bool:
    return user.active and kind in READ_TYPES_BY_ROLE[UserRole(user.role)]


def _person(user: User) -> Person:
    return Person(user.login, user.full_name, UserRole(user.role))


class CampaignAdminService(DatabaseService):
    """Campaign creation, status, closing, export and agreement for a data manager or admin."""

    kept_when_unavailable = "nothing was changed."

    def __init__(self, database: Database, account: Account) -> None:
        super().__init__(database)
        self.use_account(account)

    def _actor(self, session: Session) -> User:
        return get_user(session, self.login)

    def _reading(self, action: Callable[[Session, User], _T]) -> _T:
        self.check(Action.MANAGE_CAMPAIGNS)

        def run() -> _T:
            with self.database.reading() as session:
                return action(session, self._actor(session))

        return self._guard(run)

    def _writing(self, action: Callable[[Session, User], _T]) -> _T:
        self.check(Action.MANAGE_CAMPAIGNS)

        def run() -> _T:
            with self.database.transaction() as session:
                return action(session, self._actor(session))

        return self._guard(run)

    # ------------------------------------------------------------------------------------- reading
    def campaigns(self) -> list[CampaignRow]:
        """Every campaign by name, with its cases, finished cases and cases awaiting adjudication."""

        def run(session: Session, _actor: User) -> list[CampaignRow]:
            rows = []
            for campaign in list_campaigns(session):
                progress = campaign_progress(session, campaign)
                rows.append(
                    CampaignRow(
                        campaign.code,
                        campaign.title,
                        CampaignStatus(campaign.status),
                        progress.cases,
                        progress.finished,
                        progress.awaiting_adjudication,
                    )
                )
            return rows

        return self._reading(run)

    def details(self, code: str) -> CampaignDetails:
        """The campaign's progress, people and settings."""
        return self._reading(lambda session, _actor: self._details(session, get_campaign(session, code)))

    @staticmethod
    def _details(session: Session, campaign: Campaign) -> CampaignDetails:
        adjudicator = members_of(session, campaign).get(CampaignRole.ADJUDICATOR)
        return CampaignDetails(
            code=campaign.code,
            title=campaign.title,
            status=CampaignStatus(campaign.status),
            created_at=campaign.created_at,
            seed=campaign.random_seed,
            repeat_fraction=campaign.repeat_fraction,
            settings=settings_of(campaign),
            progress=campaign_progress(session, campaign),
            adjudicator=adjudicator[1].login if adjudicator is not None else "",
        )

    def choices(self) -> CampaignChoices:
        """Subjects with films, visits, sites and the users who may read or adjudicate."""

        def run(session: Session, _actor: User) -> CampaignChoices:
            subjects = [s for s in list_subjects(session) if s.image_count > 0]
            sites = sorted({s.site for s in subjects if s.site})
            users = [u for u in list_users(session) if u.active]
            return CampaignChoices(
                subjects=tuple(
                    Choice(s.code, f"{s.code}  ({s.site or 'no site'}, {_count(s.image_count, 'film')})")
                    for s in subjects
                ),
                visits=tuple(Choice(v.code, f"{v.code}  ({v.label})") for v in list_visits(session)),
                sites=tuple(
                    Choice(code, f"{code}  ({_count(sum(s.site == code for s in subjects), 'subject')})")
                    for code in sites
                ),
                readers=tuple(_person(u) for u in users if _may_read(u, ReadType.CENTRAL)),
                adjudicators=tuple(_person(u) for u in users if _may_read(u, ReadType.ADJUDICATION)),
            )

        return self._reading(run)

    def agreement(self, code: str) -> AgreementReport:
        """The campaign's reliability statistics (computed from the signed reads now)."""
        return self._reading(
            lambda session, actor: agreement_report(session, get_campaign(session, code), actor=actor)
        )

    def export_dicom_reports(self, folder: Path) -> int:
        """Every signed read as DICOM SR and GSPS files in `folder`; how many reads were written."""
        signed_in = SignedIn(self.database, self.account)

        def run() -> int:
            with _file_errors(folder):
                return len(exchange.export_dicom_reports(signed_in, folder))

        return self._guard(run)

    def monitoring(self) -> exchange.MonitoringReport:
        """The trial monitoring report as of today (films, reads, central reading, overdue items)."""
        signed_in = SignedIn(self.database, self.account)
        return self._guard(lambda: exchange.make_monitoring_report(signed_in))

    # ------------------------------------------------------------------------------------- writing
    def create(self, request: CampaignRequest) -> CampaignDetails:
        """Create the campaign and its worklists in one transaction (nothing is kept when refused)."""

        def run(session: Session, actor: User) -> CampaignDetails:
            campaign = create_campaign(
                session,
                actor=actor,
                code=request.code.strip(),
                title=request.title.strip(),
                readers=[get_user(session, login) for login in request.readers],
                adjudicator=get_user(session, request.adjudicator),
                subjects=request.subjects,
                visits=request.visits,
                sites=request.sites,
                measurements=request.measurements,
                rule=request.rule,
                repeat_fraction=request.repeat_fraction,
                min_gap=request.min_gap,
                min_gap_days=request.min_gap_days,
                seed=request.seed,
                snapping=request.snapping,
            )
            session.flush()
            return self._details(session, campaign)

        return self._writing(run)

    def close(self, code: str, reason: str) -> None:
        """Close the campaign: no more reading or adjudication (audited, with the reason)."""
        self._writing(
            lambda session, actor: close_campaign(
                session, get_campaign(session, code), actor=actor, reason=reason
            )
        )

    def export_csv(self, code: str, path: Path) -> CampaignExportSummary:
        """Write the blinded campaign CSV (no patient identity)."""

        def run(session: Session, actor: User) -> CampaignExportSummary:
            with _file_errors(path):
                return export_campaign(session, get_campaign(session, code), path, actor=actor)

        return self._reading(run)

    def export_key(self, code: str, path: Path) -> Path:
        """Write the case code key (un-blinds; recorded in the audit trail in the same transaction)."""

        def run(session: Session, actor: User) -> Path:
            with _file_errors(path):
                return write_key_file(session, get_campaign(session, code), path, actor=actor)

        return self._writing(run)
