"""Blinded central reading campaigns: creation, the readers' worklists, adjudication and progress.

A campaign presents a set of films under random case codes (never derived from subject, visit or date)
to two or more central readers (at most six; slots reader 1, reader 2, ... in the order given at
creation), each in their own reproducible random order (`kyphoangle.worklist`, seeded by the
campaign's recorded seed) with a fraction of the cases re-presented later as hidden repeats.

Blinding: a reader gets a case through `next_case`, which returns the case code, the film (SOP Instance
UID and path) and the subject's fractured levels, nothing else. Through `case_reads` a central reader
sees only their own read of the case they are working on; other readers' reads, site reads and their
own earlier read of a repeated case raise `PermissionDeniedError`. Reads are saved with the reads
repository (`kyphoangle.storage.reads`) as `central` or `repeat` reads and linked to the worklist item.

Adjudication: the rule is fixed at creation (default: `regional_angle` differing by more than 5 deg at
any fractured level, or the readers disagreeing on which fractured levels are evaluable). It is
evaluated when the first (non-repeat) reads of all the campaign's readers are signed, for every pair
of readers; a case where any pair meets it enters the adjudicator's worklist, and the triggers name
the pair by slot ("reader 2 and reader 3"), never by login. The adjudicator selects one of the
readers' first reads with a reason, or makes their own (`adjudication`) read and selects it.

Final value of a case (what the analysis uses; averaging is discouraged, a final is always a real
read): without adjudication, the first-listed reader's (reader 1's) read, however many readers the
campaign has; with adjudication, the read the adjudicator selected (any reader's first read, or their
own read). Repeat reads only serve intra-reader reliability and are never final.

A data manager closes a campaign with `close_campaign`; nothing can then be read, saved, signed or
adjudicated in it.

Every step (creation, worklists, linking a read to its item, the rule's outcome, the decision) is
written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from kyphoangle.dicom.blinded_copy import blinded_instance_uid
from kyphoangle.errors import (
    AuthenticationError,
    KyphoangleError,
    NotFoundError,
    PermissionDeniedError,
    ReasonRequiredError,
)
from kyphoangle.landmark_file import LandmarkFile, ReadType
from kyphoangle.protocol import MeasurementName
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.models import (
    Adjudication,
    Campaign,
    CampaignCase,
    CampaignReader,
    CampaignRole,
    CampaignStatus,
    Image,
    Read,
    ReadStatus,
    Site,
    Subject,
    TreatedLevel,
    User,
    Visit,
    utc_now,
)
from kyphoangle.storage.models import WorklistItem as WorklistItemRow
from kyphoangle.storage.reads import (
    create_read,
    delete_draft,
    get_read,
    measurements_of,
    read_content,
    sign_read,
    update_draft,
)
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import (
    READ_TYPES_BY_ROLE,
    Permission,
    has_permission,
    require_permission,
    verify_signature,
)
from kyphoangle.worklist import case_codes, draw_worklist

DEFAULT_THRESHOLD_DEG = 5.0
DEFAULT_REPEAT_FRACTION = 0.1
DEFAULT_MIN_GAP = 20
READER_ROLES: tuple[CampaignRole, ...] = (
    CampaignRole.READER_1,
    CampaignRole.READER_2,
    CampaignRole.READER_3,
    CampaignRole.READER_4,
    CampaignRole.READER_5,
    CampaignRole.READER_6,
)
"""Every reader slot, in order; a campaign of k readers uses the first k (see `reader_roles`)."""
MIN_READERS = 2
"""Fewest central readers of a campaign."""
MAX_READERS = len(READER_ROLES)
"""Most central readers of a campaign."""


class CampaignError(KyphoangleError):
    """A campaign cannot be created or used as asked (bad settings, nothing left to read, ...)."""


class CaseState(enum.StrEnum):
    """Where a case is: being read, waiting for the adjudicator, or finished (a final read exists)."""

    READING = "reading"
    AWAITING_ADJUDICATION = "awaiting_adjudication"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class AdjudicationRule:
    """The rule fixed in advance that sends a case to the adjudicator.

    A case is adjudicated when `measurement` differs by more than `threshold_deg` between any two of
    the readers at any fractured level (or globally, for a measurement without level), or, with
    `level_disagreement`, when two readers disagree on which fractured levels are evaluable (a level one
    reader measured and the other marked not evaluable or could not measure).
    """

    measurement: MeasurementName = MeasurementName.REGIONAL_ANGLE
    threshold_deg: float = DEFAULT_THRESHOLD_DEG
    level_disagreement: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "measurement", MeasurementName(self.measurement))
        if not self.threshold_deg > 0:
            raise CampaignError(f"the adjudication threshold must be positive, not {self.threshold_deg}")


@dataclass(frozen=True, slots=True)
class CampaignSettings:
    """What a campaign was created with; stored as JSON in `campaign.adjudication_rule`."""

    rule: AdjudicationRule = field(default_factory=AdjudicationRule)
    measurements: tuple[MeasurementName, ...] = (MeasurementName.REGIONAL_ANGLE,)
    min_gap: int = DEFAULT_MIN_GAP
    min_gap_days: int | None = None

    def to_json(self) -> str:
        """The stored JSON text."""
        return json.dumps(
            {
                "measurement": str(self.rule.measurement),
                "threshold_deg": self.rule.threshold_deg,
                "level_disagreement": self.rule.level_disagreement,
                "measurements": [str(m) for m in self.measurements],
                "min_gap": self.min_gap,
                "min_gap_days": self.min_gap_days,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> CampaignSettings:
        """Read the stored JSON text back."""
        data = json.loads(text)
        return cls(
            rule=AdjudicationRule(
                MeasurementName(data["measurement"]),
                float(data["threshold_deg"]),
                bool(data.get("level_disagreement", True)),
            ),
            measurements=tuple(MeasurementName(m) for m in data.get("measurements", [data["measurement"]])),
            min_gap=int(data.get("min_gap", DEFAULT_MIN_GAP)),
            min_gap_days=data.get("min_gap_days"),
        )


@dataclass(frozen=True, slots=True)
class CaseView:
    """What a blinded reader is shown of a case: nothing about the patient, the date, visit or site."""

    case_code: str
    sop_instance_uid: str
    file_path: str
    fractured_levels: tuple[str, ...]
    position: int
    """1-based place in the reader's worklist."""
    total: int
    read_id: int | None
    """The reader's own draft for this presentation, when they have started it."""
    blinded_sop_instance_uid: str = ""
    """The SOP Instance UID of the case's blinded copy (what the reader's landmark file names)."""


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One line of a reader's worklist as the reader may see it: the case code and whether it is done."""

    position: int
    case_code: str
    done: bool


