"""Admins restructure the organisation: every change is one transaction that locks the org,
checks versions, makes the change, re-checks the invariants of the whole department graph,
records link history and an audit record, and on a dry run rolls everything back.

Invariants (DOMAIN.md §2, §4), checked after every change, inside the transaction:
- direct links form a forest: at most one direct parent, no cycle;
- a check-and-balance link never joins a department to itself, its ancestors or descendants;
- no self-links, and no two links of one kind between the same departments;
- every active client keeps exactly one primary manager;
- no change makes a facility's approving department dependent on its granting department
  (审贷分离: the same, an ancestor or a descendant), as `approveFacility` refuses; approvals
  already dependent before the change (imported as the credit system recorded them) stay as
  recorded and do not block it, nor do those of closed facilities.

Link history: current links stay plain relationships (what every reader sees); each link added
or removed through here also gets an `:OrgLinkPeriod {kind, fromId, toId, note, validFrom,
validTo}` record, never deleted, which `org_chart` reads for past moments.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction
from neo4j.exceptions import ConstraintError
from pydantic import Field

from graph.bank_calendar import zone_name
from graph.client_links import INDEPENDENTLY_APPROVED, OPEN_FACILITY
from graph.data_writes import LOCK_DEPARTMENTS
from graph.db import Db
from graph.departments import dependent
from graph.errors import (
    Duplicate,
    GraphError,
    InvariantViolation,
    NotFound,
    VersionConflict,
    require,
)
from graph.facility_writes import WITHDRAW_APPROVALS, approvers_by_facility
from graph.input_checks import require_text
from graph.models import GraphModel


class LinkKind(StrEnum):
    DIRECT = "DIRECT"
    LINEAR = "LINEAR"
    CHECK_AND_BALANCE = "CHECK_AND_BALANCE"


# Relationship type and note property per kind: prewritten, chosen by the enum.
_LINK_MATCH: Final[dict[LinkKind, LiteralString]] = {
    LinkKind.DIRECT: "MATCH (a:Department {id: $fromId})-[r:DIRECT_REPORT]->"
    "(b:Department {id: $toId})",
    LinkKind.LINEAR: "MATCH (a:Department {id: $fromId})-[r:LINEAR]->(b:Department {id: $toId})",
    LinkKind.CHECK_AND_BALANCE: "MATCH (a:Department {id: $fromId})-[r:CHECKS]->"
    "(b:Department {id: $toId})",
}
CREATE_LINK: Final[dict[LinkKind, LiteralString]] = {
    LinkKind.DIRECT: "MATCH (a:Department {id: $fromId}), (b:Department {id: $toId}) "
    "CREATE (a)-[:DIRECT_REPORT {since: date({timezone: $tz})}]->(b)",
    LinkKind.LINEAR: "MATCH (a:Department {id: $fromId}), (b:Department {id: $toId}) "
    "CREATE (a)-[:LINEAR {since: date({timezone: $tz}), purpose: $note}]->(b)",
    LinkKind.CHECK_AND_BALANCE: "MATCH (a:Department {id: $fromId}), (b:Department {id: $toId}) "
    "CREATE (a)-[:CHECKS {since: date({timezone: $tz}), scope: $note}]->(b)",
}
DELETE_LINK: Final[dict[LinkKind, LiteralString]] = {
    kind: stmt + " WITH r, r.since AS since, coalesce(r.purpose, r.scope) AS note DELETE r "
    "RETURN since, note"
    for kind, stmt in _LINK_MATCH.items()
}
LINK_EXISTS: Final[dict[LinkKind, LiteralString]] = {
    kind: stmt + " RETURN count(r) AS n" for kind, stmt in _LINK_MATCH.items()
}

LOCK_ORG: Final[LiteralString] = """
MERGE (l:OrgLock {id: 'org'})
SET l.touchedAt = datetime()
"""

DEPARTMENTS: Final[LiteralString] = """
UNWIND $ids AS id
OPTIONAL MATCH (d:Department {id: id})
RETURN id, d IS NOT NULL AS found, d.version AS version, coalesce(d.archived, false) AS archived,
       d.name AS name
