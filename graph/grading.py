"""Manager grading schemes held as data: grades in ranked series, and the requirement rows that
qualify a manager for each (any one row suffices).

Two schemes are seeded: the bank's four levels (四级制, DOMAIN §3, with the documents' education /
title / years-of-credit-work table) and a securities firm's three series (sales stars, service,
management). Both live in the graph as `(:GradingScheme)<-[:IN_SCHEME]-(:Grade)<-[:QUALIFIES_FOR]-
(:GradeRequirement)` and are read the same way; the seeding below only writes the defaults, and
an admin's later edits of the data are kept (MERGE sets only what is missing).

`check_requirements` is the one rule: a requirement row is met when the manager's education is at
least the row's, *or* their professional title is at least the row's (where the row names
either), *and* they have the row's years of credit work, *and* (if the row asks) finished
probation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, LiteralString

from neo4j import Driver

from graph.models import Education, GraphModel, ProfessionalTitle

EDUCATION_RANK: Final = {e.value: i for i, e in enumerate(Education)}
TITLE_RANK: Final = {t.value: i for i, t in enumerate(ProfessionalTitle)}
BANK: Final = "BANK"
SECURITIES: Final = "SECURITIES"


@dataclass(frozen=True)
class GradeRow:
    scheme: str
    series: str
    code: str
    rank: int  # within the series; promotion goes to rank + 1
    name: str
    certificate: str | None
    duties: str

    @property
    def id(self) -> str:
        return f"{self.scheme}:{self.code}"


@dataclass(frozen=True)
class RequirementRow:
    grade: str  # "scheme:code"
    row: int
    min_education: str | None
    min_title: str | None
    min_credit_years: int
    probation_done: bool = False


GRADES: Final[tuple[GradeRow, ...]] = (
    GradeRow(BANK, "BANK", "ASSISTANT", 1, "客户经理助理", "客户经理助理",
             "assist with deposits and loans"),
    GradeRow(BANK, "BANK", "MANAGER", 2, "客户经理", "客户经理",
             "handle deposits, loans and common business alone"),
    GradeRow(BANK, "BANK", "SENIOR", 3, "高级客户经理", "高级客户经理",
             "work independently in all business, expert in one area"),
    GradeRow(BANK, "BANK", "PRINCIPAL", 4, "资深客户经理", "资深客户经理",
             "full-service large clients, solve complex problems"),
    GradeRow(SECURITIES, "SALES", "TWO_STAR", 1, "二星级客户经理", None, "sales"),
    GradeRow(SECURITIES, "SALES", "THREE_STAR", 2, "三星级客户经理", None, "sales"),
    GradeRow(SECURITIES, "SALES", "FOUR_STAR", 3, "四星级客户经理", None, "sales"),
    GradeRow(SECURITIES, "SALES", "FIVE_STAR", 4, "五星级客户经理", None, "sales"),
    GradeRow(SECURITIES, "SERVICE", "SERVICE_TRAINEE", 1, "见习服务经理", None, "service"),
    GradeRow(SECURITIES, "SERVICE", "SERVICE_MANAGER_1", 2, "一级服务经理", None, "service"),
    GradeRow(SECURITIES, "SERVICE", "SERVICE_MANAGER_2", 3, "二级服务经理", None, "service"),
    GradeRow(SECURITIES, "SERVICE", "SERVICE_MANAGER_3", 4, "三级服务经理", None, "service"),
    GradeRow(SECURITIES, "SERVICE", "TRAINING_SUPERVISOR_1", 5, "一级培训督导", None, "training"),
    GradeRow(SECURITIES, "SERVICE", "TRAINING_SUPERVISOR_2", 6, "二级培训督导", None, "training"),
    GradeRow(SECURITIES, "SERVICE", "TRAINING_SUPERVISOR_3", 7, "三级培训督导", None, "training"),
    GradeRow(SECURITIES, "MANAGEMENT", "TRAINEE_AREA_MANAGER", 1, "见习区域经理", None, "team"),
    GradeRow(SECURITIES, "MANAGEMENT", "AREA_MANAGER", 2, "区域经理", None, "team"),
    GradeRow(SECURITIES, "MANAGEMENT", "SENIOR_AREA_MANAGER", 3, "高级区域经理", None, "team"),
    GradeRow(SECURITIES, "MANAGEMENT", "MARKETING_HEAD", 4, "营销部主管", None, "marketing"),
    GradeRow(SECURITIES, "MANAGEMENT", "MARKETING_DIRECTOR", 5, "营销总监", None, "marketing"),
)  # fmt: skip


def _bank_rows(code: str, master: int, bachelor: int, college: int) -> tuple[RequirementRow, ...]:
    """The documents' three rows: master's + n; bachelor's or mid title + n; college or junior
    title + n years of credit work."""
    grade = f"{BANK}:{code}"
    return (
        RequirementRow(grade, 1, "MASTER", None, master),
        RequirementRow(grade, 2, "BACHELOR", "MIDDLE", bachelor),
        RequirementRow(grade, 3, "COLLEGE", "JUNIOR", college),
    )


def _years(grade: str, years: int) -> tuple[RequirementRow, ...]:
    return (RequirementRow(f"{SECURITIES}:{grade}", 1, None, None, years),)


REQUIREMENTS: Final[tuple[RequirementRow, ...]] = (
    RequirementRow(f"{BANK}:ASSISTANT", 1, None, None, 0, probation_done=True),
    *_bank_rows("MANAGER", 0, 1, 2),
    *_bank_rows("SENIOR", 1, 2, 3),
    *_bank_rows("PRINCIPAL", 2, 3, 5),
    # Securities series are promoted on performance; these years of service are defaults an
    # admin edits as data.
    *_years("THREE_STAR", 1), *_years("FOUR_STAR", 2), *_years("FIVE_STAR", 3),
    *_years("SERVICE_MANAGER_1", 1), *_years("SERVICE_MANAGER_2", 2),
    *_years("SERVICE_MANAGER_3", 3), *_years("TRAINING_SUPERVISOR_1", 4),
    *_years("TRAINING_SUPERVISOR_2", 5), *_years("TRAINING_SUPERVISOR_3", 6),
    *_years("AREA_MANAGER", 1), *_years("SENIOR_AREA_MANAGER", 3),
    *_years("MARKETING_HEAD", 5), *_years("MARKETING_DIRECTOR", 8),
)  # fmt: skip

SEED_GRADES: Final[LiteralString] = """
UNWIND $grades AS g
MERGE (s:GradingScheme {id: g.scheme})
MERGE (grade:Grade {id: g.scheme + ':' + g.code})
ON CREATE SET grade.scheme = g.scheme, grade.series = g.series, grade.code = g.code,
              grade.rank = g.rank, grade.name = g.name, grade.certificate = g.certificate,
              grade.duties = g.duties