@dataclass(frozen=True, slots=True)
class ReaderProgress:
    """A reader's done and remaining presentations."""

    login: str
    role: CampaignRole
    done: int
    remaining: int


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """The campaign's status: per reader progress and the cases by state."""

    code: str
    status: CampaignStatus
    cases: int
    readers: tuple[ReaderProgress, ...]
    reading: int
    awaiting_adjudication: int
    adjudicated: int
    finished: int


# --- creation -----------------------------------------------------------------------------------------


def _select_images(
    session: Session,
    subjects: Sequence[str] | None,
    visits: Sequence[str] | None,
    sites: Sequence[str] | None,
) -> list[Image]:
    query = select(Image).join(Subject, Subject.id == Image.subject_id).order_by(Image.id)
    if subjects:
        known = set(session.scalars(select(Subject.code).where(Subject.code.in_(subjects))))
        if missing := sorted(set(subjects) - known):
            raise NotFoundError(f"there is no subject {', '.join(missing)}")
        query = query.where(Subject.code.in_(subjects))
    if visits:
        known = set(session.scalars(select(Visit.code).where(Visit.code.in_(visits))))
        if missing := sorted(set(visits) - known):
            raise NotFoundError(f"there is no visit {', '.join(missing)}")
        query = query.join(Visit, Visit.id == Image.visit_id).where(Visit.code.in_(visits))
    if sites:
        known = set(session.scalars(select(Site.code).where(Site.code.in_(sites))))
        if missing := sorted(set(sites) - known):
            raise NotFoundError(f"there is no site {', '.join(missing)}")
        query = query.join(Site, Site.id == Subject.site_id).where(Site.code.in_(sites))
    return list(session.scalars(query))


def create_campaign(
    session: Session,
    *,
    actor: User,
    code: str,
    readers: Sequence[User],
    adjudicator: User,
    title: str = "",
    subjects: Sequence[str] | None = None,
    visits: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    measurements: Sequence[MeasurementName | str] = (MeasurementName.REGIONAL_ANGLE,),
    rule: AdjudicationRule | None = None,
    repeat_fraction: float = DEFAULT_REPEAT_FRACTION,
    min_gap: int = DEFAULT_MIN_GAP,
    min_gap_days: int | None = None,
    seed: int | None = None,
) -> Campaign:
    """Create an open campaign: random case codes, each reader's worklist, all audited (data managers).

    `readers` are two to six different central readers; they become reader 1, reader 2, ... in the
    order given (reader 1's read is the final one when a case needs no adjudication). Images are every
    film, or those of the listed subjects, visits and sites. `seed` is generated when not given and
    recorded either way, so the orders can be drawn again.
    """
    require_permission(actor, Permission.MANAGE_CAMPAIGNS)
    if not code.strip():
        raise CampaignError("a campaign needs a name")
    if session.scalar(select(Campaign.id).where(Campaign.code == code)) is not None:
        raise CampaignError(f"there is already a campaign {code!r}")
    if not MIN_READERS <= len(readers) <= MAX_READERS:
        raise CampaignError(
            f"a campaign has {MIN_READERS} to {MAX_READERS} central readers, not {len(readers)}"
        )
    if len({user.id for user in readers}) != len(readers):
        raise CampaignError("each central reader can hold only one reader slot of a campaign")
    people = [*readers, adjudicator]
    if len({user.id for user in people}) != len(people):
        raise CampaignError("the readers and the adjudicator must be different people")
    for user in readers:
        if not user.active or ReadType.CENTRAL not in READ_TYPES_BY_ROLE[user.role]:
            raise CampaignError(f"{user.login} ({user.role}) cannot be a central reader")
    if not adjudicator.active or ReadType.ADJUDICATION not in READ_TYPES_BY_ROLE[adjudicator.role]:
        raise CampaignError(f"{adjudicator.login} ({adjudicator.role}) cannot adjudicate")
    chosen = tuple(MeasurementName(m) for m in measurements)
    settings = CampaignSettings(
        rule=rule or AdjudicationRule(),
        measurements=chosen or (MeasurementName.REGIONAL_ANGLE,),
        min_gap=min_gap,
        min_gap_days=min_gap_days,
    )
    if min_gap_days is not None and min_gap_days < 0:
        raise CampaignError("the minimum gap in days must not be negative")
    images = _select_images(session, subjects, visits, sites)
    if not images:
        raise CampaignError("no film matches the campaign's subjects, visits and sites")
    if seed is None:
        seed = secrets.randbelow(2**31 - 1)
    if not 0 <= seed < 2**31:
        raise CampaignError("the random seed must be between 0 and 2147483647")
    # Draw every order first: a gap that cannot be kept stops the creation before anything is written.
    orders = {
        user.login: draw_worklist(
            len(images), reader=user.login, seed=seed, repeat_fraction=repeat_fraction, min_gap=min_gap
        )
        for user in readers
    }
    campaign = Campaign(
        study_id=get_study(session).id,
        code=code,
        title=title or code,
        status=CampaignStatus.OPEN,
        random_seed=seed,
        repeat_fraction=repeat_fraction,
        adjudication_rule=settings.to_json(),
        created_at=utc_now(),
    )
    session.add(campaign)
    session.flush()
    # Which film gets which code is shuffled too, so code order says nothing about import order.
    codes = case_codes(seed, len(images))
    cases = [
        CampaignCase(campaign_id=campaign.id, case_code=case_code, image_id=image.id)
        for case_code, image in zip(codes, images, strict=True)
    ]
    session.add_all(cases)
    members = [
        CampaignReader(campaign_id=campaign.id, user_id=user.id, role=role)
        for user, role in zip(readers, READER_ROLES[: len(readers)], strict=True)
    ]
    members.append(
        CampaignReader(campaign_id=campaign.id, user_id=adjudicator.id, role=CampaignRole.ADJUDICATOR)
    )
    session.add_all(members)
    session.flush()
    record(
        session,
        actor=actor,
        entity=AuditEntity.CAMPAIGN,
        entity_id=campaign.id,
        action=AuditAction.CREATE,
        new={
            "code": code,
            "title": campaign.title,
            "random_seed": seed,
            "repeat_fraction": repeat_fraction,
            "settings": json.loads(settings.to_json()),
            "readers": {str(m.role): u.login for m, u in zip(members, people, strict=True)},
            "filters": {"subjects": subjects or [], "visits": visits or [], "sites": sites or []},
            "cases": {case.case_code: case.image_id for case in cases},
        },
    )
    for member, user in zip(members[: len(readers)], readers, strict=True):
        items = [
            _new_item(member, cases[item.case_index], item.position, item.is_repeat)
            for item in orders[user.login]
        ]
        session.add_all(items)
        session.flush()
        record(
            session,
            actor=actor,
            entity=AuditEntity.WORKLIST,
            entity_id=f"{campaign.id}/{user.login}",
            action=AuditAction.CREATE,
            new={
                "campaign": code,
                "reader": user.login,
                "role": member.role,
                "order": [[cases[i.case_index].case_code, i.is_repeat] for i in orders[user.login]],
            },
        )
    return campaign