"""

OPEN_PERIOD: Final[LiteralString] = """
CREATE (:OrgLinkPeriod {kind: $kind, fromId: $fromId, toId: $toId, note: $note,
                        validFrom: datetime(), validTo: null})
"""

CLOSE_PERIOD: Final[LiteralString] = """
OPTIONAL MATCH (p:OrgLinkPeriod {kind: $kind, fromId: $fromId, toId: $toId})
WHERE p.validTo IS NULL
WITH collect(p) AS open
FOREACH (p IN open | SET p.validTo = datetime())
WITH open WHERE size(open) = 0
// A link from before history was kept (seeded or imported): record the period it had.
CREATE (:OrgLinkPeriod {kind: $kind, fromId: $fromId, toId: $toId, note: $note,
                        validFrom: datetime({date: coalesce($since, date('1900-01-01'))}),
                        validTo: datetime()})
"""

# Touched nodes by label, so each lookup uses its label's id index: the versioned ones, and
# (for the audit record only) the facilities and products a merge hands to its target.
_VERSIONED: Final[LiteralString] = """
  UNWIND $departments AS id MATCH (n:Department {id: id}) RETURN n
  UNION
  UNWIND $managers AS id MATCH (n:Manager {id: id}) RETURN n
  UNION
  UNWIND $clients AS id MATCH (n:Client {id: id}) RETURN n
"""
TOUCHED: Final[LiteralString] = "CALL () {" + _VERSIONED + "}\n"
AUDITED: Final[LiteralString] = (
    "CALL () {"
    + _VERSIONED
    + """  UNION
  UNWIND $facilities AS id MATCH (n:Facility {id: id}) RETURN n
  UNION
  UNWIND $products AS id MATCH (n:Product {id: id}) RETURN n
}
"""
)

BUMP_VERSIONS: Final[LiteralString] = TOUCHED + "SET n.version = coalesce(n.version, 0) + 1"

VIOLATIONS: Final[LiteralString] = (
    """
CALL () {
  MATCH (d:Department) WHERE COUNT { (d)-[:DIRECT_REPORT]->() } > 1
  RETURN 'SINGLE_PARENT' AS invariant, [d.id] AS ids
  UNION ALL
  MATCH (d:Department) WHERE EXISTS { (d)-[:DIRECT_REPORT*1..64]->(d) }
  RETURN 'DIRECT_FOREST' AS invariant, [d.id] AS ids
  UNION ALL
  MATCH (a:Department)-[r:DIRECT_REPORT|LINEAR|CHECKS]->(a)
  RETURN 'NO_SELF_LINK' AS invariant, [a.id] AS ids
  UNION ALL
  MATCH (a:Department)-[r:DIRECT_REPORT|LINEAR|CHECKS]->(b:Department)
  WITH a, b, type(r) AS t, count(r) AS n WHERE n > 1
  RETURN 'NO_DUPLICATE_LINK' AS invariant, [a.id, b.id] AS ids
  UNION ALL
  MATCH (a:Department)-[:CHECKS]->(b:Department)
  WHERE a <> b AND """
    + dependent("a", "b")
    + """
  RETURN 'CHECK_INDEPENDENCE' AS invariant, [a.id, b.id] AS ids
  UNION ALL
  MATCH (c:Client {status: 'ACTIVE'})
  WHERE c.id IN $clientIds AND COUNT { (c)<-[:MANAGES {role: 'PRIMARY'}]-() } <> 1
  RETURN 'ONE_PRIMARY_MANAGER' AS invariant, [c.id] AS ids
  UNION ALL
  MATCH (d:Department)-[:OFFERS]->(p:Product)
  WHERE p.id IN $productIds AND (d.function <> 'PRODUCT' OR d.archived)
  RETURN 'PRODUCT_DEPARTMENT' AS invariant, [d.id, p.id] AS ids
  UNION ALL
  // At most MAX_DEPTH (32) direct links above any department: the roll-ups and paths to the
  // root read 32 levels, and the cycle checks (64) hold only while every chain is this short.
  // Only a new direct link deepens anything, and only below its child, at most 32 links down.
  MATCH (d:Department) WHERE d.id IN $linkedIds
  MATCH (low:Department)-[:DIRECT_REPORT*0..32]->(d)
  WHERE EXISTS { (low)-[:DIRECT_REPORT*33]->() }
  RETURN DISTINCT 'TREE_DEPTH' AS invariant, [low.id] AS ids
}
// A broken tree first: ancestry-based checks after it follow from it.
RETURN invariant, ids
ORDER BY CASE invariant WHEN 'DIRECT_FOREST' THEN 0 WHEN 'SINGLE_PARENT' THEN 1 ELSE 2 END,
         invariant, ids
