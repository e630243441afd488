"""Client maintenance (客户维护): visits, maintenance activities and complaints, each linked to
its client and manager, and the list of clients overdue for a visit.

`(:Interaction {kind, method, at, notes})-[:WITH]->(:Client)`, `-[:BY]->(:Manager)`. A complaint
is an interaction of kind COMPLAINT that moves OPENED → HANDLED → CLOSED (with the client's
satisfaction, 1-5, on closing); a move out of that order is refused.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from enum import StrEnum
from typing import Any, Final, LiteralString

from graph.bank_calendar import as_utc, zone_name
from graph.data_writes import (
    Write,
    require_active_manager,
    require_client_not_archived,
    run_write,
)
from graph.db import Db
from graph.errors import InvalidInput, InvariantViolation, NotFound, require
from graph.input_checks import optional_text
from graph.models import GraphModel
from graph.pagination import check_page_size


class InteractionKind(StrEnum):
    VISIT = "VISIT"
    MAINTENANCE = "MAINTENANCE"
    COMPLAINT = "COMPLAINT"


class Method(StrEnum):
    """How a client is maintained (维护方法)."""

    ON_SITE = "ON_SITE"
    EMOTIONAL = "EMOTIONAL"
    KNOWLEDGE = "KNOWLEDGE"
    VALUE_ADDED = "VALUE_ADDED"
    CONSULTATIVE = "CONSULTATIVE"
    CROSS_SELLING = "CROSS_SELLING"


class ComplaintStatus(StrEnum):
    OPENED = "OPENED"
    HANDLED = "HANDLED"
    CLOSED = "CLOSED"


FIELDS: Final[LiteralString] = """
i {.id, .kind, .method, .notes, .status, .satisfaction, at: toString(i.at),
   seq: coalesce(i.seq, 0), recordedAt: toString(i.recordedAt),
   handledAt: toString(i.handledAt), closedAt: toString(i.closedAt),
   clientId: COLLECT { MATCH (i)-[:WITH]->(c:Client) RETURN c.id }[0],
   managerId: COLLECT { MATCH (i)-[:BY]->(m:Manager) RETURN m.id }[0]}
"""

PARTIES: Final[LiteralString] = """
OPTIONAL MATCH (c:Client {id: $clientId})
OPTIONAL MATCH (m:Manager {id: $managerId})
RETURN c IS NOT NULL AS client, m IS NOT NULL AS manager, c.status AS status,
       m.active AS managerActive
"""
RECORD: Final[LiteralString] = (
    """
MATCH (c:Client {id: $clientId}), (m:Manager {id: $managerId})
SET c.interactionSeq = coalesce(c.interactionSeq, 0) + 1
// `at` is when it happened, as the manager says; `recordedAt` when it was entered (the server's
// clock), so that a visit entered after its month was reported shows as entered late.
CREATE (i:Interaction {id: randomUUID(), kind: $kind, method: $method, at: datetime($at),
                       notes: $notes, status: $status, seq: c.interactionSeq,
                       recordedAt: datetime()})
CREATE (i)-[:WITH]->(c), (i)-[:BY]->(m)
RETURN """
    + FIELDS
    + " AS interaction"
)
COMPLAINT: Final[LiteralString] = (
    "OPTIONAL MATCH (i:Interaction {id: $id, kind: 'COMPLAINT'}) RETURN CASE WHEN i IS NULL "
    "THEN null ELSE " + FIELDS + " END AS interaction"
)
HANDLE: Final[LiteralString] = (
    "MATCH (i:Interaction {id: $id}) SET i.status = 'HANDLED', i.handledAt = datetime(), "
    "i.handling = $notes RETURN " + FIELDS + " AS interaction"
)
CLOSE: Final[LiteralString] = (
    "MATCH (i:Interaction {id: $id}) SET i.status = 'CLOSED', i.closedAt = datetime(), "
    "i.satisfaction = $satisfaction RETURN " + FIELDS + " AS interaction"
)
# Newest first, for each client asked. Records with the same `at` (a day's visits entered with
# the day's date) list in the order they were recorded, newest first: `seq` counts a client's
# records (imported ones have none and come after, by id). The cursor is the last row's
# (at, seq, id).
PAGES: Final[LiteralString] = (
    """