def _new_item(member: CampaignReader, case: CampaignCase, position: int, is_repeat: bool) -> WorklistItemRow:
    return WorklistItemRow(
        campaign_reader_id=member.id, case_id=case.id, order_position=position, is_repeat=is_repeat
    )


# --- look-ups -----------------------------------------------------------------------------------------


def get_campaign(session: Session, code: str) -> Campaign:
    """The campaign with that name; NotFoundError otherwise."""
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise NotFoundError(f"there is no campaign {code!r}")
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    """Every campaign, by name."""
    return list(session.scalars(select(Campaign).order_by(Campaign.code)))


def settings_of(campaign: Campaign) -> CampaignSettings:
    """The campaign's rule, measurements and gaps."""
    return CampaignSettings.from_json(campaign.adjudication_rule)


def members_of(session: Session, campaign: Campaign) -> dict[CampaignRole, tuple[CampaignReader, User]]:
    """The campaign's readers (reader 1 first) and adjudicator (last) by role."""
    rows = session.execute(
        select(CampaignReader, User)
        .join(User, User.id == CampaignReader.user_id)
        .where(CampaignReader.campaign_id == campaign.id)
    ).all()
    members = {CampaignRole(member.role): (member, user) for member, user in rows}
    order = [*READER_ROLES, CampaignRole.ADJUDICATOR]
    return {role: members[role] for role in sorted(members, key=order.index)}


def reader_roles(session: Session, campaign: Campaign) -> tuple[CampaignRole, ...]:
    """The reader slots the campaign uses, in order (reader 1, reader 2, ...; two to six)."""
    query = select(CampaignReader.role).where(CampaignReader.campaign_id == campaign.id)
    used = set(session.scalars(query))
    return tuple(role for role in READER_ROLES if role in used)


def reader_name(role: CampaignRole) -> str:
    """How messages and reports name a reader slot: "reader 1", "reader 2", ... (never a login)."""
    role = CampaignRole(role)
    if role == CampaignRole.ADJUDICATOR:
        return "the adjudicator"
    return f"reader {READER_ROLES.index(role) + 1}"


def _membership(session: Session, campaign: Campaign, user: User) -> CampaignReader:
    member = session.scalar(
        select(CampaignReader).where(
            CampaignReader.campaign_id == campaign.id, CampaignReader.user_id == user.id
        )
    )
    if member is None:
        raise PermissionDeniedError(f"{user.login} takes no part in campaign {campaign.code!r}")
    return member


def _reader_membership(session: Session, campaign: Campaign, user: User) -> CampaignReader:
    member = _membership(session, campaign, user)
    if member.role not in READER_ROLES:
        raise PermissionDeniedError(f"{user.login} is not a reader of campaign {campaign.code!r}")
    return member