LIMIT 20
"""
)

# Facilities whose approving department is not independent of the granting one (the same, or an
# ancestor or descendant), among those granted or approved in the subtrees of `$roots` or by
# `$departments`. Ancestry changes only between a re-parented department's subtree and the rest,
# and a merge hands its facilities to the target, so these scopes cover what a change can break.
# Pairs of (granting, approving) departments are few even where facilities are many: pairs are
# checked, and facilities listed only for a dependent pair.
DEPENDENT_APPROVALS: Final[LiteralString] = (
    """
CALL () {
  UNWIND $roots AS id
  MATCH (x:Department)-[:DIRECT_REPORT*0..64]->(:Department {id: id})
  RETURN x
  UNION
  UNWIND $departments AS id
  MATCH (x:Department {id: id})
  RETURN x
}
WITH DISTINCT x
CALL (x) {
  MATCH (x)-[:GRANTED]->(f:Facility)<-[:APPROVED]-(a:Department) WHERE """
    + OPEN_FACILITY
    + """
  RETURN DISTINCT x AS g, a
  UNION
  MATCH (x)-[:APPROVED]->(f:Facility)<-[:GRANTED]-(g:Department) WHERE """
    + OPEN_FACILITY
    + """
  RETURN DISTINCT g, x AS a
}
WITH DISTINCT g, a
WHERE """
    + dependent("g", "a")
    + """
RETURN g.id AS grantingId, a.id AS approvingId,
       COLLECT { MATCH (g)-[:GRANTED]->(f:Facility)<-[:APPROVED]-(a) WHERE """
    + OPEN_FACILITY
    + """
                 RETURN f.id } AS facilityIds
"""
)

# Of the facilities given, those with an independent approval (审贷分离) now.
INDEPENDENT_NOW: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (f:Facility {id: id}) WHERE "
    + INDEPENDENTLY_APPROVED
    + " RETURN collect(f.id) AS ids"
)


AUDIT: Final[LiteralString] = (
    """
CREATE (a:AuditRecord {id: randomUUID(), at: datetime(), actor: $actor, action: $action,
                       input: $input, before: $before, after: $after})
