"""Managers written one at a time: create (a member of a department, optionally reporting to
another manager, at a level the grading table allows) and update. Department moves stay with the
admin's `assignManager`.

Reporting lines form a forest (no manager above themselves); a manager who is still the primary
manager of active clients stays active until the clients are transferred.
"""

from __future__ import annotations

from typing import Any, Final, LiteralString

from graph import promotions
from graph.data_writes import (
    Write,
    require_active_department,
    require_version,
    run_write,
)
from graph.db import Db
from graph.errors import Duplicate, InvalidInput, InvariantViolation, NotFound, require
from graph.grading import BANK, check_requirements, meets_a_row, unmet_rows
from graph.input_checks import optional_text, require_id, require_range, require_text
from graph.managers import MANAGER_FIELDS
from graph.models import Education, GraphModel, Manager, ManagerLevel, ProfessionalTitle

# The lock new reporting lines take turns on: two must not close one cycle together.
REPORTING_LINES: Final = "reporting-lines"

CREATE_STATE: Final[LiteralString] = """
OPTIONAL MATCH (m:Manager {id: $id})
OPTIONAL MATCH (d:Department {id: $departmentId})
OPTIONAL MATCH (boss:Manager {id: $reportsToId})
RETURN m IS NOT NULL AS exists, d IS NOT NULL AS departmentFound,
       coalesce(d.archived, false) AS departmentArchived, boss IS NOT NULL AS bossFound
"""

CREATE_MANAGER: Final[LiteralString] = (
    """
MATCH (d:Department {id: $departmentId})
CREATE (m:Manager {id: $id, name: $name, level: $level, education: $education, title: $title,
                   creditYears: $creditYears, version: 0, active: true})
CREATE (m)-[:MEMBER_OF {since: date({timezone: $tz})}]->(d)
WITH m
CALL (m) {
  MATCH (boss:Manager {id: $reportsToId})
  CREATE (m)-[:REPORTS_TO]->(boss)
}
RETURN m """
    + MANAGER_FIELDS
    + " AS manager"
)

MANAGER_STATE: Final[LiteralString] = (
    """
OPTIONAL MATCH (m:Manager {id: $id})
RETURN m """
    + MANAGER_FIELDS
    + """ AS manager,
       COLLECT { MATCH (m)-[:REPORTS_TO]->(b:Manager) RETURN b.id }[0] AS reportsToId,
       COLLECT { MATCH (m)-[:MANAGES {role: 'PRIMARY'}]->(c:Client {status: 'ACTIVE'})
                 RETURN c.id ORDER BY c.id LIMIT 20 } AS primaryOf
"""
)

# Is `$id` at or above `$bossId` in the reporting lines? Then the new line would close a cycle.
WOULD_CYCLE: Final[LiteralString] = """
OPTIONAL MATCH (boss:Manager {id: $bossId})
RETURN boss IS NOT NULL AS bossFound,
       EXISTS { MATCH (boss)-[:REPORTS_TO*0..64]->(:Manager {id: $id}) } AS cycle
"""

UPDATE_MANAGER: Final[LiteralString] = (
    "MATCH (m:Manager {id: $id}) SET m += $changes, m.version = coalesce(m.version, 0) + 1 "
    "RETURN m " + MANAGER_FIELDS + " AS manager"
)

BOSS_OF: Final[LiteralString] = """
OPTIONAL MATCH (:Manager {id: $id})-[:REPORTS_TO]->(b:Manager) RETURN collect(b.id) AS bossIds
"""

SET_BOSS: Final[LiteralString] = """
MATCH (m:Manager {id: $id})
OPTIONAL MATCH (m)-[old:REPORTS_TO]->(:Manager)
DELETE old
WITH DISTINCT m
CALL (m) {
  MATCH (boss:Manager {id: $bossId})
  CREATE (m)-[:REPORTS_TO]->(boss)
}
"""


class NewManager(GraphModel):
    id: str
    name: str
    level: ManagerLevel
    education: Education
    title: ProfessionalTitle
    credit_years: int
    department_id: str
    reports_to_id: str | None = None
    # Hired above the level the requirements allow (破格), with the reason why.
    exceptional: bool = False
    reason: str | None = None


class ManagerChanges(GraphModel):
    """Fields to change; a field left unset keeps its value. `reports_to_id` null: no boss.
    No `level`: a grade changes through `graph.promotions`, checked against the table and
    recorded."""

    name: str | None = None
    education: Education | None = None
    title: ProfessionalTitle | None = None
    credit_years: int | None = None
    active: bool | None = None
    reports_to_id: str | None = None


def clean_new_manager(new: NewManager) -> NewManager:
    if new.reports_to_id is not None:
        require_id("reportsToId", new.reports_to_id)
    reason = optional_text("reason", (new.reason or "").strip() or None, 2000)
    if new.exceptional and reason is None:
        raise InvalidInput("reason", "is required for an exceptional (破格) hire")
    return new.model_copy(
        update={
            "id": require_id("id", new.id),
            "name": require_text("name", new.name),
            "credit_years": require_range("creditYears", new.credit_years, 0, 60),
            "department_id": require_id("departmentId", new.department_id),
            "reason": reason,
        }
    )


