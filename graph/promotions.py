"""Promotion eligibility, promotions and demotions of managers, under any grading scheme.

A manager's bank grade is their `level` (every other query reads it there); a grade in another
scheme is a `HAS_GRADE` link. Promotion goes one rank up the same series when one requirement row
of the target grade is met; an exceptional (破格) promotion may pass over the rows or skip ranks,
but only with a reason. Demotion goes one rank down, with a reason. Each change writes a
`GradeChange` record (and the audit record of every data change), in one transaction.
"""

from __future__ import annotations

from typing import Any, Final, LiteralString

from graph.data_writes import Write, require_active_manager, run_write
from graph.db import Db
from graph.errors import GraphError, InvalidInput, NotFound
from graph.grading import BANK, RequirementCheck, check_requirements, meets_a_row, unmet_rows
from graph.input_checks import optional_text
from graph.models import GraphModel

# The manager, their grade in the scheme (bank: by `level`), and every grade of the scheme with
# its requirement rows; the caller picks the next or the target grade.
STATE: Final[LiteralString] = """
OPTIONAL MATCH (m:Manager {id: $managerId})
OPTIONAL MATCH (s:GradingScheme {id: $scheme})
WITH m, s,
     CASE WHEN m IS NULL THEN null
          WHEN $scheme = 'BANK' THEN 'BANK:' + m.level
          ELSE COLLECT { MATCH (m)-[:HAS_GRADE]->(g:Grade {scheme: $scheme}) RETURN g.id }[0]
     END AS currentId
RETURN m IS NOT NULL AS found, s IS NOT NULL AS schemeFound,
       m {.id, .name, .education, .title, .creditYears,
          probationDone: coalesce(m.probationDone, true),
          active: coalesce(m.active, true)} AS manager, currentId,
       COLLECT { MATCH (g:Grade)-[:IN_SCHEME]->(s)
                 RETURN g {.id, .code, .name, .series, .rank, .certificate,
                           requirements: COLLECT { MATCH (q:GradeRequirement)-[:QUALIFIES_FOR]->(g)
                                                   RETURN q {.row, .minEducation, .minTitle,
                                                             .minCreditYears, .probationDone} }}
       } AS grades
"""

SET_BANK_LEVEL: Final[LiteralString] = """
MATCH (m:Manager {id: $managerId})
SET m.level = $code, m.version = coalesce(m.version, 0) + 1
"""
SET_OTHER_GRADE: Final[LiteralString] = """
MATCH (m:Manager {id: $managerId}), (g:Grade {id: $gradeId})
OPTIONAL MATCH (m)-[old:HAS_GRADE]->(:Grade {scheme: $scheme})
DELETE old
WITH DISTINCT m, g
CREATE (m)-[:HAS_GRADE {since: date({timezone: $tz})}]->(g)
SET m.version = coalesce(m.version, 0) + 1
"""
RECORD_CHANGE: Final[LiteralString] = """
MATCH (m:Manager {id: $managerId})
CREATE (c:GradeChange {id: randomUUID(), scheme: $scheme, kind: $kind, fromGrade: $fromGrade,
                       toGrade: $toGrade, exceptional: $exceptional, reason: $reason, by: $by,
                       at: datetime()})-[:OF]->(m)
RETURN c.id AS id, toString(c.at) AS at
"""


class GradeInfo(GraphModel):
    code: str
    name: str
    series: str
    rank: int
    certificate: str | None = None


class Eligibility(GraphModel):
    manager_id: str
    scheme: str
    current: GradeInfo | None
    next: GradeInfo | None  # None at the top of the series
    eligible: bool
    requirements: list[RequirementCheck]  # the next grade's rows, each met or not and why


class GradeChange(GraphModel):
    id: str
    manager_id: str
    scheme: str
    kind: str  # PROMOTION, DEMOTION or HIRE (graph.manager_writes)
    from_grade: str | None
    to_grade: str
    exceptional: bool
    reason: str | None
    at: str


class PromotionRefused(GraphError):
    """The target grade's requirements are not met (or a rank would be skipped)."""

    def __init__(self, message: str, unmet: list[str], checks: list[RequirementCheck]) -> None:
        super().__init__(message)
        self.message = message
        self.unmet = unmet
        self.checks = checks


def _grade(row: dict[str, Any]) -> GradeInfo:
    return GradeInfo(
        code=row["code"],
        name=row["name"],
        series=row["series"],
        rank=row["rank"],
        certificate=row.get("certificate"),
    )


def _state(row: dict[str, Any], manager_id: str, scheme: str) -> tuple[dict[str, Any], Any]:
    if not row["found"]:
        raise NotFound("Manager", manager_id)
    if not row["schemeFound"]:
        raise InvalidInput("scheme", f"{scheme!r} is not a grading scheme")
    grades = {g["id"]: g for g in row["grades"]}
    return grades, grades.get(row["currentId"]) if row["currentId"] else None