def _items(session: Session, member: CampaignReader) -> list[WorklistItemRow]:
    return list(
        session.scalars(
            select(WorklistItemRow)
            .where(WorklistItemRow.campaign_reader_id == member.id)
            .order_by(WorklistItemRow.order_position)
        )
    )


def current_read(read: Read) -> Read:
    """The read that replaces `read` when it was amended (following the chain), else `read` itself."""
    seen = {read.id}
    while read.superseded_by_id is not None and read.superseded_by_id not in seen:
        session = object_session(read)
        if session is None:
            raise CampaignError(f"read {read.id} is not attached to a database session")
        read = get_read(session, read.superseded_by_id)
        seen.add(read.id)
    return read


def _item_read(session: Session, item: WorklistItemRow) -> Read | None:
    return current_read(get_read(session, item.read_id)) if item.read_id is not None else None


def _is_done(session: Session, item: WorklistItemRow) -> bool:
    read = _item_read(session, item)
    return read is not None and read.status == ReadStatus.SIGNED


def _fractured_levels(session: Session, image: Image) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(TreatedLevel.level)
            .where(TreatedLevel.subject_id == image.subject_id)
            .order_by(TreatedLevel.position)
        )
    )


def _first_reading_signed(session: Session, member: CampaignReader, case_id: int) -> dt.datetime | None:
    first = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id,
            WorklistItemRow.case_id == case_id,
            WorklistItemRow.is_repeat.is_(False),
        )
    )
    read = _item_read(session, first) if first is not None else None
    return read.signed_at if read is not None and read.status == ReadStatus.SIGNED else None


def _current_item(
    session: Session, campaign: Campaign, member: CampaignReader, *, now: dt.datetime | None = None
) -> tuple[WorklistItemRow, int, int] | None:
    """The reader's next presentation (1-based position, total), honouring the gap in days of repeats."""
    items = _items(session, member)
    gap_days = settings_of(campaign).min_gap_days
    now = now or utc_now()
    for index, item in enumerate(items):
        if _is_done(session, item):
            continue
        if item.is_repeat and gap_days:
            signed = _first_reading_signed(session, member, item.case_id)
            if signed is None or now - signed < dt.timedelta(days=gap_days):
                continue  # held back: shown once the first reading is old enough
        return item, index + 1, len(items)
    return None


