"""Client development (客户开发): a prospect moves through the pipeline, one stage at a time.

TARGET → VISIT_PLANNED → APPOINTMENT → VISITED → ACTIVE, or LOST from any open stage. Reaching
ACTIVE makes the client an active new (增量) client; that is the only way a prospect becomes one
(`graph.client_writes` refuses the shortcut). An existing (存量) client never enters the pipeline:
that would credit a manager with business the bank already had. Each move is recorded with who
made it and when.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, LiteralString

from graph.data_writes import Write, require_client_not_archived, run_write
from graph.db import Db
from graph.errors import InvariantViolation, NotFound, require
from graph.input_checks import optional_text
from graph.models import GraphModel


class Stage(StrEnum):
    TARGET = "TARGET"
    VISIT_PLANNED = "VISIT_PLANNED"
    APPOINTMENT = "APPOINTMENT"
    VISITED = "VISITED"
    ACTIVE = "ACTIVE"
    LOST = "LOST"


ORDER: Final = (Stage.TARGET, Stage.VISIT_PLANNED, Stage.APPOINTMENT, Stage.VISITED, Stage.ACTIVE)
CLOSED: Final = frozenset({Stage.ACTIVE, Stage.LOST})

STATE: Final[LiteralString] = """
OPTIONAL MATCH (c:Client {id: $id})
RETURN c IS NOT NULL AS found, c.segment AS segment, c.status AS status, c.stage AS stage
"""
# A prospect is VISITED once a visit is on record: one made (by the bank's day) since it was last
# targeted, or any, for a prospect whose targeting predates the pipeline's records.
VISITED_SINCE_TARGETED: Final[LiteralString] = """
MATCH (c:Client {id: $id})
WITH c, COLLECT { MATCH (t:PipelineMove {toStage: 'TARGET'})-[:OF]->(c) RETURN max(t.at) }[0]
          AS targeted
RETURN EXISTS {
  MATCH (i:Interaction {kind: 'VISIT'})-[:WITH]->(c)
  WHERE targeted IS NULL
     OR date(datetime({datetime: i.at, timezone: $tz}))
        >= date(datetime({datetime: targeted, timezone: $tz}))
} AS visited
"""
# DOMAIN §4: a new client is one a manager developed, who opened an account and trades.
OPENED_ACCOUNT: Final[LiteralString] = """
MATCH (c:Client {id: $id})
RETURN EXISTS { (c)-[h:HOLDS]->(:Product) WHERE h.active } AS opened
"""
MOVE: Final[LiteralString] = """
MATCH (c:Client {id: $id})
SET c.stage = $to, c.version = coalesce(c.version, 0) + 1
FOREACH (_ IN CASE WHEN $to = 'ACTIVE' THEN [1] ELSE [] END |
  SET c.status = 'ACTIVE', c.segment = 'NEW', c.activatedAt = date({timezone: $tz}))
CREATE (move:PipelineMove {id: randomUUID(), fromStage: $fromStage, toStage: $to, at: datetime(),
                           seq: c.version, by: $by, note: $note})-[:OF]->(c)
WITH move, c
OPTIONAL MATCH (m:Manager {id: $managerId})
FOREACH (_ IN CASE WHEN m IS NULL THEN [] ELSE [1] END | CREATE (move)-[:BY]->(m))
// The client is won by its primary manager at this moment, whoever records the move: the
// manager's performance keeps the win after a transfer or an archive.
WITH move, c
OPTIONAL MATCH (primary:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c) WHERE $to = 'ACTIVE'
FOREACH (_ IN CASE WHEN primary IS NULL THEN [] ELSE [1] END | CREATE (move)-[:WON_BY]->(primary))
RETURN DISTINCT move.id AS id, toString(move.at) AS at
"""
# Two moves can share a timestamp (as fine as the server clock allows, no finer); `seq`,
# the client's version the move made, keeps them in the order they were made.
HISTORY: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (c:Client {id: id})
RETURN id, COLLECT { MATCH (move:PipelineMove)-[:OF]->(c)
                     WITH move ORDER BY move.at DESC, coalesce(move.seq, 0) DESC, move.id
                     RETURN move {.id, .fromStage, .toStage, .by, .note, at: toString(move.at)}
                   } AS moves
"""


