"""What changed on the Mastodon statuses Parvis has taken: their edit histories, and a bounded re-check.

Edit histories: a status whose ``edited_at`` is set (a mention arriving edited, or one the re-check finds edited
since) has its history read (``GET /api/v1/statuses/:id/history``), each edit becoming an ``edited``
:class:`PlatformChange` (stored as a revision of the mention); a rate limit or an outage leaves the rest for the
next fetch (``history_due`` in the cursor).

Re-check, for edits and deletions made after Parvis read a mention: Mastodon notifies the mentioned account of a
mention once, never of a later edit or deletion. So the cursor keeps
the statuses taken in the last days (``recent``: id -> ``[edited_at seen, created epoch, last checked epoch]``,
at most :data:`MAX_TRACKED`, the newest kept), and each fetch re-reads a bounded slice of them, the longest
unchecked first and none checked less than ``interval`` ago:

* ``GET /api/v1/statuses?id[]=…`` (Mastodon 4.3 and later, 20 ids a call): a status whose ``edited_at`` moved
  is handed back to have its edit history read; a status missing from the answer is not taken as deleted
  (the instance also leaves out statuses of accounts the city blocks or mutes) but confirmed with
  ``GET /api/v1/statuses/:id``;
* an instance without it (404: older than 4.3) is read one ``GET /api/v1/statuses/:id`` at a time, a smaller
  slice (a quarter of the budget), and asked again for the multi-get a day later;
* a 404 (or 410) on the single read means the status is gone for the city's account: a ``deleted`` change.

A rate limit or an outage stops the re-check for this pass; what was not checked keeps its place (the longest
unchecked comes first next time), so nothing is lost.

Thread roots (decisions 0212, 0285): a mention that replies to a status of the city's own account
(``in_reply_to_account_id``; the account's id is read once with ``verify_credentials`` and kept in the cursor as
``me`` with the credentials' fingerprint, so a new token has it read again) has that status read once
(``GET /api/v1/statuses/:id``, at most ``root_lookups`` a pass) and handed back in ``FetchResult.own_posts``, the
root « Fil » shows above the replies. The statuses already read are kept in the cursor (``roots_done``, the newest
:data:`MAX_ROOTS_DONE`): a second reply to the same status costs nothing. What the budget, a rate limit or an
outage leaves waits in ``roots_due`` for the next pass; a status gone (404, 410) or refused is dropped; a direct
status is never a root. Those roots are then re-checked like the mentions while residents answer them
(:func:`roots_recheck`, decision 0305): an edit brings the current text and the edit history
(``FetchResult.own_changes``), a deletion is recorded, the text kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.base import OwnPost, PlatformChange
from connectors.mastodon import normalize as nz
from core.errors import ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unavailable
from core.models import Mention, Platform

log = logging.getLogger(__name__)

MULTI_MAX = 20  # ids per GET /api/v1/statuses: the instance refuses more (422)
MAX_TRACKED = 300  # statuses remembered in the cursor for the re-check (the newest kept)
MULTI_RETRY = timedelta(days=1)  # an instance without the multi-get is asked again after this
MAX_ROOTS_DONE = 300  # the city's statuses already read as thread roots (the newest kept)
MAX_ROOTS_DUE = 100  # thread roots waiting for the next pass (budget, rate limit, outage)

Many = Callable[[list[str]], list[Any] | None]  # ids -> statuses found, None: the endpoint is not offered
One = Callable[[str], Any]  # id -> the status, None: gone (404/410)


def edit_changes(history: Callable[[str], list[dict[str, Any]]], ids: list[str], *, limit: int,
                 unreadable: dict[str, str] | None = None) -> tuple[list[PlatformChange], list[str]]:
    """Each edit of the statuses ``ids`` (``GET /api/v1/statuses/:id/history``: one call per edited status, at most
    ``limit``) as ``edited`` changes; returns them and the ids left for the next fetch. ``unreadable`` (when given)
    receives the ids whose history was refused or unreadable, with why."""
    changes: list[PlatformChange] = []
    for n, status_id in enumerate(ids[:limit]):
        try:
            versions = history(status_id)
        except (RateLimited, Unavailable):
            return changes, ids[n:]  # try again at the next fetch
        except (PermanentFailure, MalformedPayload) as err:
            if unreadable is not None:
                unreadable[status_id] = f"{err.code}: {err}"
            continue  # deleted since, or unreadable: the mention keeps the text it has
        uid = f"{Platform.MASTODON}:{status_id}"
        try:
            steps = nz.edit_steps(versions)
        except nz.MalformedItem as err:
            if unreadable is not None:
                unreadable[status_id] = f"malformed_payload: {err}"
            continue
        changes.extend(PlatformChange(uid=uid, change="edited", old_text=old, new_text=new, raw=version)
                       for old, new, version in steps)
    return changes, ids[limit:]


def edited_mark(status: Any) -> str:
    """The status's ``edited_at`` as a comparable ISO string ("" when never edited or unreadable)."""
    value = status.get("edited_at") if isinstance(status, dict) else None
    try:
        return nz.parse_time(value).isoformat() if value else ""
    except nz.MalformedItem:
        return ""