UNWIND $ids AS clientId
CALL (clientId) {
  MATCH (i:Interaction)-[:WITH]->(:Client {id: clientId})
  WITH i, coalesce(i.seq, 0) AS seq
  WHERE $afterAt IS NULL OR i.at < datetime($afterAt)
     OR (i.at = datetime($afterAt)
         AND (seq < $afterSeq OR (seq = $afterSeq AND i.id < $afterId)))
  WITH i ORDER BY i.at DESC, seq DESC, i.id DESC LIMIT $limit
  RETURN collect("""
    + FIELDS
    + """) AS rows
}
RETURN clientId, rows,
       COUNT { MATCH (:Interaction)-[:WITH]->(:Client {id: clientId}) } AS total
"""
)
# A manager's graded, active primary clients whose last visit is older than their plan allows.
OVERDUE: Final[LiteralString] = """
MATCH (m:Manager {id: $managerId})-[:MANAGES {role: 'PRIMARY'}]->(c:Client)
WHERE c.status = 'ACTIVE' AND c.grade IS NOT NULL
MATCH (p:ManagementPlan {grade: c.grade})
WITH c, p, COLLECT { MATCH (i:Interaction {kind: 'VISIT'})-[:WITH]->(c) RETURN max(i.at) }[0]
       AS last
WITH c, p, last,
     CASE WHEN last IS NULL THEN null
          ELSE date(datetime({datetime: last, timezone: $tz})) + duration({days: p.visitEveryDays})
     END AS due
WHERE due IS NULL OR due < date($today)
RETURN c.id AS clientId, c.name AS name, c.grade AS grade, p.visitEveryDays AS visitEveryDays,
       toString(last) AS lastVisitAt, toString(due) AS dueOn,
       CASE WHEN due IS NULL THEN null ELSE duration.inDays(due, date($today)).days END
         AS daysOverdue