WITH a
CALL (a) {
"""
    + AUDITED
    + """
  CREATE (a)-[:CHANGED]->(n)
}
RETURN a.id AS id
"""
)


class LinkChange(GraphModel):
    kind: LinkKind
    from_id: str
    to_id: str


class Moving(GraphModel):
    """What goes with a change to its new place: what a preview shows an admin."""

    departments: list[str]  # the department moved (a merge's source) and those under it
    managers: int  # their members, or the manager assigned
    clients: int  # active clients whose primary manager is among those managers


# The subtrees of `$roots` and the managers in them, plus `$managerIds`: what moves along.
MOVING_WITH: Final[LiteralString] = """
CALL () {
  UNWIND $roots AS id
  MATCH (x:Department)-[:DIRECT_REPORT*0..32]->(:Department {id: id})
  RETURN collect(DISTINCT x) AS departments
}
CALL (departments) {
  CALL (departments) {
    UNWIND departments AS x
    MATCH (m:Manager)-[:MEMBER_OF]->(x)
    RETURN m
    UNION
    UNWIND $managerIds AS id
    MATCH (m:Manager {id: id})
    RETURN m
  }
  RETURN count(m) AS managers,
         sum(COUNT { (m)-[:MANAGES {role: 'PRIMARY'}]->(:Client {status: 'ACTIVE'}) }) AS clients
}
RETURN [x IN departments | x.id] AS departments, managers, clients
"""


class Impact(GraphModel):
    departments: list[str] = Field(default_factory=list)
    managers: list[str] = Field(default_factory=list)
    clients: list[str] = Field(default_factory=list)
    facilities: list[str] = Field(default_factory=list)  # merge: granted or approved by the source
    # Approvals made while the approver was not independent, which the change would have made
    # count: withdrawn, to be approved again (see `_keep_approvals_independent`).
    approvals_withdrawn: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)  # merge: offered by the source
    moving: Moving | None = None  # move, merge and assignment: what goes with the change
    links_added: list[LinkChange] = Field(default_factory=list)
    links_removed: list[LinkChange] = Field(default_factory=list)
    dropped: list[LinkChange] = Field(
        default_factory=list
    )  # merge: links that would have become self-links or duplicates


class ChangeResult(GraphModel):
    dry_run: bool
    impact: Impact
    audit_record_id: str | None


@dataclass
class Change:
    """What one transaction did; the operations fill it as they go."""

    tx: AsyncManagedTransaction
    action: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    departments: set[str] = field(default_factory=set)
    credit_moved: set[str] = field(default_factory=set)  # departments given others' facilities
    # Facilities whose approval was already not independent before this change touched them
    # (imported as the credit system recorded them): the change is not refused for those.
    dependent_before: set[str] = field(default_factory=set)
    # Of those, the facilities with no independent approval at all before the change.
    unapproved_before: set[str] = field(default_factory=set)
    approvals_withdrawn: list[str] = field(default_factory=list)
    moving: Moving | None = None
    # Set once a change has noted its whole scope up front: a note taken later would see the
    # change half done and take an approval it made dependent for one that always was.
    notes_taken: bool = False
    managers: set[str] = field(default_factory=set)
    clients: set[str] = field(default_factory=set)
    facilities: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    added: list[LinkChange] = field(default_factory=list)
    removed: list[LinkChange] = field(default_factory=list)
    dropped: list[LinkChange] = field(default_factory=list)

    async def rows(self, query: LiteralString, **params: Any) -> list[dict[str, Any]]:
        """Every statement gets `$tz`, the bank's time zone, as `graph.data_writes.Write`'s."""
        result = await self.tx.run(query, tz=zone_name(), **params)
        return [dict(r) async for r in result]

    async def departments_state(
        self, ids: list[str], expected: dict[str, int | None] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The departments, which must exist and, where a version is expected, be at it; locked
        first, so no member, product or facility joins one between this check and the change."""
        await self.tx.run(LOCK_DEPARTMENTS, ids=sorted(set(ids)))
        found = {r["id"]: r for r in await self.rows(DEPARTMENTS, ids=ids)}
        for dept_id in ids:
            if not found[dept_id]["found"]:
                raise NotFound("Department", dept_id)
        for dept_id, version in (expected or {}).items():
            actual = found[dept_id]["version"] or 0
            if version is not None and version != actual:
                raise VersionConflict(dept_id, version, actual)
        return found

    async def dependent_approvals(
        self, roots: list[str], departments: list[str]
    ) -> list[dict[str, Any]]:
        return await self.rows(DEPENDENT_APPROVALS, roots=roots, departments=departments)

    async def note_dependent_approvals(
        self, roots: list[str], departments: Sequence[str] = ()
    ) -> None:
        """Remember the dependent approvals in this scope as they are before a change to it."""
        if self.notes_taken:
            return
        noted = {f for row in await self.dependent_approvals(roots, list(departments))
                 for f in row["facilityIds"]}  # fmt: skip
        # Only those first seen here: a later note (a move adds its new parent link after
        # removing the old one) may see the change half done.
        new = noted - self.dependent_before
        self.dependent_before |= new
        if new:
            [now] = await self.rows(INDEPENDENT_NOW, ids=sorted(new))
            self.unapproved_before |= new - set(now["ids"])

    async def note_moving(self, roots: Sequence[str] = (), manager_ids: Sequence[str] = ()) -> None:
        """Before the change: the subtrees of `roots` and their members, or `manager_ids`."""
        [row] = await self.rows(MOVING_WITH, roots=list(roots), managerIds=list(manager_ids))
        self.moving = Moving(
            departments=sorted(row["departments"]), managers=row["managers"],
            clients=row["clients"],
        )  # fmt: skip

    async def add_link(self, kind: LinkKind, from_id: str, to_id: str, note: str | None) -> None:
        if kind is LinkKind.DIRECT:
            await self.note_dependent_approvals([from_id])
        await self.rows(CREATE_LINK[kind], fromId=from_id, toId=to_id, note=note)
        await self.tx.run(OPEN_PERIOD, kind=kind.value, fromId=from_id, toId=to_id, note=note)
        self.added.append(LinkChange(kind=kind, from_id=from_id, to_id=to_id))
        self.departments.update((from_id, to_id))

    async def remove_link(self, kind: LinkKind, from_id: str, to_id: str) -> bool:
        if kind is LinkKind.DIRECT:
            await self.note_dependent_approvals([from_id])
        rows = await self.rows(DELETE_LINK[kind], fromId=from_id, toId=to_id)
        if not rows:
            return False
        since = rows[0]["since"]
        await self.tx.run(
            CLOSE_PERIOD, kind=kind.value, fromId=from_id, toId=to_id, note=rows[0]["note"],
            since=since,
        )  # fmt: skip
        self.removed.append(LinkChange(kind=kind, from_id=from_id, to_id=to_id))
        self.departments.update((from_id, to_id))
        return True

    async def link_exists(self, kind: LinkKind, from_id: str, to_id: str) -> bool:
        [row] = await self.rows(LINK_EXISTS[kind], fromId=from_id, toId=to_id)
        return bool(row["n"])

    def impact(self) -> Impact:
        return Impact(
            departments=sorted(self.departments),
            managers=sorted(self.managers),
            clients=sorted(self.clients),
            facilities=sorted(self.facilities),
            approvals_withdrawn=self.approvals_withdrawn,
            products=sorted(self.products),
            moving=self.moving,
            links_added=self.added,
            links_removed=self.removed,
            dropped=self.dropped,
        )