def load_recent(state: dict[str, Any]) -> dict[str, list[Any]]:
    """The ``recent`` part of a decoded cursor, malformed entries dropped."""
    recent = state.get("recent")
    if not isinstance(recent, dict):
        return {}
    return {str(k): list(v) for k, v in recent.items()
            if isinstance(v, list) and len(v) == 3 and isinstance(v[0], str)
            and all(isinstance(x, int | float) for x in v[1:])}


def track(recent: dict[str, list[Any]], mentions: Iterable[Mention], *, now: datetime,
          window: timedelta) -> dict[str, list[Any]]:
    """Remember the statuses just taken (checked now), forget those older than ``window``, keep the newest."""
    stamp = int(now.timestamp())
    for mention in mentions:
        recent.setdefault(mention.platform_id, [edited_mark(mention.raw), int(mention.created_at.timestamp()), stamp])
    start = (now - window).timestamp()
    kept = sorted(((k, v) for k, v in recent.items() if v[1] >= start), key=lambda kv: -kv[1][1])
    return dict(kept[:MAX_TRACKED])


@dataclass(slots=True)
class Recheck:
    """One re-check pass over ``recent`` (updated in place): the deletions seen and the ids whose edit moved."""

    many: Many
    one: One
    now: datetime
    per_pass: int
    interval: timedelta
    multi: bool = True  # False: the instance does not offer the multi-get (the cursor says until when)
    deleted: list[PlatformChange] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # refused or unreadable answers (not limits, not outages)
    current: dict[str, Any] = field(default_factory=dict)  # the statuses in ``edited`` as the check read them
    stopped: str = ""  # the rate limit or outage that stopped the pass ("" when it ran through)

    def due(self, recent: dict[str, list[Any]]) -> list[str]:
        """Ids not checked for ``interval``, the longest unchecked (then the oldest) first, at most ``per_pass``."""
        limit = (self.now - self.interval).timestamp()
        waiting = sorted((v[2], v[1], k) for k, v in recent.items() if v[2] <= limit)
        return [k for _, _, k in waiting[:self.per_pass]]

    def run(self, recent: dict[str, list[Any]]) -> None:
        """Check the due statuses; stops quietly (keeping the rest) at a rate limit, an outage or a refusal."""
        due = self.due(recent)
        if not due:
            return
        singles = max(1, self.per_pass // 4)
        try:
            missing = self._many(recent, due) if self.multi else None
            for status_id in (due if missing is None else missing)[:singles]:
                try:
                    status = self.one(status_id)
                except (PermanentFailure, MalformedPayload) as err:  # this status only: checked, unchanged
                    log.warning("mastodon re-check of %s: %s", status_id, err)
                    self.problems.append(f"{status_id}: {err.code}: {err}")
                    status = {}
                self._note(recent, status_id, status)
        except (RateLimited, Unavailable) as err:
            log.info("mastodon re-check stopped for this pass: %s", err)
            self.stopped = f"{err.code}: {err}"
        except ConnectorError as err:  # a token without read:statuses, a refused call: mentions still flow
            log.warning("mastodon re-check stopped for this pass: %s (%s)", err, err.code)
            self.problems.append(f"{err.code}: {err}")

    def _many(self, recent: dict[str, list[Any]], due: Sequence[str]) -> list[str] | None:
        """Multi-get ``due`` 20 at a time; returns the ids missing from the answers (None: no multi-get here)."""
        missing: list[str] = []
        for start in range(0, len(due), MULTI_MAX):
            chunk = list(due[start:start + MULTI_MAX])
            answer = self.many(chunk)
            if answer is None:
                self.multi = False
                return None
            found = {str(s["id"]): s for s in answer if isinstance(s, dict) and s.get("id")}
            for status_id in chunk:
                if status_id in found:
                    self._note(recent, status_id, found[status_id])
                else:
                    missing.append(status_id)
        return missing

    def _note(self, recent: dict[str, list[Any]], status_id: str, status: Any) -> None:
        """Record what one read showed: gone, edited since last seen, or unchanged."""
        entry = recent.get(status_id)
        if entry is None:
            return
        if status is None:
            del recent[status_id]
            self.deleted.append(PlatformChange(uid=f"{Platform.MASTODON}:{status_id}", change="deleted",
                                               raw={"id": status_id, "checked_at": self.now.isoformat()}))
            return
        mark = edited_mark(status)  # "" for an unreadable answer too: checked, nothing concluded
        if mark and mark != entry[0]:
            self.edited.append(status_id)
            self.current[status_id] = status
        entry[0], entry[2] = mark or entry[0], int(self.now.timestamp())


def recheck_pass(state: dict[str, Any], new_state: dict[str, Any], mentions: Iterable[Mention], *, many: Many,
                 one: One, now: datetime, window: timedelta, per_pass: int, interval: timedelta,
                 run: bool = True) -> Recheck | None:
    """Track ``mentions``, re-check the due statuses (when ``run``) and write ``recent`` into ``new_state``.

    None when the re-check is switched off (no window or no budget). ``multi_retry_at`` in the cursor says until
    when the instance is taken not to offer the multi-get.
    """
    if per_pass <= 0 or window <= timedelta(0):
        return None
    recent = track(load_recent(state), mentions, now=now, window=window)
    retry = state.get("multi_retry_at")
    retry = retry if isinstance(retry, int | float) and retry > now.timestamp() else None
    check = Recheck(many=many, one=one, now=now, per_pass=per_pass, interval=interval, multi=retry is None)
    if run:
        check.run(recent)
    new_state["recent"] = recent
    if not check.multi:
        new_state["multi_retry_at"] = retry or int((now + MULTI_RETRY).timestamp())
    return check


def _ids(value: Any) -> list[str]:
    return [str(i) for i in value if isinstance(i, str | int) and str(i)] if isinstance(value, list) else []


def _root_replies(mentions: Iterable[Mention]) -> list[Mention]:
    """The mentions that answer a status by an account at the start of their thread, oldest first."""
    return sorted((m for m in mentions if m.in_reply_to and m.raw.get("in_reply_to_account_id")
                   and m.conversation_id == m.in_reply_to), key=lambda m: m.created_at)


def city_roots(state: dict[str, Any], new_state: dict[str, Any], mentions: Iterable[Mention], *,
               me: Callable[[], str], one: One, limit: int, credentials: str = "",
               read: dict[str, str] | None = None) -> list[OwnPost]:
    """The city's statuses the ``mentions`` reply to, read once each (see the module docstring); writes ``me``,
    ``roots_done`` and ``roots_due`` into ``new_state``. Never raises a connector error: the sync goes on.
    ``read`` (when given) receives each root read: its id and :func:`edited_mark`.

    ``me`` in the cursor is ``{"id": account id, "for": credentials fingerprint}``: a new token (perhaps another
    account) has the id read again."""
    done = _ids(state.get("roots_done"))
    due = _ids(state.get("roots_due"))
    replies = _root_replies(mentions)
    known = state.get("me")
    owner = str(known.get("id") or "") if isinstance(known, dict) and known.get("for") == credentials else ""
    if replies and not owner:
        try:
            owner = me()
        except ConnectorError as err:  # the roots wait: the mentions are synced all the same
            log.info("mastodon thread roots not read this pass: %s (%s)", err, err.code)
    if owner:
        new_state["me"] = {"id": owner, "for": credentials}
        due.extend(str(m.in_reply_to) for m in replies if str(m.raw.get("in_reply_to_account_id")) == owner)
    seen = set(done)
    queue = [i for i in dict.fromkeys(due) if i not in seen]
    found: list[OwnPost] = []
    n = 0
    for n, status_id in enumerate(queue[:max(0, limit)], start=1):
        try:
            status = one(status_id)
        except (RateLimited, Unavailable) as err:
            log.info("mastodon thread roots stopped for this pass: %s", err)
            n -= 1
            break
        except (PermanentFailure, MalformedPayload) as err:  # refused or unreadable: this status only
            log.info("mastodon thread root %s not read: %s", status_id, err)
            continue
        except ConnectorError as err:  # e.g. a token without read:statuses: try again next pass
            log.warning("mastodon thread roots stopped for this pass: %s (%s)", err, err.code)
            n -= 1
            break
        account = status.get("account") if isinstance(status, dict) else None
        if (not isinstance(account, dict) or str(account.get("id")) != owner
                or status.get("visibility") == "direct"):
            continue  # gone (None), someone else's, or a private message: not a root to show
        try:
            found.append(nz.status_to_own_post(status))
        except nz.MalformedItem as err:
            log.info("mastodon thread root %s unreadable: %s", status_id, err)
            continue
        done.append(status_id)
        if read is not None:
            read[status_id] = edited_mark(status)
    left = queue[n:]
    if done:
        new_state["roots_done"] = done[-MAX_ROOTS_DONE:]
    if left:
        new_state["roots_due"] = left[:MAX_ROOTS_DUE]
    return found


MAX_ROOTS_TRACKED = 100  # the city's statuses re-checked as thread roots (the most recently answered kept)

History = Callable[[str], list[dict[str, Any]]]


@dataclass(slots=True)
class RootsCheck:
    """What one pass saw on the city's statuses kept as thread roots: changes for ``FetchResult.own_changes``
    (edit-history steps, deletions), the edited roots as now shown (``FetchResult.own_posts``: the stored text
    follows the platform's) and notes for what could not be read (``FetchResult.notes``)."""

    changes: list[PlatformChange] = field(default_factory=list)
    posts: list[OwnPost] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def roots_recheck(state: dict[str, Any], new_state: dict[str, Any], mentions: Iterable[Mention],
                  read: dict[str, str], *, many: Many, one: One, history: History, now: datetime,
                  window: timedelta, per_pass: int, interval: timedelta, run: bool = True) -> RootsCheck:
    """Edits and deletions of the city's statuses read as thread roots (decision 0305), the mentions' re-check
    applied to them (:class:`Recheck`, same interval, multi-get and fallback):

    * ``roots_recent`` in the cursor: root id -> ``[edited_at whose history is stored, last answered epoch, last
      checked epoch]``; a root read this pass (``read``) enters checked; a reply taken now to a tracked root
      moves its "last answered"; one answered again after it was forgotten (in ``roots_done``, not tracked)
      enters unchecked; those not answered for ``window`` are forgotten, the :data:`MAX_ROOTS_TRACKED` most
      recently answered kept;
    * at most ``per_pass`` roots are re-checked a pass (one multi-get; an older instance: a quarter, one by one);
    * a root whose ``edited_at`` moved is handed back as now shown (its stored text follows), and it, or a root
      read already edited, has its edit history read (at most ``per_pass`` a pass, the rest in
      ``roots_history_due``): one ``edited`` change per step. A history refused or unreadable is noted and its
      root's mark reset (``""``), so the next re-check reads the history again;
    * a root gone (404, 410 on the single read) is a ``deleted`` change, and no longer tracked.

    A rate limit or an outage stops the pass; what was not checked or read keeps its place. ``window`` or
    ``per_pass`` 0: no re-check, only the histories of roots read already edited.
    """
    out = RootsCheck()
    tracking = per_pass > 0 and window > timedelta(0)
    recent = load_recent({"recent": state.get("roots_recent")}) if tracking else {}
    stamp = int(now.timestamp())
    for status_id, mark in read.items():
        recent[status_id] = [mark, stamp, stamp]
    known = new_state.get("me")
    owner = str(known.get("id") or "") if isinstance(known, dict) else ""
    done = set(_ids(new_state.get("roots_done")))
    for reply in _root_replies(mentions) if tracking and owner else ():
        if str(reply.raw.get("in_reply_to_account_id")) != owner:
            continue
        root = str(reply.in_reply_to)
        if root in recent:
            recent[root][1] = stamp  # answered now: kept for another window
        elif root in done:
            recent[root] = ["", stamp, 0]  # answered again once forgotten: checked at the next re-check
    start = (now - window).timestamp()
    recent = dict(sorted(((k, v) for k, v in recent.items() if v[1] >= start),
                         key=lambda kv: -kv[1][1])[:MAX_ROOTS_TRACKED])
    edited: list[str] = []
    if tracking and run:
        retry = new_state.get("multi_retry_at") or state.get("multi_retry_at")
        multi = not (isinstance(retry, int | float) and retry > now.timestamp())
        check = Recheck(many=many, one=one, now=now, per_pass=per_pass, interval=interval, multi=multi)
        check.run(recent)
        if not check.multi and "multi_retry_at" not in new_state:
            new_state["multi_retry_at"] = int((now + MULTI_RETRY).timestamp())
        out.changes.extend(check.deleted)
        edited = check.edited
        for status_id, status in check.current.items():
            try:
                out.posts.append(nz.status_to_own_post(status))
            except nz.MalformedItem as err:
                out.notes.append(f"mastodon: the thread root {status_id} could not be read ({err})")
        out.notes.extend(f"mastodon: a thread root could not be re-checked ({p})" for p in check.problems)
        if check.stopped:
            out.notes.append(f"mastodon: the thread roots' re-check stopped ({check.stopped}); the roots not "
                             "checked wait for the next pass")
    waiting = _ids(state.get("roots_history_due"))
    ids = list(dict.fromkeys([*waiting, *(k for k, mark in read.items() if mark), *edited]))
    unreadable: dict[str, str] = {}
    limit = max(1, per_pass)
    steps, left = edit_changes(history, ids, limit=limit, unreadable=unreadable)
    out.changes[:0] = steps
    if len(left) > max(0, len(ids) - limit):  # cut short by a rate limit or an outage, not by the budget
        out.notes.append(f"mastodon: {len(left)} thread root edit histories wait for the next pass (rate limit "
                         "or outage)")
    for status_id, why in unreadable.items():
        if status_id in recent:
            recent[status_id][0] = ""  # its edit is not stored: the next re-check reads the history again
        out.notes.append(f"mastodon: the edit history of the thread root {status_id} could not be read ({why})")
    if recent:
        new_state["roots_recent"] = recent
    if left:
        new_state["roots_history_due"] = left[:MAX_ROOTS_DUE]
    return out