MERGE (grade)-[:IN_SCHEME]->(s)
"""
# Names the seeding once gave that the securities firm's rules (东兴证券 客户经理管理办法, 第四条)
# do not: where a database still holds one as seeded, it takes GRADES' name (an admin's own name
# is kept).
MISNAMED: Final[dict[str, str]] = {
    "SECURITIES:TWO_STAR": "二星客户经理",
    "SECURITIES:THREE_STAR": "三星客户经理",
    "SECURITIES:FOUR_STAR": "四星客户经理",
    "SECURITIES:FIVE_STAR": "五星客户经理",
    "SECURITIES:SERVICE_TRAINEE": "见习客户服务经理",
    "SECURITIES:SERVICE_MANAGER_1": "一级客户服务经理",
    "SECURITIES:SERVICE_MANAGER_2": "二级客户服务经理",
    "SECURITIES:SERVICE_MANAGER_3": "三级客户服务经理",
    "SECURITIES:TRAINING_SUPERVISOR_1": "一级培训主管",
    "SECURITIES:TRAINING_SUPERVISOR_2": "二级培训主管",
    "SECURITIES:TRAINING_SUPERVISOR_3": "三级培训主管",
    "SECURITIES:MARKETING_HEAD": "营销总监",
    "SECURITIES:MARKETING_DIRECTOR": "营销总经理",
}
RENAME_MISNAMED: Final[LiteralString] = """
UNWIND $renames AS r
MATCH (grade:Grade {id: r.id}) WHERE grade.name = r.old
SET grade.name = r.name
"""
SEED_REQUIREMENTS: Final[LiteralString] = """
UNWIND $rows AS r
MATCH (grade:Grade {id: r.grade})
MERGE (q:GradeRequirement {id: r.grade + '#' + toString(r.row)})
ON CREATE SET q.row = r.row, q.minEducation = r.minEducation, q.minTitle = r.minTitle,
              q.minCreditYears = r.minCreditYears, q.probationDone = r.probationDone