class _DryRun(Exception):
    """Raised at the end of a dry run so the driver rolls the transaction back."""

    def __init__(self, impact: Impact) -> None:
        super().__init__("dry run")
        self.impact = impact


async def run_change(
    db: Db,
    action: str,
    actor: str,
    dry_run: bool,
    inputs: dict[str, Any],
    work: Callable[[Change], Awaitable[None]],
    creates: tuple[str, str] | None = None,
) -> ChangeResult:
    """Lock, change, check every invariant, version, audit; roll back on error or dry run.
    `creates` names the (kind, id) of a node the change creates, for the `Duplicate` a node made
    meanwhile turns into (by a write that takes no org lock, as a direct Cypher load)."""

    async def transaction(tx: AsyncManagedTransaction) -> ChangeResult:
        await tx.run(LOCK_ORG)  # structural changes take turns: no two can race into a cycle
        change = Change(tx=tx, action=action)
        await work(change)
        violations = await change.rows(
            VIOLATIONS,
            clientIds=sorted(change.clients),
            productIds=sorted(change.products),
            linkedIds=sorted({a.from_id for a in change.added if a.kind is LinkKind.DIRECT}),
        )
        if violations:
            first = violations[0]
            raise InvariantViolation(
                first["invariant"],
                f"the change would break {first['invariant']}",
                sorted({i for v in violations for i in v["ids"]}),
            )
        await _keep_approvals_independent(change)
        impact = change.impact()
        if dry_run:
            raise _DryRun(impact)
        touched = {
            "departments": sorted(change.departments),
            "managers": sorted(change.managers),
            "clients": sorted(change.clients),
        }
        await tx.run(BUMP_VERSIONS, touched)
        [audit] = await change.rows(
            AUDIT,
            actor=actor,
            action=action,
            input=json.dumps(inputs, ensure_ascii=False, sort_keys=True, default=str),
            before=json.dumps(change.before, ensure_ascii=False, sort_keys=True, default=str),
            after=json.dumps(
                {**change.after, "impact": impact.model_dump(mode="json")},
                ensure_ascii=False,
                sort_keys=True,
            ),
            **touched,
            facilities=sorted(change.facilities | set(change.approvals_withdrawn)),
            products=sorted(change.products),
        )
        return ChangeResult(dry_run=False, impact=impact, audit_record_id=audit["id"])

    try:
        return await db.write(transaction)
    except _DryRun as done:
        return ChangeResult(dry_run=True, impact=done.impact, audit_record_id=None)
    except ConstraintError as exc:
        if creates is None:
            raise
        raise Duplicate(*creates) from exc


