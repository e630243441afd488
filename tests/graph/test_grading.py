"""The qualification table of DOMAIN.md §3, row by row, without a database: the seeded rows
(`graph.grading.REQUIREMENTS`) checked against managers at and just below each row's edge; and
the seeded grade names, in the graph."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from graph.grading import BANK, GRADES, REQUIREMENTS, check_requirements, seed_grading
from tests.conftest import DATABASE


def rows_of(code: str) -> list[dict[str, Any]]:
    return [
        {
            "row": r.row,
            "minEducation": r.min_education,
            "minTitle": r.min_title,
            "minCreditYears": r.min_credit_years,
            "probationDone": r.probation_done,
        }
        for r in REQUIREMENTS
        if r.grade == f"{BANK}:{code}"
    ]


def manager(
    education: str, title: str, years: int, probation: bool | None = True
) -> dict[str, Any]:
    return {
        "education": education,
        "title": title,
        "creditYears": years,
        "probationDone": probation,
    }


@pytest.mark.parametrize(
    ("grade", "who", "met_rows"),
    [
        # 客户经理: master's; bachelor's or mid title + 1 yr; college or junior title + 2 yrs.
        ("MANAGER", manager("MASTER", "NONE", 0), [1]),
        ("MANAGER", manager("BACHELOR", "NONE", 1), [2]),
        ("MANAGER", manager("BACHELOR", "NONE", 0), []),
        ("MANAGER", manager("COLLEGE", "MIDDLE", 1), [2]),
        ("MANAGER", manager("COLLEGE", "NONE", 2), [3]),
        ("MANAGER", manager("COLLEGE", "JUNIOR", 1), []),
        # 高级客户经理: master's + 1; bachelor's or mid title + 2; college or junior title + 3.
        ("SENIOR", manager("MASTER", "NONE", 1), [1]),
        ("SENIOR", manager("MASTER", "NONE", 0), []),
        ("SENIOR", manager("BACHELOR", "NONE", 2), [2]),
        ("SENIOR", manager("BACHELOR", "NONE", 1), []),
        ("SENIOR", manager("COLLEGE", "JUNIOR", 3), [3]),
        ("SENIOR", manager("COLLEGE", "JUNIOR", 2), []),
        ("SENIOR", manager("COLLEGE", "MIDDLE", 2), [2]),
        # 资深客户经理: master's + 2; bachelor's or mid title + 3; college or junior title + 5.
        ("PRINCIPAL", manager("DOCTORATE", "NONE", 2), [1]),
        ("PRINCIPAL", manager("MASTER", "NONE", 1), []),
        ("PRINCIPAL", manager("BACHELOR", "SENIOR", 3), [2]),
        ("PRINCIPAL", manager("BACHELOR", "NONE", 2), []),
        ("PRINCIPAL", manager("COLLEGE", "NONE", 5), [3]),
        ("PRINCIPAL", manager("COLLEGE", "JUNIOR", 4), []),
        # 客户经理助理: probation finished.
        ("ASSISTANT", manager("COLLEGE", "NONE", 0, probation=True), [1]),
        ("ASSISTANT", manager("COLLEGE", "NONE", 0, probation=False), []),
        # No flag recorded (none of the bank's managers has one): served, not held back.
        ("ASSISTANT", manager("COLLEGE", "NONE", 0, probation=None), [1]),
    ],
)
def test_qualification_table_row_by_row(
    grade: str, who: dict[str, Any], met_rows: list[int]
) -> None:
    checks = check_requirements(who, rows_of(grade))
    assert len(checks) == len(rows_of(grade)) > 0  # one check per row of the table, some rows
    assert [c.row for c in checks if c.met] == met_rows
    for c in checks:
        assert c.met == (c.unmet == [])  # every unmet row says why


def test_reasons_name_what_is_missing() -> None:
    [_, bachelor_row, _] = check_requirements(manager("COLLEGE", "NONE", 1), rows_of("SENIOR"))
    assert bachelor_row.description == (
        "bachelor degree or middle professional title or above, 2 years of credit work"
    )
    assert bachelor_row.unmet == [
        "has college degree and none title",
        "has 1 of 2 years of credit work",
    ]


def test_bank_levels_rise_one_rank_at_a_time_and_carry_their_certificate() -> None:
    bank = sorted((g for g in GRADES if g.scheme == BANK), key=lambda g: g.rank)
    assert [g.code for g in bank] == ["ASSISTANT", "MANAGER", "SENIOR", "PRINCIPAL"]
    assert [g.certificate for g in bank] == [
        "客户经理助理",
        "客户经理",
        "高级客户经理",
        "资深客户经理",
    ]


def test_securities_series_are_data_of_the_same_shape() -> None:
    series = {(g.series, g.rank): g.code for g in GRADES if g.scheme == "SECURITIES"}
    assert [series[("SALES", r)] for r in range(1, 5)] == [
        "TWO_STAR", "THREE_STAR", "FOUR_STAR", "FIVE_STAR",
    ]  # fmt: skip
    assert series[("MANAGEMENT", 5)] == "MARKETING_DIRECTOR"
    assert series[("SERVICE", 7)] == "TRAINING_SUPERVISOR_3"


def test_grade_names_seeded_wrong_are_corrected_and_an_admin_s_kept(empty_graph: Driver) -> None:
    """The securities firm's rules name its grades 二星级客户经理..., 见习服务经理..., 一级培训督导...,
    and the management series up to 营销部主管 and 营销总监; a database seeded with the earlier
    names has them corrected, and a name an admin gave is kept."""
    seed_grading(empty_graph, DATABASE)
    empty_graph.execute_query(
        "UNWIND $old AS o MATCH (g:Grade {id: o[0]}) SET g.name = o[1]",
        old=[["SECURITIES:MARKETING_HEAD", "营销总监"], ["SECURITIES:MARKETING_DIRECTOR", "营销总经理"],
             ["SECURITIES:TRAINING_SUPERVISOR_1", "一级培训主管"], ["SECURITIES:TWO_STAR", "明星"]],
        database_=DATABASE,
    )  # fmt: skip
    seed_grading(empty_graph, DATABASE)
    records, _, _ = empty_graph.execute_query(
        "MATCH (g:Grade {scheme: 'SECURITIES'}) RETURN g.id AS id, g.name AS name",
        database_=DATABASE,
    )
    names = {r["id"].removeprefix("SECURITIES:"): r["name"] for r in records}
    assert (names["MARKETING_HEAD"], names["MARKETING_DIRECTOR"]) == ("营销部主管", "营销总监")
    assert (names["TRAINING_SUPERVISOR_1"], names["TWO_STAR"]) == ("一级培训督导", "明星")
    assert (names["THREE_STAR"], names["SERVICE_TRAINEE"]) == ("三星级客户经理", "见习服务经理")
