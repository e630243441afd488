"""The restructuring operations. Each runs as one transaction through `run_change`, which locks
the organisation, re-checks every invariant after the change, versions, audits and honours
dry runs; each here checks what is particular to it and makes the change."""

from __future__ import annotations

from typing import Final, LiteralString

from graph.client_links import OPEN_FACILITY
from graph.data_writes import (
    LOCK_CLIENTS,
    LOCK_MANAGERS,
    require_active_manager,
    require_client_not_archived,
)
from graph.db import Db
from graph.errors import Duplicate, InvalidInput, NotFound, VersionConflict, require
from graph.input_checks import optional_text
from graph.models import DepartmentFunction, OrgModel
from graph.restructure import Change, ChangeResult, LinkChange, LinkKind, require_text
from graph.restructure import run_change as _run

CREATE_DEPARTMENT: Final[LiteralString] = """
CREATE (d:Department {id: $id, name: $name, function: $function, model: $model,
                      archived: false, version: 0, createdAt: datetime()})
"""

RENAME: Final[LiteralString] = """
MATCH (d:Department {id: $id}) WITH d, d.name AS before SET d.name = $name RETURN before
"""

# An open facility granted or approved by an archived department could never be moved on: a
# merge takes no archived source.
REMAINS: Final[LiteralString] = (
    """
MATCH (d:Department {id: $id})
RETURN [(m:Manager)-[:MEMBER_OF]->(d) | m.id] AS members,
       [(c:Department)-[:DIRECT_REPORT]->(d) | c.id] AS children,
       [(d)<-[:MEMBER_OF]-(:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c:Client)
         WHERE c.status = 'ACTIVE' | c.id] AS clients,
       [(d)-[:OFFERS]->(p:Product) | p.id] AS products,
       [(d)-[:GRANTED|APPROVED]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """ | f.id] AS facilities
"""
)

LINKS_OF: Final[LiteralString] = """
MATCH (d:Department {id: $id})
RETURN [(d)-[r:DIRECT_REPORT]->(o) | {kind: 'DIRECT', fromId: d.id, toId: o.id, note: null}]
     + [(o)-[r:DIRECT_REPORT]->(d) | {kind: 'DIRECT', fromId: o.id, toId: d.id, note: null}]
     + [(d)-[r:LINEAR]->(o) | {kind: 'LINEAR', fromId: d.id, toId: o.id, note: r.purpose}]
     + [(o)-[r:LINEAR]->(d) | {kind: 'LINEAR', fromId: o.id, toId: d.id, note: r.purpose}]
     + [(d)-[r:CHECKS]->(o) | {kind: 'CHECK_AND_BALANCE', fromId: d.id, toId: o.id,
                               note: r.scope}]
     + [(o)-[r:CHECKS]->(d) | {kind: 'CHECK_AND_BALANCE', fromId: o.id, toId: d.id,
                               note: r.scope}] AS links
"""

ARCHIVE: Final[LiteralString] = "MATCH (d:Department {id: $id}) SET d.archived = true"

PARENT_OF: Final[LiteralString] = """
OPTIONAL MATCH (:Department {id: $id})-[:DIRECT_REPORT]->(p:Department) RETURN p.id AS parentId
"""

IS_DESCENDANT: Final[LiteralString] = """
MATCH (d:Department {id: $id}), (candidate:Department {id: $candidateId})
RETURN EXISTS { (candidate)-[:DIRECT_REPORT*0..64]->(d) } AS inside
"""

MOVE_MEMBERS: Final[LiteralString] = """
MATCH (m:Manager)-[r:MEMBER_OF]->(:Department {id: $sourceId}), (t:Department {id: $targetId})
CREATE (m)-[:MEMBER_OF {since: date({timezone: $tz})}]->(t)
DELETE r
RETURN collect(m.id) AS managers
"""

MOVE_OFFERS: Final[LiteralString] = """
MATCH (:Department {id: $sourceId})-[r:OFFERS]->(p:Product), (t:Department {id: $targetId})
MERGE (t)-[:OFFERS]->(p)
DELETE r
RETURN collect(p.id) AS products
"""

MOVE_CREDIT: Final[LiteralString] = """
MATCH (:Department {id: $sourceId})-[r:GRANTED|APPROVED]->(f:Facility),
      (t:Department {id: $targetId})
