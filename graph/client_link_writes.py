"""Links between clients written one at a time: relate and unrelate.

CONTROL writes `CONTROLS {share, basis}`; family, supply-chain, economic-dependence and
key-person links write `RELATED_TO {kind, role, reciprocalRole}`. Guarantees are not links
between clients but between a guarantor and a facility (`addGuarantee`).

Invariants, checked inside the transaction: no self-links; no second link of one kind between
two clients (for related kinds, either way round); control never closes a cycle: neither
direct control (more than 50%, or another basis) nor minority stakes that add up to control as
groups count it (`graph.client_group.CONTROL`), while other minority cross-holdings may; the
equity shares held in one client add up to at most 100.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, LiteralString

from graph.client_group import root_of
from graph.client_writes import require_not_archived
from graph.clients import CLIENT_FIELDS
from graph.control import CONTROL
from graph.data_writes import Write, run_write
from graph.db import Db
from graph.errors import Duplicate, InvalidInput, NotFound, require
from graph.input_checks import SHARE_PLACES, require_id, require_text, share_places_ok
from graph.models import ClientLinkKind, ControlBasis, GraphModel

CONTROL_CYCLES: Final = "client-control"
# The kinds that join clients into one group for credit (graph.exposure): control, economic
# dependence, profit transfer, and family links between individuals.
GROUP_FORMING: Final = frozenset(
    {
        ClientLinkKind.CONTROL,
        ClientLinkKind.ECONOMIC_DEPENDENCE,
        ClientLinkKind.PROFIT_TRANSFER,
        ClientLinkKind.FAMILY,
    }
)

# Clients at or below `$ids` holding a unified limit (统一授信) while something controls them:
# the limit is read from a group's top controller only, so one held below it would no longer
# count. Asked before and after a new control link, to refuse a link that moves a limit's
# holder under another controller (one already off the top, from older data, below either
# end, is not the link's doing).
LIMITS_OFF_TOP: Final[LiteralString] = (
    """
UNWIND $ids AS start
MATCH (:Client {id: start})-[:CONTROLS*0..6]->(h:Client)
WHERE h.unifiedLimitCents IS NOT NULL
WITH DISTINCT h
CALL (h) {
"""
    + root_of("h", "top")
    + """}
WITH h WHERE top <> h
RETURN collect(h.id) AS ids
"""
)

CLIENTS_STATE: Final[LiteralString] = (
    "UNWIND $ids AS id OPTIONAL MATCH (c:Client {id: id}) RETURN id, c "
    + CLIENT_FIELDS
    + " AS client"
)

CONTROL_STATE: Final[LiteralString] = """
MATCH (a:Client {id: $fromId}), (b:Client {id: $toId})
RETURN EXISTS { (a)-[:CONTROLS]->(b) } AS exists,
       COLLECT { MATCH (:Client)-[r:CONTROLS {basis: 'EQUITY'}]->(b) RETURN r.share } AS shares
"""

# After a control link from A to T is written: whether control, as groups count it (direct, or
# added up through subsidiaries), now runs in a cycle. The links whose standing it can change
# run into T (the shares in T add up anew) or into a client T holds shares in (T may now be A's
# subsidiary, its shares A's): each such client X with a controller Y is in a cycle when X
# controls its way back to Y (one shortest path each).
CONTROL_CYCLE: Final[LiteralString] = (
    """
MATCH (t:Client {id: $toId})
UNWIND [t] + COLLECT { MATCH (t)-[:CONTROLS]->(held:Client) RETURN held } AS x
MATCH (y:Client)-[u:CONTROLS]->(x) WHERE """
    + CONTROL
    + """
WITH DISTINCT x, y
MATCH back = shortestPath((x)-[:CONTROLS*1..64]->(y))
WHERE all(u IN relationships(back) WHERE """
    + CONTROL
    + """)