MERGE (q)-[:QUALIFIES_FOR]->(grade)
"""


def seed_grading(driver: Driver, database: str) -> None:
    """The default schemes and requirement rows, where missing (idempotent)."""
    driver.execute_query(
        SEED_GRADES,
        grades=[g.__dict__ for g in GRADES],
        database_=database,
    )
    renames = [
        {"id": g.id, "old": MISNAMED[g.id], "name": g.name} for g in GRADES if g.id in MISNAMED
    ]
    driver.execute_query(RENAME_MISNAMED, renames=renames, database_=database)
    driver.execute_query(
        SEED_REQUIREMENTS,
        rows=[
            {
                "grade": r.grade,
                "row": r.row,
                "minEducation": r.min_education,
                "minTitle": r.min_title,
                "minCreditYears": r.min_credit_years,
                "probationDone": r.probation_done,
            }
            for r in REQUIREMENTS
        ],
        database_=database,
    )


class RequirementCheck(GraphModel):
    row: int
    met: bool
    description: str
    unmet: list[str]  # why not, one reason per missing condition


def describe(req: dict[str, Any]) -> str:
    parts = []
    if req.get("minEducation") or req.get("minTitle"):
        either = [
            f"{req['minEducation'].lower()} degree" if req.get("minEducation") else "",
            f"{req['minTitle'].lower()} professional title" if req.get("minTitle") else "",
        ]
        parts.append(" or ".join(p for p in either if p) + " or above")
    parts.append(f"{req.get('minCreditYears') or 0} years of credit work")
    if req.get("probationDone"):
        parts.append("probation finished")
    return ", ".join(parts)


def unmet_rows(checks: list[RequirementCheck]) -> list[str]:
    """Each row of a grade with what it misses, as refusals and grade changes name them."""
    return [f"row {c.row} ({c.description}): {'; '.join(c.unmet)}" for c in checks]


def meets_a_row(checks: list[RequirementCheck]) -> bool:
    """A grade's rows are alternatives: one met is enough, and a grade with none asks for
    nothing."""
    return not checks or any(c.met for c in checks)


def check_requirements(
    manager: dict[str, Any], rows: list[dict[str, Any]]
) -> list[RequirementCheck]:
    """Each requirement row of a grade against a manager (`education`, `title`,
    `creditYears`, `probationDone`)."""
    checks = []
    for req in sorted(rows, key=lambda r: int(r.get("row") or 0)):
        unmet: list[str] = []
        education, title = req.get("minEducation"), req.get("minTitle")
        if education or title:
            has_education = (
                education is not None
                and EDUCATION_RANK.get(manager.get("education") or "", -1)
                >= EDUCATION_RANK[education]
            )
            has_title = (
                title is not None
                and TITLE_RANK.get(manager.get("title") or "", -1) >= TITLE_RANK[title]
            )
            if not (has_education or has_title):
                unmet.append(
                    f"has {str(manager.get('education')).lower()} degree and "
                    f"{str(manager.get('title')).lower()} title"
                )
        years = int(req.get("minCreditYears") or 0)
        if int(manager.get("creditYears") or 0) < years:
            unmet.append(f"has {manager.get('creditYears') or 0} of {years} years of credit work")
        # Managers carry no probation flag unless one was recorded: none means served (probation
        # is served at the entry grade), so a row asking for it holds back only those marked not.
        if req.get("probationDone") and manager.get("probationDone") is False:
            unmet.append("has not finished probation")
        checks.append(
            RequirementCheck(
                row=int(req.get("row") or 0), met=not unmet, description=describe(req), unmet=unmet
            )
        )
    return checks