def _next(grades: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    if current is None:
        return None
    above = [
        g
        for g in grades.values()
        if g["series"] == current["series"] and g["rank"] == current["rank"] + 1
    ]
    return above[0] if above else None


async def get_promotion_eligibility(db: Db, manager_id: str, scheme: str) -> Eligibility | None:
    records = await db.read(STATE, {"managerId": manager_id, "scheme": scheme})
    row = records[0].data()
    if not row["found"]:
        return None
    grades, current = _state(row, manager_id, scheme)
    upper = _next(grades, current)
    checks = check_requirements(row["manager"], upper["requirements"]) if upper else []
    return Eligibility(
        manager_id=manager_id,
        scheme=scheme,
        current=_grade(current) if current else None,
        next=_grade(upper) if upper else None,
        # As promoteManager decides: a grade with no requirement rows asks for none, and an
        # inactive manager is not promoted.
        eligible=upper is not None and row["manager"]["active"] and meets_a_row(checks),
        requirements=checks,
    )


async def change_grade(
    db: Db,
    actor: str,
    manager_id: str,
    scheme: str,
    to_code: str,
    reason: str | None,
    exceptional: bool = False,
    demotion: bool = False,
) -> GradeChange:
    """Promote (or, with `demotion`, demote) a manager to `to_code` of `scheme`."""
    reason = optional_text("reason", (reason or "").strip() or None, 2000)
    if (exceptional or demotion) and reason is None:
        raise InvalidInput("reason", "is required for an exceptional promotion or a demotion")
    if exceptional and demotion:
        raise InvalidInput("exceptional", "applies to promotions only")

    async def work(w: Write) -> GradeChange:
        await w.lock_managers([manager_id])  # two grade changes take turns, neither is lost
        row = await w.one(STATE, managerId=manager_id, scheme=scheme)
        grades, current = _state(row, manager_id, scheme)
        require_active_manager(manager_id, row["manager"]["active"])
        target = grades.get(f"{scheme}:{to_code}")
        if target is None:
            codes = ", ".join(sorted(g["code"] for g in grades.values()))
            raise InvalidInput("toLevel", f"{to_code!r} is not a grade of {scheme} ({codes})")
        if current is not None and target["series"] != current["series"]:
            raise InvalidInput(
                "toLevel", f"{to_code!r} is in another series than {current['code']}"
            )
        step = target["rank"] - (current["rank"] if current else 0)
        unmet: list[str] = []
        if demotion:
            if current is None or step != -1:
                raise InvalidInput("toLevel", "a demotion goes one grade down")
        else:
            if step <= 0:
                raise InvalidInput("toLevel", "is not above the current grade (demote instead)")
            checks = check_requirements(row["manager"], target["requirements"])
            unmet = [] if step == 1 else [f"skips {step - 1} grade(s)"]
            if not meets_a_row(checks):
                unmet += unmet_rows(checks)
            if unmet and not exceptional:
                raise PromotionRefused(
                    f"{manager_id} does not qualify for {to_code}: " + " | ".join(unmet),
                    unmet,
                    checks,
                )
        # 破格 is what the promotion passed over: asked for one that passes over nothing, it is
        # recorded as the ordinary promotion it is.
        exceptional_here = exceptional and bool(unmet)
        if scheme == BANK:
            await w.tx.run(SET_BANK_LEVEL, managerId=manager_id, code=to_code)
        else:
            await w.rows(SET_OTHER_GRADE, managerId=manager_id, gradeId=target["id"], scheme=scheme)
        kind = "DEMOTION" if demotion else "PROMOTION"
        done = await w.one(
            RECORD_CHANGE,
            managerId=manager_id,
            scheme=scheme,
            kind=kind,
            fromGrade=current["code"] if current else None,
            toGrade=to_code,
            exceptional=exceptional_here,
            reason=reason,
            by=actor,
        )
        w.managers.add(manager_id)
        w.before = {"grade": current["code"] if current else None}
        w.after = {"grade": to_code}
        return GradeChange(
            id=done["id"],
            manager_id=manager_id,
            scheme=scheme,
            kind=kind,
            from_grade=current["code"] if current else None,
            to_grade=to_code,
            exceptional=exceptional_here,
            reason=reason,
            at=done["at"],
        )

    inputs = {"managerId": manager_id, "scheme": scheme, "toLevel": to_code,
              "exceptional": exceptional, "reason": reason}  # fmt: skip
    action = "demoteManager" if demotion else "promoteManager"
    return await run_write(db, action, actor, inputs, work)