def _require_open(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignError(f"campaign {campaign.code!r} is {campaign.status}, not open")


# --- the reader's side ----------------------------------------------------------------------------------


def next_case(
    session: Session, campaign: Campaign, reader: User, *, now: dt.datetime | None = None
) -> CaseView | None:
    """The reader's next unread case (or the one in progress), blinded; None when nothing is left."""
    member = _reader_membership(session, campaign, reader)
    found = _current_item(session, campaign, member, now=now)
    if found is None:
        return None
    item, position, total = found
    case = session.get_one(CampaignCase, item.case_id)
    image = session.get_one(Image, case.image_id)
    read = _item_read(session, item)
    return CaseView(
        case_code=case.case_code,
        sop_instance_uid=image.sop_instance_uid,
        file_path=image.file_path,
        fractured_levels=_fractured_levels(session, image),
        position=position,
        total=total,
        read_id=read.id if read is not None else None,
        blinded_sop_instance_uid=blinded_instance_uid(
            image.sop_instance_uid, case.case_code, campaign_key(campaign)
        ),
    )


def campaign_key(campaign: Campaign) -> bytes:
    """The campaign's secret, under which blinded copies' UIDs are keyed hashes (never shown to anyone)."""
    return bytes.fromhex(campaign.uid_key)


def worklist(session: Session, campaign: Campaign, reader: User) -> list[WorklistEntry]:
    """The reader's own worklist: case codes and done flags, in reading order (repeats not marked)."""
    member = _reader_membership(session, campaign, reader)
    codes = _case_codes(session, campaign)
    return [
        WorklistEntry(item.order_position + 1, codes[item.case_id], _is_done(session, item))
        for item in _items(session, member)
    ]


def _case_codes(session: Session, campaign: Campaign) -> dict[int, str]:
    query = select(CampaignCase.id, CampaignCase.case_code).where(CampaignCase.campaign_id == campaign.id)
    return {case_id: code for case_id, code in session.execute(query)}


def save_case_read(
    session: Session,
    campaign: Campaign,
    reader: User,
    content: LandmarkFile,
    *,
    expected_version: int | None = None,
) -> Read:
    """Save the reader's landmarks for their current case: a new draft linked to it, or its update.

    The read type is `central` for a first presentation and `repeat` for a re-presentation.
    """
    _require_open(campaign)
    member = _reader_membership(session, campaign, reader)
    found = _current_item(session, campaign, member)
    if found is None:
        raise CampaignError(f"{reader.login} has no case left to read in campaign {campaign.code!r}")
    item = found[0]
    case = session.get_one(CampaignCase, item.case_id)
    image = session.get_one(Image, case.image_id)
    kind = ReadType.REPEAT if item.is_repeat else ReadType.CENTRAL
    named = content.sop_instance_uid
    if named and named not in (
        image.sop_instance_uid,
        blinded_instance_uid(image.sop_instance_uid, case.case_code, campaign_key(campaign)),
    ):
        raise CampaignError(f"these landmarks are of another film, not of case {case.case_code}")
    # A landmark file of the case's blinded copy names the copy's UID: the read is of the film itself.
    content = replace(content, sop_instance_uid=image.sop_instance_uid, reader=reader.login, read_type=kind)
    existing = _item_read(session, item)
    if existing is not None:
        if expected_version is None:
            expected_version = existing.version
        return update_draft(
            session, existing, content=content, expected_version=expected_version, actor=reader
        )
    read = create_read(session, image=image, reader=reader, content=content, read_type=kind, actor=reader)
    item.read_id = read.id
    record(
        session,
        actor=reader,
        entity=AuditEntity.WORKLIST,
        entity_id=f"{campaign.id}/{reader.login}/{item.order_position}",
        action=AuditAction.ASSIGN,
        old={"read_id": None},
        new={"read_id": read.id, "case_code": case.case_code, "read_type": kind},
    )
    return read


def sign_case_read(session: Session, campaign: Campaign, reader: User, password: str) -> Read:
    """Sign the reader's draft of their current case (their password); evaluates the adjudication rule."""
    _require_open(campaign)
    member = _reader_membership(session, campaign, reader)
    found = _current_item(session, campaign, member)
    read = _item_read(session, found[0]) if found is not None else None
    if found is None or read is None:
        raise CampaignError(f"{reader.login} has no draft to sign in campaign {campaign.code!r}")
    sign_read(session, read, password=password)
    if not found[0].is_repeat:
        evaluate_case(session, campaign, session.get_one(CampaignCase, found[0].case_id), actor=reader)
    return read


def case_reads(session: Session, campaign: Campaign, case_code: str, actor: User) -> list[Read]:
    """The reads of a case that `actor` may see (current reads, never superseded ones).

    Data managers and admins see all; the adjudicator sees the readers' first reads (and their own)
    of cases that need adjudication; a central reader sees only their own read of the presentation
    they are working on now. Anything else raises PermissionDeniedError.
    """
    case = get_case(session, campaign, case_code)
    rows = _case_items(session, case)
    if has_permission(actor, Permission.MANAGE_CAMPAIGNS):
        return [read for _, _, read in rows if read is not None]
    member = _membership(session, campaign, actor)
    if member.role == CampaignRole.ADJUDICATOR:
        if evaluate_rule_for_case(session, campaign, case) is None:
            raise PermissionDeniedError(
                f"case {case_code} does not need adjudication: the readers' reads stay blinded"
            )
        return [
            read
            for item, role, read in rows
            if read is not None and (not item.is_repeat or role == CampaignRole.ADJUDICATOR)
        ]
    found = _current_item(session, campaign, member)
    if found is None or found[0].case_id != case.id:
        raise PermissionDeniedError(
            f"{actor.login} may open only the case they are reading now, not case {case_code}"
        )
    own = _item_read(session, found[0])
    return [own] if own is not None else []


def get_case(session: Session, campaign: Campaign, case_code: str) -> CampaignCase:
    """The campaign's case with that code; NotFoundError otherwise."""
    case = session.scalar(
        select(CampaignCase).where(
            CampaignCase.campaign_id == campaign.id, CampaignCase.case_code == case_code
        )
    )
    if case is None:
        raise NotFoundError(f"campaign {campaign.code!r} has no case {case_code}")
    return case


def _case_items(
    session: Session, case: CampaignCase
) -> list[tuple[WorklistItemRow, CampaignRole, Read | None]]:
    rows = session.execute(
        select(WorklistItemRow, CampaignReader.role)
        .join(CampaignReader, CampaignReader.id == WorklistItemRow.campaign_reader_id)
        .where(WorklistItemRow.case_id == case.id)
        .order_by(CampaignReader.role, WorklistItemRow.order_position)
    ).all()
    return [(item, CampaignRole(role), _item_read(session, item)) for item, role in rows]


# --- adjudication ---------------------------------------------------------------------------------------


def _evaluable_levels(read: Read) -> set[str]:
    return {level.level for level in read.levels if level.fractured and level.not_evaluable_reason is None}


def evaluate_rule(
    rule: AdjudicationRule,
    first: Read,
    second: Read,
    *,
    names: tuple[str, str] = ("reader 1", "reader 2"),
) -> list[str]:
    """Why the two reads need adjudication under `rule` (empty when they agree well enough).

    `names` are how the triggers call the two readers (their slots, never their logins).
    """
    first_name, second_name = names
    pair = f"{first_name} and {second_name}"
    triggers: list[str] = []
    first_values = measurements_of(first)
    second_values = measurements_of(second)
    name = str(rule.measurement)
    first_levels, second_levels = _evaluable_levels(first), _evaluable_levels(second)
    if rule.level_disagreement and first_levels != second_levels:
        only_first = ", ".join(sorted(first_levels - second_levels)) or "none"
        only_second = ", ".join(sorted(second_levels - first_levels)) or "none"
        triggers.append(
            f"{pair} disagree on the evaluable levels (only {first_name}: {only_first}; "
            f"only {second_name}: {only_second})"
        )
    keys = sorted(
        {key for key in (*first_values, *second_values) if key[0] == name}, key=lambda k: k[1] or ""
    )
    for key in keys:
        a, b = first_values.get(key), second_values.get(key)
        a_value = a.value if a is not None else None
        b_value = b.value if b is not None else None
        where = f" at {key[1]}" if key[1] else ""
        if a_value is not None and b_value is not None:
            if abs(a_value - b_value) > rule.threshold_deg:
                triggers.append(
                    f"{name}{where} differs by {abs(a_value - b_value):.1f} deg between {pair} "
                    f"(> {rule.threshold_deg:g} deg)"
                )
        elif rule.level_disagreement and (a_value is None) != (b_value is None):
            measured, unmeasured = (first_name, second_name) if b_value is None else (second_name, first_name)
            triggers.append(f"{name}{where} was measured by {measured} but not by {unmeasured}")
    return triggers


def evaluate_rule_for_reads(rule: AdjudicationRule, reads: Mapping[CampaignRole, Read]) -> list[str]:
    """The triggers of every pair of readers (reader i with reader j, i < j); empty when all agree."""
    roles = [role for role in READER_ROLES if role in reads]
    triggers: list[str] = []
    for first, second in itertools.combinations(roles, 2):
        names = (reader_name(first), reader_name(second))
        triggers.extend(evaluate_rule(rule, reads[first], reads[second], names=names))
    return triggers


def _first_reads(session: Session, case: CampaignCase) -> tuple[dict[CampaignRole, Read], Read | None]:
    """The readers' signed first reads by role (reader order), and the adjudicator's signed read."""
    reads: dict[CampaignRole, Read] = {}
    third: Read | None = None
    for item, role, read in _case_items(session, case):
        if read is None or read.status != ReadStatus.SIGNED or item.is_repeat:
            continue
        if role == CampaignRole.ADJUDICATOR:
            third = read
        else:
            reads[role] = read
    return {role: reads[role] for role in READER_ROLES if role in reads}, third


def _all_first_reads(
    session: Session, campaign: Campaign, case: CampaignCase
) -> dict[CampaignRole, Read] | None:
    """Every reader's signed first read of the case by role, or None while one is missing."""
    reads, _ = _first_reads(session, case)
    if not reads or any(role not in reads for role in reader_roles(session, campaign)):
        return None
    return reads


def evaluate_rule_for_case(session: Session, campaign: Campaign, case: CampaignCase) -> list[str] | None:
    """The rule's triggers once all readers' first reads are signed (None before that, or if none)."""
    reads = _all_first_reads(session, campaign, case)
    if reads is None:
        return None
    return evaluate_rule_for_reads(settings_of(campaign).rule, reads) or None


def evaluate_case(
    session: Session, campaign: Campaign, case: CampaignCase, *, actor: User
) -> list[str] | None:
    """Evaluate the rule when all readers' first reads are signed; record the outcome in the audit trail."""
    reads = _all_first_reads(session, campaign, case)
    if reads is None:
        return None
    triggers = evaluate_rule_for_reads(settings_of(campaign).rule, reads) or None
    record(
        session,
        actor=actor,
        entity=AuditEntity.ADJUDICATION,
        entity_id=f"{campaign.id}/{case.case_code}",
        action=AuditAction.UPDATE,
        new={
            "case_code": case.case_code,
            "reads": {str(role): read.id for role, read in reads.items()},
            "adjudication_needed": triggers is not None,
            "triggers": triggers or [],
        },
    )
    return triggers


def case_state(session: Session, campaign: Campaign, case: CampaignCase) -> CaseState:
    """Reading (a reader's first read is not signed yet), awaiting adjudication or finished."""
    if _all_first_reads(session, campaign, case) is None:
        return CaseState.READING
    if evaluate_rule_for_case(session, campaign, case) is None:
        return CaseState.FINISHED
    decided = session.scalar(select(Adjudication.id).where(Adjudication.case_id == case.id))
    return CaseState.FINISHED if decided is not None else CaseState.AWAITING_ADJUDICATION


def adjudication_worklist(session: Session, campaign: Campaign, adjudicator: User) -> list[str]:
    """Case codes waiting for the adjudicator's decision."""
    member = _membership(session, campaign, adjudicator)
    if member.role != CampaignRole.ADJUDICATOR:
        raise PermissionDeniedError(f"{adjudicator.login} is not the adjudicator of {campaign.code!r}")
    cases = session.scalars(
        select(CampaignCase).where(CampaignCase.campaign_id == campaign.id).order_by(CampaignCase.case_code)
    )
    return [
        case.case_code
        for case in cases
        if case_state(session, campaign, case) is CaseState.AWAITING_ADJUDICATION
    ]


def _require_adjudicator(session: Session, campaign: Campaign, adjudicator: User) -> CampaignReader:
    member = _membership(session, campaign, adjudicator)
    if member.role != CampaignRole.ADJUDICATOR:
        raise PermissionDeniedError(f"{adjudicator.login} is not the adjudicator of {campaign.code!r}")
    return member


def _awaiting(session: Session, campaign: Campaign, case_code: str) -> CampaignCase:
    case = get_case(session, campaign, case_code)
    state = case_state(session, campaign, case)
    if state is not CaseState.AWAITING_ADJUDICATION:
        raise CampaignError(f"case {case_code} is not awaiting adjudication (it is {state})")
    return case


def save_adjudication_read(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str, content: LandmarkFile
) -> Read:
    """The adjudicator's own (third) read of a case awaiting adjudication: a new draft, or its update."""
    _require_open(campaign)
    member = _require_adjudicator(session, campaign, adjudicator)
    case = _awaiting(session, campaign, case_code)
    content = replace(content, reader=adjudicator.login, read_type=ReadType.ADJUDICATION)
    item = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id, WorklistItemRow.case_id == case.id
        )
    )
    existing = _item_read(session, item) if item is not None else None
    if existing is not None:
        return update_draft(
            session, existing, content=content, expected_version=existing.version, actor=adjudicator
        )
    image = session.get_one(Image, case.image_id)
    read = create_read(
        session, image=image, reader=adjudicator, content=content, read_type=ReadType.ADJUDICATION
    )
    position = max((i.order_position for i in _items(session, member)), default=-1) + 1
    session.add(
        WorklistItemRow(
            campaign_reader_id=member.id,
            case_id=case.id,
            order_position=position,
            is_repeat=False,
            read_id=read.id,
        )
    )
    record(
        session,
        actor=adjudicator,
        entity=AuditEntity.WORKLIST,
        entity_id=f"{campaign.id}/{adjudicator.login}/{position}",
        action=AuditAction.ASSIGN,
        new={"read_id": read.id, "case_code": case.case_code, "read_type": ReadType.ADJUDICATION},
    )
    return read