CALL (r, t, f) {
  WITH r WHERE type(r) = 'GRANTED'
  CREATE (t)-[:GRANTED {at: r.at}]->(f)
  UNION
  WITH r WHERE type(r) = 'APPROVED'
  CREATE (t)-[:APPROVED {at: r.at}]->(f)
}
DELETE r
RETURN collect(DISTINCT f.id) AS facilities
"""

MANAGER_STATE: Final[LiteralString] = """
OPTIONAL MATCH (m:Manager {id: $id})
OPTIONAL MATCH (m)-[:MEMBER_OF]->(d:Department)
RETURN m IS NOT NULL AS found, m.version AS version, d.id AS departmentId
"""

ASSIGN: Final[LiteralString] = """
MATCH (m:Manager {id: $managerId}), (d:Department {id: $departmentId})
OPTIONAL MATCH (m)-[old:MEMBER_OF]->(:Department)
DELETE old
CREATE (m)-[:MEMBER_OF {since: date({timezone: $tz})}]->(d)
"""

CLIENT_STATE: Final[LiteralString] = """
OPTIONAL MATCH (c:Client {id: $clientId})
OPTIONAL MATCH (to:Manager {id: $toManagerId})
OPTIONAL MATCH (old:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c)
RETURN c IS NOT NULL AS found, to IS NOT NULL AS managerFound, to.active AS managerActive,
       c.version AS version, c.status AS status, c.segment AS segment,
       collect(old.id) AS primaries
