"""The trial's access policy: for each role and action, whether it is allowed, on what, and which fields show.

This is the one place that says who may do what. Every command of the command line and every window of
the workstation asks it before touching the study (`require`), and lists only the fields it allows
(`visible_fields`). A refused action raises `PermissionDeniedError` with one line naming the role and
the action ("central readers cannot list image paths"); `deny` also records the refusal in the audit
trail.

Blinding: central readers and adjudicators work on the cases of the campaigns they are members of, by
case code and blinded image identity; they never see an original UID, a file path, a patient's name, ID
or dates, a visit, a site, or another reader's values. The policy is written as a table
(`POLICY`) so that the documentation (`docs/access.md`, made by `matrix_markdown`) is generated from it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from kyphoangle.errors import PermissionDeniedError
from kyphoangle.vocabulary import UserRole

__all__ = [
    "POLICY",
    "Action",
    "Field",
    "Scope",
    "access_document",
    "allowed",
    "denial_message",
    "matrix_markdown",
    "require",
    "scope_of",
    "visible_fields",
]


class Action(enum.StrEnum):
    """Something a user may try; the value completes "<role>s cannot ..."."""

    LIST_SUBJECTS = "list subjects"
    SHOW_IDENTITY = "see patient identity"
    EDIT_SUBJECTS = "edit subjects"
    LIST_IMAGES = "list images"
    LIST_IMAGE_PATHS = "list image paths"
    EDIT_IMAGES = "record patient positions"
    LIST_VISITS = "list visits"
    ASSIGN_VISITS = "assign visits"
    IMPORT_IMAGES = "import images"
    LIST_READS = "list reads"
    EXPORT_READS = "export reads"
    IMPORT_READS = "import reads"
    IMPORT_READS_FOR_OTHERS = "import reads on behalf of readers"
    SIGN = "sign reads"
    AMEND = "amend signed reads"
    READ_CASES = "read campaign cases"
    ADJUDICATE = "adjudicate"
    EXPORT_STUDY = "export the study"
    RECOMPUTE = "recompute measurements"
    LIST_CAMPAIGNS = "list campaigns"
    MANAGE_CAMPAIGNS = "manage campaigns"
    EXPORT_CAMPAIGNS = "export campaigns"
    LIST_AUDIT = "list the audit trail"
    VERIFY_AUDIT = "verify the audit trail"
    MANAGE_USERS = "manage users"
    LIST_USERS = "list users"
    BACK_UP = "back up the study database"
    EXPORT_DICOM_REPORTS = "export signed reads as DICOM reports"
    IMPORT_DICOM_REPORTS = "import DICOM reports as reads"
    EXPORT_EDC = "export for the EDC"
    MONITOR = "make the monitoring report"
    LIST_PACS_NODES = "list PACS nodes"
    MANAGE_PACS_NODES = "configure PACS nodes"
    QUERY_PACS = "query PACS nodes"
    RETRIEVE_FROM_PACS = "retrieve films from PACS nodes"
    SEND_TO_PACS = "send reports to PACS nodes"


class Scope(enum.StrEnum):
    """On what an allowed action acts."""

    ALL = "all"
    """Every record of the study."""
    OWN_SITE = "own site"
    """The subjects of the user's site."""
    OWN = "own"
    """The user's own reads and account."""
    ASSIGNED = "assigned cases"
    """The cases of the campaigns the user is a member of, blinded (case codes, blinded image UIDs)."""
    NONE = "no"
    """Refused."""


class Field(enum.StrEnum):
    """A kind of information a listing, an export or a window may show."""

    SUBJECT_CODE = "subject code"
    PATIENT_IDENTITY = "patient name, ID and birth date"
    SITE = "site"
    VISIT = "visit"
    DATES = "dates (procedure, study, study day)"
    ORIGINAL_UID = "original SOP Instance UID"
    FILE_PATH = "file path"
    READER = "reader login"
    OTHER_READERS_VALUES = "other readers' values"
    CASE_CODE = "case code"
    BLINDED_UID = "blinded image UID"
    OWN_VALUES = "own landmarks and measurements"


_MANAGER_ACTIONS: dict[Action, Scope] = {action: Scope.ALL for action in Action} | {
    Action.MANAGE_USERS: Scope.NONE,
    Action.MANAGE_PACS_NODES: Scope.NONE,
    Action.SIGN: Scope.NONE,
    Action.AMEND: Scope.NONE,
    Action.READ_CASES: Scope.NONE,
    Action.ADJUDICATE: Scope.NONE,
    Action.LIST_USERS: Scope.ALL,
}

_BLINDED_READER: dict[Action, Scope] = {action: Scope.NONE for action in Action} | {
    Action.LIST_READS: Scope.ASSIGNED,
    Action.SIGN: Scope.ASSIGNED,
    Action.AMEND: Scope.ASSIGNED,
    Action.READ_CASES: Scope.ASSIGNED,
    Action.LIST_CAMPAIGNS: Scope.ASSIGNED,
    Action.LIST_USERS: Scope.OWN,
    Action.VERIFY_AUDIT: Scope.ALL,
}

