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

The package holds one module per idea: `settings`, `slots` (reader 1 to reader 6), `rule` (the
adjudication rule, pure), `drawing` (which films, each reader's worklist items), `creation` (creating and
closing), `members` (lookups), `state` (a case's state, derived in one place), `reading`, `adjudication`
and `progress`. Everything public is importable from `kyphoangle.campaign` itself.
"""

from __future__ import annotations

from kyphoangle.campaign.adjudication import (
    AdjudicationCase,
    ReaderRead,
    adjudicate,
    adjudication_case,
    adjudication_worklist,
    choose_reader_read,
    save_adjudication_read,
    sign_adjudication_read,
)
from kyphoangle.campaign.creation import close_campaign, create_campaign
from kyphoangle.campaign.drawing import select_images, worklist_item
from kyphoangle.campaign.errors import CampaignError
from kyphoangle.campaign.members import (
    current_read,
    get_campaign,
    get_case,
    list_campaigns,
    members_of,
    reader_roles,
    settings_of,
)
from kyphoangle.campaign.progress import CampaignProgress, ReaderProgress, campaign_progress, campaign_reads
from kyphoangle.campaign.reading import (
    CaseView,
    WorklistEntry,
    case_reads,
    next_case,
    save_case_read,
    sign_case_read,
    worklist,
)
from kyphoangle.campaign.rule import (
    DEFAULT_THRESHOLD_DEG,
    AdjudicationRule,
    evaluate_rule,
    evaluate_rule_for_reads,
)
from kyphoangle.campaign.settings import DEFAULT_MIN_GAP, DEFAULT_REPEAT_FRACTION, CampaignSettings
from kyphoangle.campaign.slots import MAX_READERS, MIN_READERS, READER_ROLES, reader_label, reader_name
from kyphoangle.campaign.state import (
    CaseState,
    case_state,
    evaluate_case,
    evaluate_rule_for_case,
    final_reads,
)

__all__ = [
    "DEFAULT_MIN_GAP",
    "DEFAULT_REPEAT_FRACTION",
    "DEFAULT_THRESHOLD_DEG",
    "MAX_READERS",
    "MIN_READERS",
    "READER_ROLES",
    "AdjudicationCase",
    "AdjudicationRule",
    "CampaignError",
    "CampaignProgress",
    "CampaignSettings",
    "CaseState",
    "CaseView",
    "ReaderProgress",
    "ReaderRead",
    "WorklistEntry",
    "adjudicate",
    "adjudication_case",
    "adjudication_worklist",
    "campaign_progress",
    "campaign_reads",
    "case_reads",
    "case_state",
    "choose_reader_read",
    "close_campaign",
    "create_campaign",
    "current_read",
    "evaluate_case",
    "evaluate_rule",
    "evaluate_rule_for_case",
    "evaluate_rule_for_reads",
    "final_reads",
    "get_campaign",
    "get_case",
    "list_campaigns",
    "members_of",
    "next_case",
    "reader_label",
    "reader_name",
    "reader_roles",
    "save_adjudication_read",
    "save_case_read",
    "select_images",
    "settings_of",
    "sign_adjudication_read",
    "sign_case_read",
    "worklist",
    "worklist_item",
]