def adjudicate(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str, *, read: Read, reason: str
) -> Adjudication:
    """Select `read` (one of the readers' first reads, or the adjudicator's own signed read) as final."""
    _require_open(campaign)
    _require_adjudicator(session, campaign, adjudicator)
    if not reason.strip():
        raise ReasonRequiredError("an adjudication needs a reason")
    case = _awaiting(session, campaign, case_code)
    reads, third = _first_reads(session, case)
    allowed = {r.id: role for role, r in reads.items()}
    if third is not None:
        allowed[third.id] = CampaignRole.ADJUDICATOR
    if read.id not in allowed:
        raise CampaignError(
            f"read {read.id} cannot be chosen for case {case_code}: choose one of the readers' first reads "
            f"({', '.join(reader_name(role) for role in reads)}) or your own signed adjudication read"
        )
    decision = Adjudication(
        case_id=case.id,
        adjudicator_id=adjudicator.id,
        chosen_read_id=read.id,
        reason=reason,
        decided_at=utc_now(),
    )
    session.add(decision)
    session.flush()
    record(
        session,
        actor=adjudicator,
        entity=AuditEntity.ADJUDICATION,
        entity_id=f"{campaign.id}/{case.case_code}",
        action=AuditAction.CREATE,
        new={"case_code": case.case_code, "chosen_read_id": read.id, "chosen": allowed[read.id]},
        reason=reason,
    )
    return decision