async def _keep_approvals_independent(change: Change) -> None:
    """No facility independently approved before the change is left without an independent
    approval after it (the change is refused), and none approved only by a department that was
    not independent becomes approved by the change: a decision taken by the grantor's own parent
    does not start to count (and let money be drawn) because the organisation moved round it.
    Such approvals are withdrawn and listed; the facility waits for an independent approval, as
    a new one does."""
    if change.unapproved_before:
        [now] = await change.rows(INDEPENDENT_NOW, ids=sorted(change.unapproved_before))
        if now["ids"]:
            change.approvals_withdrawn = sorted(now["ids"])
            [done] = await change.rows(WITHDRAW_APPROVALS, ids=change.approvals_withdrawn)
            change.before["approvalsWithdrawn"] = approvers_by_facility(done["withdrawn"])
    roots = sorted({c.from_id for c in change.added + change.removed if c.kind is LinkKind.DIRECT})
    if not roots and not change.credit_moved:
        return
    dependent = await change.dependent_approvals(roots, sorted(change.credit_moved))
    # A facility with a dependent approval before may still have had an independent one, which
    # the change must not take away either.
    had_one = change.dependent_before - change.unapproved_before
    maybe_lost = sorted({f for row in dependent for f in row["facilityIds"]} & had_one)
    lost: set[str] = set()
    if maybe_lost:
        [now] = await change.rows(INDEPENDENT_NOW, ids=maybe_lost)
        lost = set(maybe_lost) - set(now["ids"])
    broken = [
        (row, sorted(set(row["facilityIds"]) - (change.dependent_before - lost)))
        for row in dependent
    ]
    broken = [(row, ids) for row, ids in broken if ids]
    if broken:
        facilities = sorted({f for _, ids in broken for f in ids})
        departments = sorted(
            {d for row, _ in broken for d in (row["grantingId"], row["approvingId"])}
        )
        raise InvariantViolation(
            "APPROVAL_INDEPENDENCE",
            f"the change would leave {len(facilities)} facility approval(s) not independent of "
            "the granting department",
            facilities[:20] + departments,
        )


__all__ = [
    "Change",
    "ChangeResult",
    "GraphError",
    "Impact",
    "LinkChange",
    "LinkKind",
    "require",
    "require_text",
    "run_change",
]