class PipelineMove(GraphModel):
    id: str
    client_id: str = ""
    from_stage: Stage | None
    to_stage: Stage
    at: str
    by: str
    note: str | None = None


def next_stages(current: Stage | None) -> list[Stage]:
    """Where a client at `current` may go (None: not in the pipeline yet). A prospect lost
    may be targeted again (a firm that said no last year may say yes this year); a client
    won leaves the pipeline for good."""
    if current is None or current is Stage.LOST:
        return [Stage.TARGET]
    if current in CLOSED:
        return []
    return [ORDER[ORDER.index(current) + 1], Stage.LOST]


async def move_pipeline(
    db: Db,
    actor: str,
    client_id: str,
    to: Stage,
    note: str | None,
    manager_id: str | None,
    visible_to: str | None,
) -> PipelineMove:
    note = optional_text("note", note, 2000)

    async def work(w: Write) -> PipelineMove:
        await w.lock_clients([client_id])
        state = await w.one(STATE, id=client_id)
        if not state["found"]:
            raise NotFound("Client", client_id)
        await w.require_in_book(visible_to, [client_id])
        require_client_not_archived(client_id, state["status"])
        require(
            state["segment"] != "EXISTING",
            "EXISTING_NEVER_IN_PIPELINE",
            "an existing (存量) client never enters the development pipeline",
            [client_id],
        )
        current = Stage(state["stage"]) if state["stage"] else None
        require(
            not (current is None and state["status"] != "PROSPECT"),
            "PROSPECTS_ONLY",
            f"only a prospect enters the pipeline; this client is {state['status']}",
            [client_id],
        )
        allowed = next_stages(current)
        if to not in allowed:
            where = current.value if current else "outside the pipeline"
            options = ", ".join(s.value for s in allowed) or "nothing: the pipeline is closed"
            raise InvariantViolation(
                "PIPELINE_ORDER", f"from {where} the next stage is {options}", [client_id]
            )
        if to is Stage.VISITED:
            # The stage credits a visit (and leads to a win, credited to a manager): it needs
            # the visit recorded, not only said.
            require(
                (await w.one(VISITED_SINCE_TARGETED, id=client_id))["visited"],
                "VISIT_RECORDED",
                "a prospect is VISITED once a visit to it is recorded (recordInteraction, kind "
                "VISIT) since it was targeted",
                [client_id],
            )
        won_by: list[str] = []
        if to is Stage.ACTIVE:
            won_by = await w.require_active_primary(client_id)
            # A win is credited to a manager: it rests on an account the client opened.
            require(
                (await w.one(OPENED_ACCOUNT, id=client_id))["opened"],
                "ACCOUNT_OPENED",
                "a prospect becomes an active (new) client once it has opened an account: "
                "record its first holding (recordHolding) first",
                [client_id],
            )
        row = await w.one(
            MOVE,
            id=client_id,
            to=to.value,
            fromStage=current.value if current else None,
            by=actor,
            note=note,
            managerId=manager_id,
        )
        w.clients.add(client_id)
        w.before = {"stage": current.value if current else None}
        w.after = {"stage": to.value}
        if to is Stage.ACTIVE:
            # Won: the client becomes active and new business, credited to its primary manager,
            # whose audit log shows the win too.
            w.managers.update(won_by)
            w.before |= {"status": state["status"], "segment": state["segment"]}
            w.after |= {"status": "ACTIVE", "segment": "NEW", "wonBy": won_by}
        return PipelineMove(
            id=row["id"],
            client_id=client_id,
            from_stage=current,
            to_stage=to,
            at=row["at"],
            by=actor,
            note=note,
        )

    inputs = {"clientId": client_id, "toStage": to.value, "note": note}
    return await run_write(db, "movePipeline", actor, inputs, work)


async def get_pipeline_history(db: Db, client_ids: list[str]) -> dict[str, list[PipelineMove]]:
    rows = await db.read(HISTORY, {"ids": client_ids})
    return {
        r["id"]: [PipelineMove.model_validate({**m, "clientId": r["id"]}) for m in r["moves"]]
        for r in rows
    }