def final_reads(session: Session, campaign: Campaign) -> dict[int, int]:
    """The final read id of each finished case, by case id.

    Without adjudication the final read is reader 1's first read, whatever the number of readers; with
    adjudication it is the read the adjudicator chose (following amendments to the current read).
    """
    finals: dict[int, int] = {}
    query = (
        select(Adjudication.case_id, Adjudication.chosen_read_id)
        .join(CampaignCase, CampaignCase.id == Adjudication.case_id)
        .where(CampaignCase.campaign_id == campaign.id)
    )
    decisions = {case_id: read_id for case_id, read_id in session.execute(query)}
    for case in session.scalars(select(CampaignCase).where(CampaignCase.campaign_id == campaign.id)):
        state = case_state(session, campaign, case)
        if state is not CaseState.FINISHED:
            continue
        if case.id in decisions:
            finals[case.id] = current_read(get_read(session, decisions[case.id])).id
        else:
            reads, _ = _first_reads(session, case)
            finals[case.id] = reads[CampaignRole.READER_1].id
    return finals


# --- closing --------------------------------------------------------------------------------------------


def close_campaign(session: Session, campaign: Campaign, *, actor: User, reason: str = "") -> Campaign:
    """Close the campaign (data managers and admins): nothing can be read or adjudicated in it any more.

    Cases not finished stay as they are (reported in the audit event); closing twice is refused.
    """
    require_permission(actor, Permission.MANAGE_CAMPAIGNS)
    old = CampaignStatus(campaign.status)
    if old == CampaignStatus.CLOSED:
        raise CampaignError(f"campaign {campaign.code!r} is already closed")
    cases = session.scalars(select(CampaignCase).where(CampaignCase.campaign_id == campaign.id))
    unfinished = sum(case_state(session, campaign, case) is not CaseState.FINISHED for case in cases)
    campaign.status = CampaignStatus.CLOSED
    record(
        session,
        actor=actor,
        entity=AuditEntity.CAMPAIGN,
        entity_id=campaign.id,
        action=AuditAction.UPDATE,
        old={"status": old},
        new={"status": CampaignStatus.CLOSED, "unfinished_cases": unfinished},
        reason=reason.strip() or None,
    )
    return campaign


# --- status ---------------------------------------------------------------------------------------------


def campaign_progress(session: Session, campaign: Campaign) -> CampaignProgress:
    """Each reader's done/remaining (reader 1 first) and the cases by state (reading, awaiting, ...)."""
    members = members_of(session, campaign)
    readers = []
    for role in (role for role in READER_ROLES if role in members):
        member, user = members[role]
        items = _items(session, member)
        done = sum(_is_done(session, item) for item in items)
        readers.append(ReaderProgress(user.login, role, done, len(items) - done))
    states = [
        case_state(session, campaign, case)
        for case in session.scalars(select(CampaignCase).where(CampaignCase.campaign_id == campaign.id))
    ]
    adjudicated_count = int(
        session.scalar(
            select(func.count(Adjudication.id))
            .join(CampaignCase, CampaignCase.id == Adjudication.case_id)
            .where(CampaignCase.campaign_id == campaign.id)
        )
        or 0
    )
    return CampaignProgress(
        code=campaign.code,
        status=CampaignStatus(campaign.status),
        cases=len(states),
        readers=tuple(readers),
        reading=states.count(CaseState.READING),
        awaiting_adjudication=states.count(CaseState.AWAITING_ADJUDICATION),
        adjudicated=adjudicated_count,
        finished=states.count(CaseState.FINISHED),
    )