"""

TRANSFER: Final[LiteralString] = """
MATCH (c:Client {id: $clientId}), (to:Manager {id: $toManagerId})
CALL (c, to) {
  OPTIONAL MATCH (old:Manager)-[r:MANAGES]->(c) WHERE r.role = 'PRIMARY' OR old = to
  WITH old, r WHERE r IS NOT NULL
  CREATE (old)-[:MANAGED {role: r.role, since: r.since, until: date({timezone: $tz}),
                    reason: $reason}]->(c)
  DELETE r
  RETURN collect(old.id) AS previous
}
CREATE (to)-[:MANAGES {role: 'PRIMARY', since: date({timezone: $tz})}]->(c)
RETURN previous
"""


def _check_active(state: dict[str, dict[str, object]], *ids: str) -> None:
    for dept_id in ids:
        require(
            not state[dept_id]["archived"],
            "NOT_ARCHIVED",
            f"department {dept_id!r} is archived",
            [dept_id],
        )


async def create_department(
    db: Db, actor: str, dry_run: bool, dept_id: str, name: str,
    function: DepartmentFunction, model: OrgModel, parent_id: str | None,
) -> ChangeResult:  # fmt: skip
    name = require_text("name", name)

    async def work(ch: Change) -> None:
        existing = await ch.rows(
            "OPTIONAL MATCH (d:Department {id: $id}) RETURN d IS NOT NULL AS found", id=dept_id
        )
        if existing[0]["found"]:
            raise Duplicate("Department", dept_id)
        require(
            parent_id != dept_id, "NO_SELF_LINK", "a department cannot be its own parent", [dept_id]
        )
        if parent_id is not None:
            _check_active(await ch.departments_state([parent_id]), parent_id)
        await ch.tx.run(
            CREATE_DEPARTMENT, id=dept_id, name=name, function=function.value, model=model.value
        )
        ch.departments.add(dept_id)
        ch.after = {
            "id": dept_id, "name": name, "function": function.value, "model": model.value,
            "parentId": parent_id,
        }  # fmt: skip
        if parent_id is not None:
            await ch.add_link(LinkKind.DIRECT, dept_id, parent_id, None)

    inputs = {
        "id": dept_id, "name": name, "function": function.value, "model": model.value,
        "parentId": parent_id,
    }  # fmt: skip
    return await _run(
        db, "createDepartment", actor, dry_run, inputs, work, creates=("Department", dept_id)
    )


async def rename_department(
    db: Db, actor: str, dry_run: bool, dept_id: str, name: str, expected: int | None
) -> ChangeResult:
    name = require_text("name", name)

    async def work(ch: Change) -> None:
        state = await ch.departments_state([dept_id], {dept_id: expected})
        _check_active(state, dept_id)
        require(
            state[dept_id]["name"] != name, "NO_OP", f"{dept_id!r} is already {name!r}", [dept_id]
        )
        [row] = await ch.rows(RENAME, id=dept_id, name=name)
        ch.before, ch.after = {"name": row["before"]}, {"name": name}
        ch.departments.add(dept_id)

    inputs = {"departmentId": dept_id, "name": name}
    return await _run(db, "renameDepartment", actor, dry_run, inputs, work)


async def archive_department(
    db: Db, actor: str, dry_run: bool, dept_id: str, expected: int | None
) -> ChangeResult:
    async def work(ch: Change) -> None:
        _check_active(await ch.departments_state([dept_id], {dept_id: expected}), dept_id)
        [left] = await ch.rows(REMAINS, id=dept_id)
        # A product offered only by an archived department could never be moved on again.
        remaining = [*left["members"], *left["children"], *left["clients"], *left["products"]]
        remaining += sorted(set(left["facilities"]))  # granted and approved by it, listed once
        require(
            not remaining,
            "ARCHIVE_EMPTY",
            f"department {dept_id!r} still has members {left['members']}, children "
            f"{left['children']}, clients {left['clients']}, products {left['products']} and "
            f"open facilities {sorted(set(left['facilities']))} (merge it into another "
            "department to move its products and facilities)",
            sorted(set(remaining)),
        )
        [links] = await ch.rows(LINKS_OF, id=dept_id)
        for link in links["links"]:
            await ch.remove_link(LinkKind(link["kind"]), link["fromId"], link["toId"])
        await ch.tx.run(ARCHIVE, id=dept_id)
        ch.before, ch.after = {"archived": False}, {"archived": True}
        ch.departments.add(dept_id)

    return await _run(db, "archiveDepartment", actor, dry_run, {"departmentId": dept_id}, work)


async def link_departments(
    db: Db, actor: str, dry_run: bool, kind: LinkKind, from_id: str, to_id: str,
    note: str | None, expected: dict[str, int | None],
) -> ChangeResult:  # fmt: skip
    note = optional_text("note", note, 2000)

    async def work(ch: Change) -> None:
        state = await ch.departments_state(sorted({from_id, to_id}), expected)
        _check_active(state, from_id, to_id)
        require(from_id != to_id, "NO_SELF_LINK", "a department cannot link to itself", [from_id])
        require(
            not await ch.link_exists(kind, from_id, to_id),
            "NO_DUPLICATE_LINK",
            f"{kind.value} link {from_id} → {to_id} already exists",
            [from_id, to_id],
        )
        if kind is LinkKind.DIRECT:
            [parent] = await ch.rows(PARENT_OF, id=from_id)
            require(
                parent["parentId"] is None,
                "SINGLE_PARENT",
                f"{from_id!r} already has a direct parent: move it instead",
                [from_id, parent["parentId"] or ""],
            )
        await ch.add_link(kind, from_id, to_id, note)

    inputs = {"kind": kind.value, "fromId": from_id, "toId": to_id, "note": note}
    return await _run(db, "linkDepartments", actor, dry_run, inputs, work)


async def unlink_departments(
    db: Db, actor: str, dry_run: bool, kind: LinkKind, from_id: str, to_id: str,
    expected: dict[str, int | None],
) -> ChangeResult:  # fmt: skip
    async def work(ch: Change) -> None:
        await ch.departments_state(sorted({from_id, to_id}), expected)
        if not await ch.remove_link(kind, from_id, to_id):
            raise NotFound(f"{kind.value} link", f"{from_id}->{to_id}")

    inputs = {"kind": kind.value, "fromId": from_id, "toId": to_id}
    return await _run(db, "unlinkDepartments", actor, dry_run, inputs, work)


async def move_department(
    db: Db, actor: str, dry_run: bool, dept_id: str, new_parent_id: str, expected: int | None
) -> ChangeResult:
    async def work(ch: Change) -> None:
        state = await ch.departments_state(sorted({dept_id, new_parent_id}), {dept_id: expected})
        _check_active(state, dept_id, new_parent_id)
        [inside] = await ch.rows(IS_DESCENDANT, id=dept_id, candidateId=new_parent_id)
        require(
            not inside["inside"],
            "DIRECT_FOREST",
            f"{new_parent_id!r} is {dept_id!r} or under it: the move would make a cycle",
            sorted({dept_id, new_parent_id}),
        )
        [parent] = await ch.rows(PARENT_OF, id=dept_id)
        old = parent["parentId"]
        require(
            old != new_parent_id,
            "NO_OP",
            f"{new_parent_id!r} is already the parent of {dept_id!r}",
            [dept_id, new_parent_id],
        )
        ch.before, ch.after = {"parentId": old}, {"parentId": new_parent_id}
        await ch.note_moving(roots=[dept_id])
        if old is not None:
            await ch.remove_link(LinkKind.DIRECT, dept_id, old)
        await ch.add_link(LinkKind.DIRECT, dept_id, new_parent_id, None)

    inputs = {"departmentId": dept_id, "newParentId": new_parent_id}
    return await _run(db, "moveDepartment", actor, dry_run, inputs, work)


async def merge_departments(
    db: Db, actor: str, dry_run: bool, source_id: str, target_id: str,
    expected: dict[str, int | None],
) -> ChangeResult:  # fmt: skip
    """Members, products, links and facilities' granting/approval move from source to target;
    links that would become self-links or duplicates are dropped and listed; source archived."""
    if source_id == target_id:
        raise InvalidInput("targetId", "must differ from sourceId")

    async def work(ch: Change) -> None:
        state = await ch.departments_state([source_id, target_id], expected)
        _check_active(state, source_id, target_id)
        # A department merged into one of its direct children leaves that child in its place.
        [parent] = await ch.rows(PARENT_OF, id=target_id)
        takes_place = parent["parentId"] == source_id
        await ch.note_moving(roots=[source_id])
        [moved] = await ch.rows(MOVE_MEMBERS, sourceId=source_id, targetId=target_id)
        ch.managers.update(moved["managers"])
        [offers] = await ch.rows(MOVE_OFFERS, sourceId=source_id, targetId=target_id)
        ch.products.update(offers["products"])
        # Every department the merge moves is under the source or the target: noted here, as
        # they are, before any link changes (the order links come back in must not matter).
        await ch.note_dependent_approvals([source_id, target_id])
        ch.notes_taken = True
        [credit] = await ch.rows(MOVE_CREDIT, sourceId=source_id, targetId=target_id)
        ch.facilities.update(credit["facilities"])
        ch.credit_moved.add(target_id)
        [links] = await ch.rows(LINKS_OF, id=source_id)
        for link in links["links"]:
            kind = LinkKind(link["kind"])
            await ch.remove_link(kind, link["fromId"], link["toId"])
            a = target_id if link["fromId"] == source_id else link["fromId"]
            b = target_id if link["toId"] == source_id else link["toId"]
            own_parent = kind is LinkKind.DIRECT and a == target_id and not takes_place
            if a == b or own_parent or await ch.link_exists(kind, a, b):
                # The target keeps its own place in the tree; self-links and repeats go.
                ch.dropped.append(LinkChange(kind=kind, from_id=a, to_id=b))
                continue
            await ch.add_link(kind, a, b, link["note"])
        await ch.tx.run(ARCHIVE, id=source_id)
        ch.departments.update((source_id, target_id))
        ch.before = {"source": state[source_id]["name"], "target": state[target_id]["name"]}
        ch.after = {"archived": source_id, "into": target_id}

    inputs = {"sourceId": source_id, "targetId": target_id}
    return await _run(db, "mergeDepartments", actor, dry_run, inputs, work)


async def assign_manager(
    db: Db, actor: str, dry_run: bool, manager_id: str, dept_id: str, expected: int | None
) -> ChangeResult:
    async def work(ch: Change) -> None:
        # Departments (the new one and, read first, the one it leaves) before the manager, as
        # createManager and the import lock them: taken the other way round, an assignment and
        # a hire reporting to this manager deadlocked.
        [seen] = await ch.rows(MANAGER_STATE, id=manager_id)
        leaving = [seen["departmentId"]] if seen["departmentId"] else []
        departments = await ch.departments_state(sorted({dept_id, *leaving}))
        await ch.tx.run(LOCK_MANAGERS, ids=[manager_id])  # its version holds while checked
        [m] = await ch.rows(MANAGER_STATE, id=manager_id)
        if not m["found"]:
            raise NotFound("Manager", manager_id)
        if expected is not None and expected != (m["version"] or 0):
            raise VersionConflict(manager_id, expected, m["version"] or 0)
        _check_active(departments, dept_id)
        require(
            m["departmentId"] != dept_id,
            "NO_OP",
            f"{manager_id!r} is already in {dept_id!r}",
            [dept_id, manager_id],
        )
        await ch.note_moving(manager_ids=[manager_id])
        await ch.rows(ASSIGN, managerId=manager_id, departmentId=dept_id)
        ch.before, ch.after = {"departmentId": m["departmentId"]}, {"departmentId": dept_id}
        ch.managers.add(manager_id)
        ch.departments.update(d for d in (m["departmentId"], dept_id) if d)

    inputs = {"managerId": manager_id, "departmentId": dept_id}
    return await _run(db, "assignManager", actor, dry_run, inputs, work)


async def transfer_client(
    db: Db, actor: str, dry_run: bool, client_id: str, to_manager_id: str, reason: str,
    expected: int | None,
) -> ChangeResult:  # fmt: skip
    """The client keeps exactly one primary manager; the old one stays in history (`MANAGED`)
    and the client's segment is untouched: an existing (存量) client never becomes new."""
    reason = require_text("reason", reason, 500)

    async def work(ch: Change) -> None:
        # All held still while checked: no archiving, version change or deactivation between.
        # The client first (its primaries cannot change while it is held), then the new and the
        # old primary managers together, in id order, as updateManager takes a manager and its
        # bosses: one by one, a transfer from A to B and B made A's boss deadlocked.
        await ch.tx.run(LOCK_CLIENTS, ids=[client_id])
        [seen] = await ch.rows(CLIENT_STATE, clientId=client_id, toManagerId=to_manager_id)
        managers = sorted({to_manager_id, *seen["primaries"]})
        await ch.tx.run(LOCK_MANAGERS, ids=managers)
        [c] = await ch.rows(CLIENT_STATE, clientId=client_id, toManagerId=to_manager_id)
        if not c["found"]:
            raise NotFound("Client", client_id)
        if not c["managerFound"]:
            raise NotFound("Manager", to_manager_id)
        if expected is not None and expected != (c["version"] or 0):
            raise VersionConflict(client_id, expected, c["version"] or 0)
        require_client_not_archived(client_id, c["status"])
        require_active_manager(to_manager_id, c["managerActive"])
        require(
            c["primaries"] != [to_manager_id],
            "NO_OP",
            f"{to_manager_id!r} is already the primary manager",
            [client_id, to_manager_id],
        )
        [done] = await ch.rows(
            TRANSFER,
            clientId=client_id,
            toManagerId=to_manager_id,
            reason=reason,
        )
        ch.before = {"primary": c["primaries"], "segment": c["segment"]}
        ch.after = {"primary": [to_manager_id], "segment": c["segment"], "reason": reason}
        ch.clients.add(client_id)
        ch.managers.update([to_manager_id, *done["previous"]])

    inputs = {"clientId": client_id, "toManagerId": to_manager_id, "reason": reason}
    return await _run(db, "transferClient", actor, dry_run, inputs, work)