async def _record_entry_level(w: Write, actor: str, new: NewManager) -> None:
    """A manager joins at the entry grade, or at one whose requirements (one row of them) they
    meet, or, exceptionally (破格) and with a reason, above them: the level then changes only by
    promotion and demotion, so this is where the table is first applied. The hire is recorded as
    a grade change, as promotions are."""
    row = await w.one(promotions.STATE, managerId=new.id, scheme=BANK)
    grades = {g["id"]: g for g in row["grades"]}
    target = grades[f"{BANK}:{new.level.value}"]
    entry = min(g["rank"] for g in grades.values() if g["series"] == target["series"])
    checks = check_requirements(row["manager"], target["requirements"])
    unmet = [] if target["rank"] == entry or meets_a_row(checks) else unmet_rows(checks)
    if unmet and not new.exceptional:
        raise InvariantViolation(
            "LEVEL_REQUIREMENTS",
            f"{new.id} does not qualify for {new.level.value}: " + " | ".join(unmet)
            + " (hire at a lower level, or exceptionally with a reason)",
            [new.id],
        )  # fmt: skip
    await w.one(
        promotions.RECORD_CHANGE, managerId=new.id, scheme=BANK, kind="HIRE", fromGrade=None,
        toGrade=new.level.value, exceptional=bool(unmet), reason=new.reason, by=actor,
    )  # fmt: skip


def clean_changes(changes: ManagerChanges) -> dict[str, Any]:
    """Node properties to set; `reportsToId` (when given) is applied as a link, not a property."""
    given = changes.model_fields_set
    for name in given - {"reports_to_id"}:
        if getattr(changes, name) is None:
            raise InvalidInput(ManagerChanges.model_fields[name].alias or name, "must not be null")
    clean: dict[str, Any] = {}
    if "name" in given and changes.name is not None:
        clean["name"] = require_text("name", changes.name)
    if "credit_years" in given and changes.credit_years is not None:
        clean["creditYears"] = require_range("creditYears", changes.credit_years, 0, 60)
    for name in ("education", "title"):
        if name in given:
            clean[name] = getattr(changes, name).value
    if "active" in given:
        clean["active"] = changes.active
    if "reports_to_id" in given and changes.reports_to_id is not None:
        require_id("reportsToId", changes.reports_to_id)
    if not clean and "reports_to_id" not in given:
        raise InvalidInput("input", "names no field to change")
    return clean


async def create_manager(db: Db, actor: str, new: NewManager) -> Manager:
    new = clean_new_manager(new)

    async def work(w: Write) -> Manager:
        await w.lock_departments([new.department_id])  # not archived while we join it
        state = await w.one(
            CREATE_STATE, id=new.id, departmentId=new.department_id, reportsToId=new.reports_to_id
        )
        if state["exists"]:
            raise Duplicate("Manager", new.id)
        if not state["departmentFound"]:
            raise NotFound("Department", new.department_id)
        require_active_department(state["departmentArchived"], new.department_id)
        if new.reports_to_id is not None and not state["bossFound"]:
            raise NotFound("Manager", new.reports_to_id)
        fields = new.model_dump(by_alias=True, mode="json", exclude={"exceptional", "reason"})
        row = await w.one(CREATE_MANAGER, **fields)
        await _record_entry_level(w, actor, new)
        w.managers.update(m for m in (new.id, new.reports_to_id) if m)
        w.after = new.model_dump(by_alias=True, mode="json")
        return Manager.model_validate(row["manager"])

    inputs = new.model_dump(by_alias=True, mode="json")
    return await run_write(db, "createManager", actor, inputs, work, ("Manager", new.id))


async def update_manager(
    db: Db, actor: str, manager_id: str, changes: ManagerChanges, expected_version: int | None
) -> Manager:
    require_id("managerId", manager_id)
    clean = clean_changes(changes)
    new_boss = "reports_to_id" in changes.model_fields_set
    boss_id = changes.reports_to_id

    async def work(w: Write) -> Manager:
        held = [manager_id]  # no new client of theirs while we check
        if new_boss:
            await w.lock(REPORTING_LINES)
            # The bosses, old and new, with the manager in one sorted batch (the new line locks
            # them anyway), as a transfer takes its managers: one by one, they deadlocked.
            line = await w.one(BOSS_OF, id=manager_id)
            held += [*line["bossIds"], *([boss_id] if boss_id is not None else [])]
        await w.lock_managers(held)
        state = await w.one(MANAGER_STATE, id=manager_id)
        if state["manager"] is None:
            raise NotFound("Manager", manager_id)
        require_version(manager_id, expected_version, state["manager"]["version"])
        if clean.get("active") is False:
            require(
                not state["primaryOf"],
                "PRIMARY_MANAGER_ACTIVE",
                f"manager {manager_id!r} is still the primary manager of active clients",
                [manager_id, *state["primaryOf"]],
            )
        if new_boss and boss_id is not None:
            require(
                boss_id != manager_id, "NO_SELF_LINK", "a manager reports to another", [boss_id]
            )
            cycle = await w.one(WOULD_CYCLE, id=manager_id, bossId=boss_id)
            if not cycle["bossFound"]:
                raise NotFound("Manager", boss_id)
            require(
                not cycle["cycle"],
                "REPORTING_FOREST",
                f"{boss_id!r} already reports to {manager_id!r}",
                [manager_id, boss_id],
            )
        if new_boss:
            await w.tx.run(SET_BOSS, id=manager_id, bossId=boss_id)
            w.before["reportsToId"] = state["reportsToId"]
            w.after["reportsToId"] = boss_id
            w.managers.update(m for m in (state["reportsToId"], boss_id) if m)
        row = await w.one(UPDATE_MANAGER, id=manager_id, changes=clean)
        w.managers.add(manager_id)
        w.before.update({k: state["manager"].get(k) for k in clean})
        w.after.update(clean)
        return Manager.model_validate(row["manager"])

    inputs = {
        "managerId": manager_id,
        "changes": clean,
        **({"reportsToId": boss_id} if new_boss else {}),
        "expectedVersion": expected_version,
    }
    return await run_write(db, "updateManager", actor, inputs, work)
