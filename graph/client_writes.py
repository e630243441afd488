"""Clients written one at a time: create (with its primary manager), update, archive.

Every active client has exactly one primary manager (DOMAIN §4), so a client is created with its
`MANAGES {role: PRIMARY}` link in the same transaction. An existing (存量) client never becomes
new (增量). Archiving keeps everything the client had: facilities, holdings, links and managers
stay readable; only changes stop.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final, LiteralString

from graph.client_links import OPEN_FACILITY
from graph.clients import CLIENT_FIELDS
from graph.data_writes import (
    Write,
    require_active_manager,
    require_client_not_archived,
    require_version,
    run_write,
)
from graph.db import Db
from graph.errors import Duplicate, InvalidInput, NotFound, require
from graph.input_checks import optional_text, require_id, require_range, require_text
from graph.models import (
    Client,
    ClientKind,
    ClientSegment,
    ClientStatus,
    GraphModel,
    KeyAccountGrade,
)

CREATE_STATE: Final[LiteralString] = """
OPTIONAL MATCH (c:Client {id: $id})
OPTIONAL MATCH (m:Manager {id: $managerId})
RETURN c IS NOT NULL AS exists, m IS NOT NULL AS managerFound,
       coalesce(m.active, true) AS managerActive
"""

CREATE_CLIENT: Final[LiteralString] = (
    """
MATCH (m:Manager {id: $managerId})
CREATE (c:Client {id: $id, name: $name, kind: $kind, segment: $segment, status: $status,
                  grade: $grade, riskRating: $riskRating, industry: $industry, region: $region,
                  version: 0})
CREATE (m)-[:MANAGES {role: 'PRIMARY', since: date({timezone: $tz})}]->(c)
RETURN c """
    + CLIENT_FIELDS
    + " AS client"
)

CLIENT_STATE: Final[LiteralString] = (
    "OPTIONAL MATCH (c:Client {id: $id}) RETURN c " + CLIENT_FIELDS + " AS client"
)

# `$changes` holds only keys of `ClientChanges`; a null value removes the property (reads null).
UPDATE_CLIENT: Final[LiteralString] = (
    "MATCH (c:Client {id: $id}) SET c += $changes, c.version = coalesce(c.version, 0) + 1 "
    "RETURN c " + CLIENT_FIELDS + " AS client"
)

OUTSTANDING_CREDIT: Final[LiteralString] = (
    """
MATCH (:Client {id: $id})-[:BORROWS]->(f:Facility)
WHERE f.drawnCents > 0 AND """
    + OPEN_FACILITY
    + """
RETURN collect(f.id) AS facilityIds
"""
)

# Active holdings a new client kind would not suit (see graph.holding_writes).
# What the client actively holds, locked before a change of kind reads the products' audiences
# (client, then products, as recordHolding locks them): an audience narrowed meanwhile by
# updateProduct, which locks the product, would otherwise pass both checks.
HELD_PRODUCTS: Final[LiteralString] = """
MATCH (:Client {id: $id})-[:HOLDS {active: true}]->(p:Product)
RETURN collect(DISTINCT p.id) AS productIds
"""
UNSUITED_PRODUCTS: Final[LiteralString] = """
MATCH (:Client {id: $id})-[:HOLDS {active: true}]->(p:Product)
WHERE ($kind = 'INDIVIDUAL' AND p.audience = 'CORPORATE')
   OR ($kind <> 'INDIVIDUAL' AND p.audience = 'INDIVIDUAL')