ORDER BY daysOverdue IS NULL DESC, daysOverdue DESC, clientId
LIMIT $first
"""


class Interaction(GraphModel):
    id: str
    kind: InteractionKind
    method: Method | None = None
    at: str
    seq: int = 0  # the client's count of recorded interactions when this one was recorded
    notes: str | None = None
    status: ComplaintStatus | None = None
    satisfaction: int | None = None
    handled_at: str | None = None
    closed_at: str | None = None
    recorded_at: str | None = None  # none for records loaded as data (the demo's, say)
    client_id: str
    manager_id: str | None = None


class InteractionPage(GraphModel):
    items: list[Interaction]
    total_count: int
    has_next_page: bool
    end_cursor: str | None


class OverdueVisit(GraphModel):
    client_id: str
    name: str
    grade: str
    visit_every_days: int
    last_visit_at: str | None
    due_on: str | None  # None: never visited
    days_overdue: int | None


def encode_cursor(item: Interaction) -> str:
    raw = json.dumps([item.at, item.seq, item.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[str, int, str]:
    try:
        at, seq, id_ = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        dt.datetime.fromisoformat(str(at).replace("Z", "+00:00"))
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**53:
            raise TypeError("seq")
        return str(at), seq, str(id_)
    except (ValueError, TypeError, RecursionError):
        raise InvalidInput("after", "is not a cursor this list gave out") from None


def _when(at: dt.datetime | None) -> str:
    now = dt.datetime.now(dt.UTC)
    if at is None:
        return now.isoformat()
    at = as_utc(at, "at")
    if at > now + dt.timedelta(minutes=5):
        raise InvalidInput("at", "is in the future")
    return at.isoformat()


async def record_interaction(
    db: Db,
    actor: str,
    client_id: str,
    manager_id: str,
    kind: InteractionKind,
    method: Method | None,
    at: dt.datetime | None,
    notes: str | None,
    visible_to: str | None,
) -> Interaction:
    """A visit, a maintenance activity or a newly opened complaint."""
    notes = optional_text("notes", notes, 2000)
    if kind is InteractionKind.MAINTENANCE and method is None:
        raise InvalidInput("method", "is required for a maintenance activity")
    if kind is InteractionKind.VISIT:
        method = method or Method.ON_SITE
    when = _when(at)

    async def work(w: Write) -> Interaction:
        await w.lock_clients([client_id])
        await w.lock_managers([manager_id])  # not deactivated while we record
        parties = await w.one(PARTIES, clientId=client_id, managerId=manager_id)
        if not parties["client"]:
            raise NotFound("Client", client_id)
        await w.require_in_book(visible_to, [client_id])  # before anything else is answered
        if not parties["manager"]:
            raise NotFound("Manager", manager_id)
        require_active_manager(manager_id, parties["managerActive"])
        if kind is not InteractionKind.COMPLAINT:  # a former client may still complain
            require_client_not_archived(client_id, parties["status"])
        status = ComplaintStatus.OPENED.value if kind is InteractionKind.COMPLAINT else None
        row = await w.one(
            RECORD,
            clientId=client_id,
            managerId=manager_id,
            kind=kind.value,
            method=method.value if method else None,
            at=when,
            notes=notes,
            status=status,
        )
        w.clients.add(client_id)
        w.managers.add(manager_id)
        w.after = row["interaction"]
        return Interaction.model_validate(row["interaction"])

    inputs = {"clientId": client_id, "managerId": manager_id, "kind": kind.value, "at": when}
    return await run_write(db, f"record{kind.value.title()}", actor, inputs, work)


async def move_complaint(
    db: Db,
    actor: str,
    complaint_id: str,
    to: ComplaintStatus,
    notes: str | None,
    satisfaction: int | None,
    visible_to: str | None,
) -> Interaction:
    """OPENED → HANDLED (with how it was handled) → CLOSED (with the client's satisfaction)."""
    notes = optional_text("notes", notes, 2000)
    if to is ComplaintStatus.CLOSED and (satisfaction is None or not 1 <= satisfaction <= 5):
        raise InvalidInput("satisfaction", "must be between 1 and 5")
    expected = {ComplaintStatus.HANDLED: "OPENED", ComplaintStatus.CLOSED: "HANDLED"}
    if to not in expected:
        raise InvalidInput("status", "a complaint moves to HANDLED, then CLOSED")

    async def work(w: Write) -> Interaction:
        await w.lock_interactions([complaint_id])  # two handlings take turns: one is refused
        row = await w.one(COMPLAINT, id=complaint_id)
        current: dict[str, Any] | None = row["interaction"]
        if current is None:
            raise NotFound("Complaint", complaint_id)
        try:
            await w.require_in_book(visible_to, [current["clientId"]])
        except NotFound:
            # To a manager, another book's complaint does not exist, and names no client.
            raise NotFound("Complaint", complaint_id) from None
        if current["status"] != expected[to]:
            raise InvariantViolation(
                "COMPLAINT_ORDER",
                f"a {current['status']} complaint cannot become {to.value} "
                f"(OPENED → HANDLED → CLOSED)",
                [complaint_id],
            )
        # Check and balance: the client's satisfaction goes into the performance of the
        # manager the complaint is recorded against, so that manager does not record it.
        require(
            not (to is ComplaintStatus.CLOSED and visible_to is not None
                 and visible_to == current["managerId"]),
            "OWN_COMPLAINT",
            "a complaint is not closed by the manager it is recorded against: the client's "
            "satisfaction rates them (another manager of the book, or client service, closes it)",
            [complaint_id],
        )  # fmt: skip
        if to is ComplaintStatus.HANDLED:
            done = await w.one(HANDLE, id=complaint_id, notes=notes)
        else:
            done = await w.one(CLOSE, id=complaint_id, satisfaction=satisfaction)
        w.clients.add(current["clientId"])
        if current["managerId"]:  # in the manager's audit log, as the complaint's opening is
            w.managers.add(current["managerId"])
        w.before = {"status": current["status"]}
        w.after = {"status": to.value}
        return Interaction.model_validate(done["interaction"])

    inputs = {"complaintId": complaint_id, "status": to.value, "satisfaction": satisfaction}
    return await run_write(db, f"complaint{to.value.title()}", actor, inputs, work)


async def get_interactions(
    db: Db, client_ids: list[str], first: int, after: str | None
) -> dict[str, InteractionPage]:
    """A page of each client's interactions, newest first, in one round trip."""
    check_page_size(first)
    after_at, after_seq, after_id = decode_cursor(after) if after else (None, None, None)
    params = {"ids": client_ids, "afterAt": after_at, "afterSeq": after_seq, "afterId": after_id,
              "limit": first + 1}  # fmt: skip
    pages: dict[str, InteractionPage] = {}
    for row in await db.read(PAGES, params):
        items = [Interaction.model_validate(r) for r in row["rows"]]
        page = items[:first]
        pages[row["clientId"]] = InteractionPage(
            items=page,
            total_count=row["total"],
            has_next_page=len(items) > first,
            end_cursor=encode_cursor(page[-1]) if page else None,
        )
    return pages


async def get_overdue_visits(
    db: Db, manager_id: str, today: dt.date, first: int
) -> list[OverdueVisit]:
    """The most overdue first, at most `first` of them."""
    rows = await db.read(
        OVERDUE,
        {"managerId": manager_id, "today": today.isoformat(), "tz": zone_name(), "first": first},
    )
    return [OverdueVisit.model_validate(r.data()) for r in rows]
