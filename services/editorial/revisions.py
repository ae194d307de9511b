"""Four eyes over the editorial record: every revision of a post or a recurring series names its editor, and
nobody approves content they wrote or edited (decision 0083).

The editors of a post or a series are its author, the editor of each of its revisions, and the editors of the
content it came from: the series an occurrence was made from, the post a duplicate was copied from. An approval
is refused to any of them (``four_eyes_editor``), whoever created the post: a director who rewrites a community
manager's post, or edits a series after approving it, needs another director. Revisions are written by
:mod:`services.editorial.calendar` and :mod:`services.editorial.recurrence` in the transaction of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core import repo
from core.errors import NotFoundError, WorkflowError
from core.models import Agent
from core.repo import editorial_revisions as revisions_repo
from core.repo import posts as posts_repo
from core.repo import recurrence as recurrence_repo
from core.repo.editorial_revisions import Kind

ORIGINS_FR = {"created": "rédaction", "edited": "modification", "duplicated": "copie",
              "occurrence": "occurrence de la série", "before-history": "version d'origine"}


def _author(db: Database, kind: str, ref_id: int) -> int:
    if kind == "post":
        return posts_repo.get_post(db, ref_id).author_id
    return recurrence_repo.get(db, ref_id).author_id


def editors(db: Database, kind: Kind, ref_id: int) -> set[int]:
    """Agent ids of everyone who wrote or edited this post or series, or the content it came from."""
    out: set[int] = set()
    seen: set[tuple[str, int]] = set()
    todo: list[tuple[str, int]] = [(kind, ref_id)]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        try:
            out.add(_author(db, *key))
        except NotFoundError:  # a source that no longer exists adds nobody
            continue
        for rev in revisions_repo.of(db, key[0], key[1]):  # type: ignore[arg-type]
            if rev.editor_id is not None:
                out.add(rev.editor_id)
            if rev.source_kind and rev.source_id is not None:
                todo.append((rev.source_kind, rev.source_id))
    return out


def editor_emails(db: Database, kind: Kind, ref_id: int) -> tuple[str, ...]:
    """The editors' e-mail addresses, sorted (for the approval's audit event)."""
    return tuple(sorted(repo.get_agent(db, agent_id).email for agent_id in editors(db, kind, ref_id)))


def may_approve(db: Database, agent: Agent, kind: Kind, ref_id: int) -> bool:
    """False when ``agent`` wrote or edited this content (the page disables its "Valider" button)."""
    return agent.id not in editors(db, kind, ref_id)


def require_not_editor(db: Database, approver: Agent, kind: Kind, ref_id: int) -> None:
    """Refuse an approval by someone who wrote or edited the content (call inside the approval's transaction)."""
    if approver.id in editors(db, kind, ref_id):
        raise WorkflowError(f"{approver.email} wrote or edited {kind} {ref_id}: someone else approves it",
                            reason="four_eyes_editor")


@dataclass(frozen=True, slots=True, kw_only=True)
class RevisionLine:
    """One revision as the calendar shows it."""

    revision: int
    editor: str  # name and e-mail, or "worker" for an occurrence made from its series
    origin: str  # French
    content_hash: str
    at: datetime
    source: str = ""  # "série n° 3", "publication n° 12"


def history(db: Database, kind: Kind, ref_id: int) -> list[RevisionLine]:
    """Every revision of this post or series with its editor, oldest first."""
    names: dict[int, str] = {}
    out = []
    for rev in revisions_repo.of(db, kind, ref_id):
        if rev.editor_id is None:
            editor = "Parvis (worker)"
        else:
            if rev.editor_id not in names:
                agent = repo.get_agent(db, rev.editor_id)
                names[rev.editor_id] = f"{agent.name} <{agent.email}>"
            editor = names[rev.editor_id]
        source = ""
        if rev.source_kind and rev.source_id is not None:
            source = f"{'série' if rev.source_kind == 'recurrence' else 'publication'} n° {rev.source_id}"
        out.append(RevisionLine(revision=rev.revision, editor=editor, origin=ORIGINS_FR.get(rev.origin, rev.origin),
                                content_hash=rev.content_hash, at=rev.created_at, source=source))
    return out