WITH p ORDER BY p.id LIMIT 20
RETURN collect(p.id) AS productIds
"""

# An archived client is owed no visits and follows no plan: its key-account grade goes.
ARCHIVE_CLIENT: Final[LiteralString] = (
    "MATCH (c:Client {id: $id}) SET c.status = 'ARCHIVED', c.grade = null, "
    "c.version = coalesce(c.version, 0) + 1 RETURN c " + CLIENT_FIELDS + " AS client"
)


class NewClient(GraphModel):
    id: str
    name: str
    kind: ClientKind
    segment: ClientSegment
    status: ClientStatus = ClientStatus.PROSPECT
    grade: KeyAccountGrade | None = None
    risk_rating: int | None = None  # left out: CAUTIOUS_RATING
    industry: str | None = None
    region: str | None = None


class ClientChanges(GraphModel):
    """Fields to change; a field left unset keeps its value."""

    name: str | None = None
    kind: ClientKind | None = None
    segment: ClientSegment | None = None
    status: ClientStatus | None = None
    grade: KeyAccountGrade | None = None
    risk_rating: int | None = None
    industry: str | None = None
    region: str | None = None


NOT_NULL: Final = ("name", "kind", "segment", "status", "risk_rating")

# A client no one has rated yet may be offered only the lowest-risk products (cross-sell
# suitability compares product risk to this rating), never more than its rating would allow.
CAUTIOUS_RATING: Final = 1


def _check_status(status: ClientStatus | None) -> None:
    if status is ClientStatus.ARCHIVED:
        raise InvalidInput("status", "must be PROSPECT or ACTIVE; archive with archiveClient")


# What a relationship manager may not set on a client, and why.
NOT_SET_BY_MANAGERS: Final = {
    # Check and balance (审贷分离): the rating decides which products may be sold to the
    # client, so the manager who sells to them does not set it.
    "riskRating": "is not set by relationship managers: the risk function rates",
    # The grade sets the visits a manager owes and the plan they follow: it comes from the
    # bank's thresholds (gradeClients, ADMIN), not from the manager's own say.
    "grade": "is not set by relationship managers: gradeClients grades against the thresholds",
}


def _refuse_manager_fields(visible_to: str | None, fields: Collection[str]) -> None:
    if visible_to is None:
        return
    for name, reason in NOT_SET_BY_MANAGERS.items():
        if name in fields:
            raise InvalidInput(name, reason)


def clean_new_client(new: NewClient, visible_to: str | None = None) -> NewClient:
    """`visible_to`: the relationship manager creating the client, who may not rate or grade
    it."""
    _check_status(new.status)
    given = {"riskRating": new.risk_rating, "grade": new.grade}
    _refuse_manager_fields(visible_to, [name for name, value in given.items() if value is not None])
    if new.segment is ClientSegment.NEW and new.status is ClientStatus.ACTIVE:
        # 增量 business is credited through the development pipeline (graph.pipeline) only.
        raise InvalidInput(
            "status",
            "a new (增量) client starts as a PROSPECT and becomes ACTIVE through the pipeline",
        )
    return new.model_copy(
        update={
            "id": require_id("id", new.id),
            "name": require_text("name", new.name, 200),
            "risk_rating": CAUTIOUS_RATING
            if new.risk_rating is None
            else require_range("riskRating", new.risk_rating, 1, 5),
            "industry": optional_text("industry", new.industry),
            "region": optional_text("region", new.region),
        }
    )


def clean_changes(changes: ClientChanges) -> dict[str, Any]:
    """The changes as graph properties, checked; only the fields that were set."""
    given = changes.model_fields_set
    for name in NOT_NULL:
        if name in given and getattr(changes, name) is None:
            raise InvalidInput(ClientChanges.model_fields[name].alias or name, "must not be null")
    _check_status(changes.status)
    clean: dict[str, Any] = {}
    if "name" in given and changes.name is not None:
        clean["name"] = require_text("name", changes.name, 200)
    if "risk_rating" in given and changes.risk_rating is not None:
        clean["riskRating"] = require_range("riskRating", changes.risk_rating, 1, 5)
    for name in ("industry", "region"):
        if name in given:
            clean[name] = optional_text(name, getattr(changes, name))
    for name in ("kind", "segment", "status", "grade"):
        if name in given:
            value = getattr(changes, name)
            clean[name] = value.value if value is not None else None
    if not clean:
        raise InvalidInput("input", "names no field to change")
    return clean


async def create_client(
    db: Db, actor: str, new: NewClient, primary_manager_id: str, visible_to: str | None = None
) -> Client:
    """The client and its primary manager's `MANAGES` link, or nothing. `visible_to`: the
    relationship manager creating it, who may not set its risk rating or grade."""
    new = clean_new_client(new, visible_to)
    require_id("primaryManagerId", primary_manager_id)

    async def work(w: Write) -> Client:
        await w.lock_managers([primary_manager_id])  # not deactivated while we link to them
        state = await w.one(CREATE_STATE, id=new.id, managerId=primary_manager_id)
        if state["exists"]:
            raise Duplicate("Client", new.id)
        if not state["managerFound"]:
            raise NotFound("Manager", primary_manager_id)
        require_active_manager(primary_manager_id, state["managerActive"])
        row = await w.one(
            CREATE_CLIENT,
            managerId=primary_manager_id,
            **new.model_dump(by_alias=True, mode="json"),
        )
        w.clients.add(new.id)
        w.managers.add(primary_manager_id)
        w.after = {"client": row["client"], "primaryManagerId": primary_manager_id}
        return Client.model_validate(row["client"])

    inputs = {**new.model_dump(by_alias=True, mode="json"), "primaryManagerId": primary_manager_id}
    return await run_write(db, "createClient", actor, inputs, work, ("Client", new.id))


async def changeable_client(
    w: Write, client_id: str, expected_version: int | None, visible_to: str | None
) -> dict[str, Any]:
    """The client as it is, locked for the rest of the write, once it may be changed: it exists
    (in the book of `visible_to`, when given), is at `expected_version` and is not archived."""
    await w.lock_clients([client_id])
    row = await w.one(CLIENT_STATE, id=client_id)
    if row["client"] is None:
        raise NotFound("Client", client_id)
    await w.require_in_book(visible_to, [client_id])
    client: dict[str, Any] = row["client"]
    require_version(client_id, expected_version, client["version"])
    require_not_archived(client)
    return client


def require_not_archived(client: dict[str, Any]) -> None:
    require_client_not_archived(client["id"], client["status"])


async def update_client(
    db: Db, actor: str, client_id: str, changes: ClientChanges, expected_version: int | None,
    visible_to: str | None = None,
) -> Client:  # fmt: skip
    require_id("clientId", client_id)
    clean = clean_changes(changes)
    _refuse_manager_fields(visible_to, clean)

    async def work(w: Write) -> Client:
        before = await changeable_client(w, client_id, expected_version, visible_to)
        if visible_to is not None and clean.get("kind", before["kind"]) != before["kind"]:
            # The kind decides which limits the client's credit is held to (interbank or not)
            # and how its group forms (family links join individuals): a risk matter, as the
            # rating is. A manager gives it when creating the client.
            raise InvalidInput(
                "kind", "is not changed by relationship managers: it decides the client's limits"
            )
        require(
            not (before["segment"] == "EXISTING" and clean.get("segment") == "NEW"),
            "EXISTING_STAYS_EXISTING",
            "an existing (存量) client can never become new (增量)",
            [client_id],
        )
        require(
            not (
                before["status"] == ClientStatus.PROSPECT.value
                and clean.get("status") == ClientStatus.ACTIVE.value
                and clean.get("segment", before["segment"]) == ClientSegment.NEW.value
            ),
            "PIPELINE_ONLY",
            "a prospect becomes an active new (增量) client only through the development "
            "pipeline (movePipeline to ACTIVE)",
            [client_id],
        )
        require(
            not (
                before["status"] == ClientStatus.ACTIVE.value
                and clean.get("status") == ClientStatus.PROSPECT.value
            ),
            "ACTIVE_STAYS_ACTIVE",
            "an active client does not become a prospect again (it would enter the pipeline and "
            "be won a second time): archive it when the relationship ends",
            [client_id],
        )
        active = ClientStatus.ACTIVE.value
        if before["status"] != active and clean.get("status") == active:
            await w.require_active_primary(client_id)
        if "kind" in clean:
            await w.lock_products((await w.one(HELD_PRODUCTS, id=client_id))["productIds"])
            unsuited = await w.one(UNSUITED_PRODUCTS, id=client_id, kind=clean["kind"])
            require(
                not unsuited["productIds"],
                "PRODUCT_AUDIENCE",
                f"active holdings are not for a {clean['kind']} client",
                [client_id, *unsuited["productIds"]],
            )
        row = await w.one(UPDATE_CLIENT, id=client_id, changes=clean)
        w.clients.add(client_id)
        w.before = {k: before.get(k) for k in clean}
        w.after = clean
        return Client.model_validate(row["client"])

    inputs = {"clientId": client_id, "changes": clean, "expectedVersion": expected_version}
    return await run_write(db, "updateClient", actor, inputs, work)


async def archive_client(
    db: Db, actor: str, client_id: str, expected_version: int | None
) -> Client:
    """Refused while the client has drawn credit outstanding: repay or move it first. Undrawn
    facilities, holdings and links stay as they are and remain readable."""
    require_id("clientId", client_id)

    async def work(w: Write) -> Client:
        before = await changeable_client(w, client_id, expected_version, None)
        owing = await w.one(OUTSTANDING_CREDIT, id=client_id)
        require(
            not owing["facilityIds"],
            "NO_OUTSTANDING_CREDIT",
            f"client {client_id!r} has drawn credit outstanding",
            [client_id, *owing["facilityIds"]],
        )
        row = await w.one(ARCHIVE_CLIENT, id=client_id)
        w.clients.add(client_id)
        w.before = {"status": before["status"], "grade": before.get("grade")}
        w.after = {"status": "ARCHIVED", "grade": None}
        return Client.model_validate(row["client"])

    inputs = {"clientId": client_id, "expectedVersion": expected_version}
    return await run_write(db, "archiveClient", actor, inputs, work)