def campaign_reads(session: Session, campaign: Campaign) -> Iterable[tuple[str, CampaignRole, bool, Read]]:
    """Every current read of the campaign: (case code, role, is repeat, read), by case and role."""
    codes = _case_codes(session, campaign)
    rows = session.execute(
        select(WorklistItemRow, CampaignReader.role)
        .join(CampaignReader, CampaignReader.id == WorklistItemRow.campaign_reader_id)
        .where(CampaignReader.campaign_id == campaign.id, WorklistItemRow.read_id.is_not(None))
        .order_by(WorklistItemRow.case_id, CampaignReader.role, WorklistItemRow.order_position)
    ).all()
    for item, role in rows:
        read = _item_read(session, item)
        if read is not None:
            yield codes[item.case_id], CampaignRole(role), item.is_repeat, read


# --- the adjudicator's view -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReaderRead:
    """One reader's signed first read as the adjudicator sees it: by slot ("Reader 1"), never by login."""

    role: CampaignRole
    label: str
    read_id: int
    content: LandmarkFile
    """Landmarks, levels and not-evaluable reasons; the reader's login is left out."""


@dataclass(frozen=True, slots=True)
class AdjudicationCase:
    """A case awaiting adjudication as the adjudicator is shown it: blinded to patient, date and reader."""

    case_code: str
    sop_instance_uid: str
    file_path: str
    fractured_levels: tuple[str, ...]
    position: int
    """1-based place among the cases awaiting adjudication."""
    total: int
    reads: tuple[ReaderRead, ...]
    """The readers' signed first reads, in reader order."""
    triggers: tuple[str, ...]
    """Why the case met the campaign's adjudication rule."""
    own_read_id: int | None
    """The adjudicator's own third read of the case (a draft), when started."""
    rule: AdjudicationRule
    """The campaign's adjudication rule (its measurement and threshold)."""


def reader_label(role: CampaignRole) -> str:
    """`reader_name` at the start of a line or on a button: "Reader 1", ..., "The adjudicator"."""
    name = reader_name(role)
    return name[:1].upper() + name[1:]


def adjudication_case(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str | None = None
) -> AdjudicationCase | None:
    """The case `case_code` (or the first one waiting) for the adjudicator; None when none is waiting."""
    _require_adjudicator(session, campaign, adjudicator)
    waiting = adjudication_worklist(session, campaign, adjudicator)
    if case_code is None:
        if not waiting:
            return None
        case_code = waiting[0]
    case = _awaiting(session, campaign, case_code)
    image = session.get_one(Image, case.image_id)
    reads, _ = _first_reads(session, case)
    own: Read | None = None
    for _item, role, read in _case_items(session, case):
        if role == CampaignRole.ADJUDICATOR and read is not None:
            own = read
    return AdjudicationCase(
        case_code=case.case_code,
        sop_instance_uid=image.sop_instance_uid,
        file_path=image.file_path,
        fractured_levels=_fractured_levels(session, image),
        position=waiting.index(case.case_code) + 1,
        total=len(waiting),
        reads=tuple(
            ReaderRead(role, reader_label(role), read.id, replace(read_content(read), reader=None))
            for role, read in sorted(reads.items())
        ),
        triggers=tuple(evaluate_rule_for_case(session, campaign, case) or ()),
        own_read_id=own.id if own is not None else None,
        rule=settings_of(campaign).rule,
    )


def _verify_decision_password(adjudicator: User, password: str) -> None:
    try:
        verify_signature(adjudicator, password)
    except AuthenticationError:
        raise AuthenticationError(
            f"wrong password for {adjudicator.login}: the decision was not recorded"
        ) from None


def choose_reader_read(
    session: Session,
    campaign: Campaign,
    adjudicator: User,
    case_code: str,
    *,
    role: CampaignRole,
    reason: str,
    password: str,
) -> Adjudication:
    """Select one reader's first read as the case's final read, signed with the adjudicator's password."""
    _require_adjudicator(session, campaign, adjudicator)
    _verify_decision_password(adjudicator, password)
    case = _awaiting(session, campaign, case_code)
    reads, _ = _first_reads(session, case)
    if role not in reads:
        raise CampaignError(f"case {case_code} has no signed read of {reader_label(role).lower()}")
    decision = adjudicate(session, campaign, adjudicator, case_code, read=reads[role], reason=reason)
    _discard_third_draft(session, campaign, adjudicator, case)
    return decision


def _discard_third_draft(session: Session, campaign: Campaign, adjudicator: User, case: CampaignCase) -> None:
    """Delete the adjudicator's unsigned third read of a decided case (its content stays in the audit)."""
    member = _require_adjudicator(session, campaign, adjudicator)
    item = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id, WorklistItemRow.case_id == case.id
        )
    )
    read = _item_read(session, item) if item is not None else None
    if item is None or read is None or read.status == ReadStatus.SIGNED:
        return
    session.delete(item)
    session.flush()
    delete_draft(
        session, read, actor=adjudicator, reason=f"case {case.case_code} decided with a reader's read"
    )


def sign_adjudication_read(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str, *, password: str, reason: str
) -> Adjudication:
    """Sign the adjudicator's own third read of the case and select it as final, in one step."""
    _require_open(campaign)
    member = _require_adjudicator(session, campaign, adjudicator)
    if not reason.strip():
        raise ReasonRequiredError("an adjudication needs a reason")
    case = _awaiting(session, campaign, case_code)
    item = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id, WorklistItemRow.case_id == case.id
        )
    )
    read = _item_read(session, item) if item is not None else None
    if read is None:
        raise CampaignError(f"there is no third read of case {case_code} to sign: place its landmarks first")
    if read.status != ReadStatus.SIGNED:
        sign_read(session, read, password=password)
    else:
        _verify_decision_password(adjudicator, password)
    return adjudicate(session, campaign, adjudicator, case_code, read=read, reason=reason)