POLICY: Mapping[UserRole, Mapping[Action, Scope]] = {
    UserRole.ADMIN: {action: Scope.ALL for action in Action}
    | {Action.SIGN: Scope.NONE, Action.AMEND: Scope.NONE, Action.READ_CASES: Scope.NONE}
    | {Action.ADJUDICATE: Scope.NONE},
    UserRole.DATA_MANAGER: _MANAGER_ACTIONS,
    UserRole.SITE_READER: {action: Scope.NONE for action in Action}
    | {
        Action.LIST_SUBJECTS: Scope.OWN_SITE,
        Action.LIST_IMAGES: Scope.OWN_SITE,
        Action.LIST_IMAGE_PATHS: Scope.OWN_SITE,
        Action.LIST_VISITS: Scope.ALL,
        Action.LIST_READS: Scope.OWN,
        Action.EXPORT_READS: Scope.OWN,
        Action.IMPORT_READS: Scope.OWN,
        Action.SIGN: Scope.OWN,
        Action.AMEND: Scope.OWN,
        Action.LIST_USERS: Scope.OWN,
        Action.VERIFY_AUDIT: Scope.ALL,
    },
    UserRole.CENTRAL_READER: _BLINDED_READER,
    UserRole.ADJUDICATOR: _BLINDED_READER | {Action.ADJUDICATE: Scope.ASSIGNED},
}
"""Role -> action -> scope. Admins and data managers author no reads; readers manage nothing. The DICOM
reports, the EDC exports, the monitoring report and the PACS are the data managers' and admins' (a PACS
query shows patient identity); only admins configure PACS nodes."""

_BLINDED_FIELDS = frozenset({Field.CASE_CODE, Field.BLINDED_UID, Field.OWN_VALUES})

FIELDS: Mapping[UserRole, frozenset[Field]] = {
    UserRole.ADMIN: frozenset(Field),
    UserRole.DATA_MANAGER: frozenset(Field),
    UserRole.SITE_READER: frozenset(Field)
    - {Field.PATIENT_IDENTITY, Field.OTHER_READERS_VALUES, Field.CASE_CODE, Field.BLINDED_UID},
    UserRole.CENTRAL_READER: _BLINDED_FIELDS,
    UserRole.ADJUDICATOR: _BLINDED_FIELDS | {Field.OTHER_READERS_VALUES},
}
"""Role -> the fields any of its listings, exports or windows may show.

An adjudicator sees the other readers' values of the cases waiting for their decision, as "Reader 1",
"Reader 2", never with the readers' logins.
"""


def scope_of(role: UserRole | str, action: Action) -> Scope:
    """On what the role may do the action (`Scope.NONE` when refused)."""
    return POLICY[UserRole(role)][action]


def allowed(role: UserRole | str, action: Action) -> bool:
    """Whether the role may do the action at all."""
    return scope_of(role, action) is not Scope.NONE


def denial_message(role: UserRole | str, action: Action) -> str:
    """One line for a refused action: "central readers cannot list image paths"."""
    return f"{UserRole(role).plural} cannot {action.value}"


def require(role: UserRole | str, action: Action) -> Scope:
    """The scope of an allowed action; raises `PermissionDeniedError` naming role and action otherwise."""
    scope = scope_of(role, action)
    if scope is Scope.NONE:
        raise PermissionDeniedError(denial_message(role, action))
    return scope


def visible_fields(role: UserRole | str) -> frozenset[Field]:
    """The fields the role may see in any listing, export or window."""
    return FIELDS[UserRole(role)]


def matrix_markdown() -> str:
    """The role x action matrix and the visible fields as Markdown (the body of `docs/access.md`)."""
    roles = list(UserRole)
    lines = [
        "| action | " + " | ".join(role.label for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in Action:
        lines.append(f"| {action.value} | " + " | ".join(scope_of(r, action).value for r in roles) + " |")
    lines += [
        "",
        "## Fields each role may see",
        "",
        "| field | " + " | ".join(role.label for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for field in Field:
        marks = ["yes" if field in visible_fields(r) else "no" for r in roles]
        lines.append(f"| {field.value} | " + " | ".join(marks) + " |")
    lines += ["", "## Scopes", ""]
    lines += [f"- **{scope.value}**: {_SCOPE_TEXT[scope]}" for scope in Scope]
    return "\n".join(lines) + "\n"


DOCUMENT_HEADER = """# Who may do what

Generated from `kyphoangle/workstation/access.py` (`python -m kyphoangle.workstation.access docs/access.md`);
a test fails when this page and the policy differ. Every command of the command line and every window of
the workstation asks this policy before it touches the study. A refused action exits with status 3 and
one line naming the role and the action (for example "central readers cannot list image paths"), and
the refusal is written to the audit trail (entity `access`, action `deny`).

Central readers and adjudicators are blinded: they work on the cases of the campaigns they are members
of, by case code and blinded image UID, and never see an original UID, a file path, a patient's name,
ID or dates, a visit, a site, or another reader's login. An adjudicator sees the values of the reads
waiting for their decision as "Reader 1", "Reader 2". Site readers see the subjects of their site.

## Actions

"""


def access_document() -> str:
    """The whole of `docs/access.md`: the explanation, the matrix and the visible fields."""
    return DOCUMENT_HEADER + matrix_markdown()


def main(argv: list[str] | None = None) -> int:
    """Write `docs/access.md` (the path given) from the policy."""
    import sys

    from kyphoangle.output_file import write_text

    args = sys.argv[1:] if argv is None else argv
    write_text(args[0] if args else "-", access_document())
    return 0


_SCOPE_TEXT: Mapping[Scope, str] = {
    Scope.ALL: "every record of the study.",
    Scope.OWN_SITE: "the subjects (and their films) of the user's own site.",
    Scope.OWN: "the user's own reads or account.",
    Scope.ASSIGNED: "the cases of the campaigns the user is a member of, by case code and blinded image "
    "identity.",
    Scope.NONE: "refused: the command exits with status 3 and one line, and the refusal is audited.",
}


if __name__ == "__main__":
    raise SystemExit(main())