RETURN [n IN nodes(back) | n.id] AS ids LIMIT 1
"""
)

CREATE_CONTROL: Final[LiteralString] = """
MATCH (a:Client {id: $fromId}), (b:Client {id: $toId})
CREATE (a)-[:CONTROLS {share: $share, basis: $basis}]->(b)
"""

RELATED_EXISTS: Final[LiteralString] = """
MATCH (a:Client {id: $fromId}), (b:Client {id: $toId})
RETURN EXISTS { (a)-[:RELATED_TO {kind: $kind}]-(b) } AS exists
"""

CREATE_RELATED: Final[LiteralString] = """
MATCH (a:Client {id: $fromId}), (b:Client {id: $toId})
CREATE (a)-[:RELATED_TO {kind: $kind, role: $role, reciprocalRole: $reciprocalRole}]->(b)
"""

DELETE_CONTROL: Final[LiteralString] = """
OPTIONAL MATCH (:Client {id: $fromId})-[r:CONTROLS]->(:Client {id: $toId})
WITH r, r {.share, .basis} AS was
DELETE r
RETURN was
"""

DELETE_RELATED: Final[LiteralString] = """
OPTIONAL MATCH (:Client {id: $fromId})-[r:RELATED_TO {kind: $kind}]->(:Client {id: $toId})
WITH r, r {.role, .reciprocalRole} AS was
DELETE r
RETURN was
"""


class ClientLinkInput(GraphModel):
    """A link between two clients, as asked for and as written (or removed)."""

    from_id: str
    to_id: str
    kind: ClientLinkKind
    share: float | None = None
    basis: ControlBasis | None = None
    role: str | None = None
    reciprocal_role: str | None = None


def link_id(from_id: str, kind: ClientLinkKind, to_id: str) -> str:
    """How errors name a link between clients."""
    return f"{from_id}-{kind.value}->{to_id}"


def _check_kind(kind: ClientLinkKind) -> None:
    if kind is ClientLinkKind.GUARANTEE:
        raise InvalidInput("kind", "guarantees are added to a facility with addGuarantee")


def clean_link(link: ClientLinkInput) -> ClientLinkInput:
    require_id("fromId", link.from_id)
    require_id("toId", link.to_id)
    _check_kind(link.kind)
    if link.kind is ClientLinkKind.CONTROL:
        if link.share is None or not 0 < link.share <= 100:
            raise InvalidInput("share", "must be above 0 and at most 100 for a CONTROL link")
        if not share_places_ok(link.share):
            raise InvalidInput("share", f"has more than {SHARE_PLACES} decimal places")
        if link.basis is None:
            raise InvalidInput("basis", "is required for a CONTROL link")
        for name, role in (("role", link.role), ("reciprocalRole", link.reciprocal_role)):
            if role is not None:
                raise InvalidInput(name, "follows from the share for a CONTROL link; leave it out")
        return link
    for name, value in (("share", link.share), ("basis", link.basis)):
        if value is not None:
            raise InvalidInput(name, "applies to CONTROL links only")
    if link.role is None or link.reciprocal_role is None:
        raise InvalidInput(
            "role" if link.role is None else "reciprocalRole", f"is required for {link.kind.value}"
        )
    return link.model_copy(
        update={
            "role": require_text("role", link.role, 50),
            "reciprocal_role": require_text("reciprocalRole", link.reciprocal_role, 50),
        }
    )


async def _both_clients(w: Write, from_id: str, to_id: str, visible_to: str | None) -> None:
    await w.lock_clients([from_id, to_id])
    # The book first: to a manager, a client outside it and a missing one look the same.
    await w.require_in_book(visible_to, [from_id, to_id])
    rows = await w.rows(CLIENTS_STATE, ids=[from_id, to_id])
    for row in rows:
        if row["client"] is None:
            raise NotFound("Client", row["id"])
    for row in rows:
        require_not_archived(row["client"])


async def relate_clients(
    db: Db, actor: str, link: ClientLinkInput, visible_to: str | None = None
) -> ClientLinkInput:
    """A manager (`visible_to`) may link two clients of their own book only."""
    link = clean_link(link)
    from_id, to_id, kind = link.from_id, link.to_id, link.kind
    require(from_id != to_id, "NO_SELF_LINK", "a client cannot be linked to itself", [from_id])

    async def work(w: Write) -> ClientLinkInput:
        if kind is ClientLinkKind.CONTROL:
            await w.lock(CONTROL_CYCLES)  # two links must not close one cycle together
        await _both_clients(w, from_id, to_id, visible_to)
        if kind is ClientLinkKind.CONTROL:
            assert link.share is not None and link.basis is not None
            state = await w.one(CONTROL_STATE, fromId=from_id, toId=to_id)
            if state["exists"]:
                raise Duplicate("ClientLink", link_id(from_id, kind, to_id))
            # Exact sums: in floats 0.2 + 83.9 + 15.9 is a hair over 100.
            held = sum((Decimal(str(s)) for s in state["shares"]), Decimal(0)) + (
                Decimal(str(link.share)) if link.basis is ControlBasis.EQUITY else Decimal(0)
            )
            require(
                held <= 100,
                "SHARES_AT_MOST_100",
                f"equity shares in {to_id!r} would add up to {held:g}%",
                [to_id],
            )
            off_top = set((await w.one(LIMITS_OFF_TOP, ids=[from_id, to_id]))["ids"])
            await w.tx.run(
                CREATE_CONTROL,
                fromId=from_id,
                toId=to_id,
                share=link.share,
                basis=link.basis.value,
            )
            # Checked once written, so direct control and control that adds up are one check.
            cycle = [r["ids"] for r in await w.rows(CONTROL_CYCLE, toId=to_id)]
            require(
                not cycle,
                "CONTROL_ACYCLIC",
                "with this link, control would run in a cycle: "
                + " -> ".join([*cycle[0], cycle[0][0]] if cycle else []),
                cycle[0] if cycle else [],
            )
            moved = sorted(set((await w.one(LIMITS_OFF_TOP, ids=[from_id]))["ids"]) - off_top)
            require(
                not moved,
                "UNIFIED_LIMIT_ON_TOP",
                f"with this link, {', '.join(moved)} would be controlled while holding its "
                "group's unified limit, which is read from the top controller only: remove it "
                "(setUnifiedLimit, limit null) first, and set the group's on its new top",
                moved,
            )
        else:
            state = await w.one(RELATED_EXISTS, fromId=from_id, toId=to_id, kind=kind.value)
            if state["exists"]:
                raise Duplicate("ClientLink", link_id(from_id, kind, to_id))
            await w.tx.run(
                CREATE_RELATED,
                fromId=from_id,
                toId=to_id,
                kind=kind.value,
                role=link.role,
                reciprocalRole=link.reciprocal_role,
            )
        w.clients.update((from_id, to_id))
        w.after = link.model_dump(by_alias=True, mode="json")
        return link

    inputs = link.model_dump(by_alias=True, mode="json")
    return await run_write(db, "relateClients", actor, inputs, work)


async def unrelate_clients(
    db: Db, actor: str, from_id: str, to_id: str, kind: ClientLinkKind,
    visible_to: str | None = None,
) -> ClientLinkInput:  # fmt: skip
    """Removes the link `from_id` → `to_id` of this kind; returns what it was. A relationship
    manager (`visible_to`) removes none that joins clients into one credit group: splitting a
    group lowers the exposure its limit is measured against, which is for the risk side to
    decide (审贷分离), as the client's kind and rating are."""
    require_id("fromId", from_id)
    require_id("toId", to_id)
    _check_kind(kind)
    if visible_to is not None and kind in GROUP_FORMING:
        raise InvalidInput(
            "kind",
            f"a {kind.value} link joins the two clients into one credit group: a risk officer "
            "or an admin removes it",
        )

    async def work(w: Write) -> ClientLinkInput:
        await _both_clients(w, from_id, to_id, visible_to)  # locked, in the book, not archived
        if kind is ClientLinkKind.CONTROL:
            row = await w.one(DELETE_CONTROL, fromId=from_id, toId=to_id)
        else:
            row = await w.one(DELETE_RELATED, fromId=from_id, toId=to_id, kind=kind.value)
        if row["was"] is None:
            raise NotFound("ClientLink", link_id(from_id, kind, to_id))
        removed = ClientLinkInput(from_id=from_id, to_id=to_id, kind=kind, **row["was"])
        w.clients.update((from_id, to_id))
        w.before = removed.model_dump(by_alias=True, mode="json")
        return removed

    inputs = {"fromId": from_id, "toId": to_id, "kind": kind.value}
    return await run_write(db, "unrelateClients", actor, inputs, work)
