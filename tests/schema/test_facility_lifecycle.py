"""A facility's life after it is granted: money drawn and repaid within its limits, its limit
changed, then closed, after which it counts in no exposure, circle, group total or guarantee link. On the small bank
of `test_data_in`: f-1 is c-2's loan (limit 500,000,000.00, 123,456,789.01 drawn, approved
independently) and c-3 guarantees 10,000,000.00 of it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from neo4j import Driver

from api.auth import Principal, Role
from graph import bank_calendar
from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute
from tests.schema.test_data_in import (
    FACILITY,
    GUARANTEE,
    MANAGER_1,
    data_in_bank,
    mutate,
    new_facility,
    query,
    refused,
)


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, data_in_bank(), quiet=True)
    yield empty_graph


async def _invariant(driver: Driver, db: Db, name: str, input_: dict[str, Any]) -> str:
    found = await refused(driver, db, name, input_, "InvariantViolationError")
    invariant: str = found["invariant"]
    return invariant


async def _drawn(db: Db, name: str, facility_id: str, amount: str) -> str:
    moved = await mutate(db, name, {"facilityId": facility_id, "amount": amount}, FACILITY)
    assert moved["__typename"] == "FacilitySuccess", moved
    drawn: str = moved["facility"]["drawn"]
    return drawn


async def test_draw_repay_and_close(bank: Driver, db: Db) -> None:
    assert await _drawn(db, "drawFacility", "f-1", "100") == "123456889.01"
    past_limit = {"facilityId": "f-1", "amount": "376543111.00"}
    assert await _invariant(bank, db, "drawFacility", past_limit) == "DRAWN_WITHIN_LIMIT"
    assert await _drawn(db, "drawFacility", "f-1", "376543110.99") == "500000000.00"
    over = {"facilityId": "f-1", "amount": "500000000.01"}
    assert await _invariant(bank, db, "repayFacility", over) == "REPAID_WITHIN_DRAWN"
    assert await _invariant(bank, db, "closeFacility", {"facilityId": "f-1"}) == "FACILITY_REPAID"
    assert await _drawn(db, "repayFacility", "f-1", "499999999.99") == "0.01"
    assert await _drawn(db, "repayFacility", "f-1", "0.01") == "0.00"
    closed = await mutate(db, "closeFacility", {"facilityId": "f-1", "reason": "结清"}, FACILITY)
    assert closed["facility"]["status"] == "CLOSED"
    # Each change is audited on the facility with what it moved.
    audit = await query(
        db, '{ auditLog(nodeId: "f-1", first: 5) { records { action before after } } }'
    )
    records = audit["auditLog"]["records"]
    assert [r["action"] for r in records] == [
        "closeFacility", "repayFacility", "repayFacility", "drawFacility", "drawFacility",
    ]  # fmt: skip
    assert json.loads(records[-1]["before"]) == {"drawnCents": 12345678901}
    assert json.loads(records[-1]["after"]) == {"drawnCents": 12345688901}


async def test_a_closed_facility_takes_nothing_more(bank: Driver, db: Db) -> None:
    await _drawn(db, "repayFacility", "f-1", "123456789.01")
    await mutate(db, "closeFacility", {"facilityId": "f-1"})
    one = {"facilityId": "f-1", "amount": "1"}
    for name, input_ in (
        ("drawFacility", one),
        ("repayFacility", one),
        ("closeFacility", {"facilityId": "f-1"}),
        ("changeFacilityLimit", {"facilityId": "f-1", "limit": "1"}),
        ("addGuarantee", {"guarantorId": "c-1", "facilityId": "f-1", "amount": "1"}),
        ("releaseGuarantee", {"guarantorId": "c-3", "facilityId": "f-1"}),
        ("changeGuaranteeAmount", {"guarantorId": "c-3", "facilityId": "f-1", "amount": "1"}),
        ("withdrawApproval", {"facilityId": "f-1"}),
    ):
        assert await _invariant(bank, db, name, input_) == "FACILITY_OPEN", name
    await mutate(db, "createFacility", new_facility(id="f-2"))
    await mutate(db, "closeFacility", {"facilityId": "f-2"})
    approve = {"facilityId": "f-2", "approvingDepartmentId": "d-risk"}
    assert await _invariant(bank, db, "approveFacility", approve) == "FACILITY_OPEN"


async def test_money_is_drawn_only_after_an_independent_approval(bank: Driver, db: Db) -> None:
    await mutate(db, "createFacility", new_facility(id="f-2"))
    draw = {"facilityId": "f-2", "amount": "10"}
    assert await _invariant(bank, db, "drawFacility", draw) == "FACILITY_APPROVED"
    # Repaying and closing need no approval.
    await mutate(db, "approveFacility", {"facilityId": "f-2", "approvingDepartmentId": "d-risk"})
    assert await _drawn(db, "drawFacility", "f-2", "10") == "10.00"
    # An approval that is not independent (imported as recorded) does not let money out either.
    bank.execute_query(
        "MATCH (f:Facility {id: 'f-2'})<-[a:APPROVED]-() DELETE a WITH f "
        "MATCH (d:Department {id: 'd-ka'}) CREATE (d)-[:APPROVED {at: date()}]->(f)",
        database_=DATABASE,
    )
    assert await _invariant(bank, db, "drawFacility", draw) == "FACILITY_APPROVED"
    # Another dependent one does not replace it (d-ka-rm granted it, under d-ka).
    dependent = {"facilityId": "f-2", "approvingDepartmentId": "d-ka-rm"}
    assert await _invariant(bank, db, "approveFacility", dependent) == "APPROVAL_INDEPENDENCE"
    # An independent approval replaces it, and the money moves.
    replaced = await mutate(
        db, "approveFacility", {"facilityId": "f-2", "approvingDepartmentId": "d-risk"}, FACILITY
    )
    assert replaced["facility"]["approvingDepartment"] == {"id": "d-risk"}
    assert await _drawn(db, "drawFacility", "f-2", "10") == "20.00"
    audit = await query(
        db, '{ auditLog(nodeId: "f-2", first: 2) { records { action before after } } }'
    )
    approval = audit["auditLog"]["records"][1]
    assert approval["action"] == "approveFacility"
    assert json.loads(approval["before"]) == {"approvingDepartmentIds": ["d-ka"]}
    assert json.loads(approval["after"]) == {"approvingDepartmentIds": ["d-risk"]}
    # An independent approval standing is not replaced.
    again = {"facilityId": "f-2", "approvingDepartmentId": "d-prod"}
    assert (await refused(bank, db, "approveFacility", again, "DuplicateError"))["id"] == "f-2"


async def test_the_borrowers_audit_log_shows_its_facilitys_approval_and_guarantees(
    bank: Driver, db: Db
) -> None:
    await mutate(db, "createFacility", new_facility(id="f-2"))
    await mutate(db, "approveFacility", {"facilityId": "f-2", "approvingDepartmentId": "d-risk"})
    await mutate(db, "addGuarantee", {"guarantorId": "c-1", "facilityId": "f-2", "amount": "5"})
    # c-3 borrows f-2.
    audit = await query(db, '{ auditLog(nodeId: "c-3", first: 3) { records { action } } }')
    assert [r["action"] for r in audit["auditLog"]["records"]] == [
        "addGuarantee", "approveFacility", "createFacility",
    ]  # fmt: skip


async def test_an_archived_borrower_draws_nothing_but_its_facility_closes(
    bank: Driver, db: Db
) -> None:
    await mutate(db, "createFacility", new_facility(id="f-2"))
    await mutate(db, "approveFacility", {"facilityId": "f-2", "approvingDepartmentId": "d-risk"})
    archived = await mutate(db, "archiveClient", {"clientId": "c-3"})
    assert archived["__typename"] == "ClientSuccess"
    draw = {"facilityId": "f-2", "amount": "10"}
    assert await _invariant(bank, db, "drawFacility", draw) == "NOT_ARCHIVED"
    closed = await mutate(db, "closeFacility", {"facilityId": "f-2"}, FACILITY)
    assert closed["facility"]["status"] == "CLOSED"


async def test_bad_input_and_unknown_facilities(bank: Driver, db: Db) -> None:
    for amount in ("0", "-1", "1.001", "NaN"):
        for name in ("drawFacility", "repayFacility"):
            bad = await refused(
                bank, db, name, {"facilityId": "f-1", "amount": amount}, "ValidationError"
            )
            assert bad["field"] == "amount"
        bad = await refused(
            bank, db, "changeFacilityLimit", {"facilityId": "f-1", "limit": amount},
            "ValidationError",
        )  # fmt: skip
        assert bad["field"] == "limit"
    for name, input_ in (
        ("drawFacility", {"facilityId": "f-9", "amount": "1"}),
        ("repayFacility", {"facilityId": "f-9", "amount": "1"}),
        ("changeFacilityLimit", {"facilityId": "f-9", "limit": "1"}),
        ("closeFacility", {"facilityId": "f-9"}),
    ):
        missing = await refused(bank, db, name, input_, "NotFoundError")
        assert missing["missing"] == "Facility"
    long = await refused(
        bank, db, "closeFacility", {"facilityId": "f-1", "reason": "长" * 501}, "ValidationError"
    )
    assert long["field"] == "reason"


async def _limit(db: Db, facility_id: str, limit: str) -> dict[str, Any]:
    changed = await mutate(
        db, "changeFacilityLimit", {"facilityId": facility_id, "limit": limit}, FACILITY
    )
    assert changed["__typename"] == "FacilitySuccess", changed
    facility: dict[str, Any] = changed["facility"]
    return facility


async def test_a_limit_is_lowered_within_what_is_drawn_and_guaranteed(bank: Driver, db: Db) -> None:
    def limit(amount: str) -> dict[str, Any]:
        return {"facilityId": "f-1", "limit": amount}

    assert await _invariant(bank, db, "changeFacilityLimit", limit("500000000")) == "NO_OP"
    below_drawn = limit("123456789.00")
    assert await _invariant(bank, db, "changeFacilityLimit", below_drawn) == "DRAWN_WITHIN_LIMIT"
    lowered = await _limit(db, "f-1", "123456789.01")
    assert (lowered["limit"], lowered["drawn"]) == ("123456789.01", "123456789.01")
    assert lowered["approvingDepartment"] == {"id": "d-risk"}  # lowering needs no new approval
    assert await _drawn(db, "repayFacility", "f-1", "120000000") == "3456789.01"
    below_guarantee = await refused(
        bank, db, "changeFacilityLimit", limit("9999999.99"), "InvariantViolationError"
    )
    assert below_guarantee["invariant"] == "GUARANTEE_WITHIN_LIMIT"
    assert below_guarantee["nodeIds"] == ["f-1", "c-3"]
    assert (await _limit(db, "f-1", "10000000"))["limit"] == "10000000.00"
    audit = await query(db, '{ auditLog(nodeId: "f-1", first: 1) { records { before after } } }')
    [lowered_to_ten_million] = audit["auditLog"]["records"]
    # Lowering leaves the approval standing, so the record does not speak of it.
    assert json.loads(lowered_to_ten_million["before"]) == {"limitCents": 12345678901}
    assert json.loads(lowered_to_ten_million["after"]) == {"limitCents": 1000000000, "reason": None}


async def test_a_raised_limit_needs_a_new_approval(bank: Driver, db: Db) -> None:
    raised = await mutate(
        db, "changeFacilityLimit", {"facilityId": "f-1", "limit": "600000000", "reason": "扩产"},
        FACILITY,
    )  # fmt: skip
    assert raised["facility"]["limit"] == "600000000.00"
    assert raised["facility"]["approvingDepartment"] is None
    assert raised["facility"]["drawn"] == "123456789.01"  # what was lent stays lent
    draw = {"facilityId": "f-1", "amount": "1"}
    assert await _invariant(bank, db, "drawFacility", draw) == "FACILITY_APPROVED"
    unapproved = (await _exposure(db, "c-2"))["unapprovedFacilities"]
    assert unapproved == [{"facility": {"id": "f-1"}}]
    await mutate(db, "approveFacility", {"facilityId": "f-1", "approvingDepartmentId": "d-risk"})
    assert await _drawn(db, "drawFacility", "f-1", "476543210.99") == "600000000.00"
    audit = await query(
        db, '{ auditLog(nodeId: "f-1", first: 5) { records { action before after } } }'
    )
    changed = audit["auditLog"]["records"][-1]
    assert changed["action"] == "changeFacilityLimit"
    assert json.loads(changed["before"]) == {
        "limitCents": 50000000000, "approvingDepartmentIds": ["d-risk"],
    }  # fmt: skip
    assert json.loads(changed["after"]) == {
        "limitCents": 60000000000, "reason": "扩产", "approvingDepartmentIds": [],
    }  # fmt: skip


async def test_an_archived_borrowers_limit_is_lowered_but_not_raised(bank: Driver, db: Db) -> None:
    await mutate(db, "createFacility", new_facility(id="f-2"))
    await mutate(db, "archiveClient", {"clientId": "c-3"})
    raise_ = {"facilityId": "f-2", "limit": "5000000.01"}  # granted with 5,000,000.00
    assert await _invariant(bank, db, "changeFacilityLimit", raise_) == "NOT_ARCHIVED"
    assert (await _limit(db, "f-2", "1"))["limit"] == "1.00"


async def test_a_guarantee_is_released(bank: Driver, db: Db) -> None:
    before = await _exposure(db, "c-3")
    assert Decimal(before["indirect"]) == Decimal("10000000")
    release = {"guarantorId": "c-3", "facilityId": "f-1", "reason": "担保人替换"}
    released = await mutate(db, "releaseGuarantee", release, GUARANTEE)
    assert released == {
        "__typename": "GuaranteeSuccess", "guarantor": {"id": "c-3"}, "facility": {"id": "f-1"},
        "amount": "10000000.00",
    }  # fmt: skip
    assert Decimal((await _exposure(db, "c-3"))["indirect"]) == 0
    links = await query(db, '{ client(id: "c-3") { relatedClients { kind client { id } } } }')
    assert {"kind": "GUARANTEE", "client": {"id": "c-2"}} not in links["client"]["relatedClients"]
    audit = await query(
        db, '{ auditLog(nodeId: "c-3", first: 1) { records { id action before after } } }'
    )
    [record] = audit["auditLog"]["records"]
    assert record["action"] == "releaseGuarantee"
    for node in ("f-1", "c-2"):  # on the facility and its borrower too
        on_node = await query(
            db, f'{{ auditLog(nodeId: "{node}", first: 1) {{ records {{ id action }} }} }}'
        )
        assert on_node["auditLog"]["records"] == [
            {"id": record["id"], "action": "releaseGuarantee"}
        ]
    assert json.loads(record["before"]) == {"amountCents": 1000000000}
    assert json.loads(record["after"]) == {"amountCents": None, "reason": "担保人替换"}
    # Released once; there is nothing left to release.
    gone = await refused(bank, db, "releaseGuarantee", release, "NotFoundError")
    assert gone["missing"] == "Guarantee"
    for input_, missing in (
        ({"guarantorId": "c-9", "facilityId": "f-1"}, "Client"),
        ({"guarantorId": "c-1", "facilityId": "f-9"}, "Facility"),
    ):
        assert (await refused(bank, db, "releaseGuarantee", input_, "NotFoundError"))[
            "missing"
        ] == missing
    # The facility's approval stands: money still moves.
    assert await _drawn(db, "drawFacility", "f-1", "1") == "123456790.01"


async def test_an_archived_guarantors_guarantee_stays(bank: Driver, db: Db) -> None:
    await mutate(db, "archiveClient", {"clientId": "c-3"})
    release = {"guarantorId": "c-3", "facilityId": "f-1"}
    assert await _invariant(bank, db, "releaseGuarantee", release) == "NOT_ARCHIVED"
    amended = {"guarantorId": "c-3", "facilityId": "f-1", "amount": "1"}
    assert await _invariant(bank, db, "changeGuaranteeAmount", amended) == "NOT_ARCHIVED"


async def test_a_guarantee_is_amended_within_the_limit(bank: Driver, db: Db) -> None:
    amend = {"guarantorId": "c-3", "facilityId": "f-1", "amount": "25000000.5", "reason": "追加"}
    amended = await mutate(db, "changeGuaranteeAmount", amend, GUARANTEE)
    assert amended == {
        "__typename": "GuaranteeSuccess", "guarantor": {"id": "c-3"}, "facility": {"id": "f-1"},
        "amount": "25000000.50",
    }  # fmt: skip
    assert Decimal((await _exposure(db, "c-3"))["indirect"]) == Decimal("25000000.50")
    audit = await query(
        db, '{ auditLog(nodeId: "c-3", first: 1) { records { id action before after } } }'
    )
    [record] = audit["auditLog"]["records"]
    assert record["action"] == "changeGuaranteeAmount"
    assert json.loads(record["before"]) == {"amountCents": 1000000000}
    assert json.loads(record["after"]) == {"amountCents": 2500000050, "reason": "追加"}
    for node in ("f-1", "c-2"):  # on the facility and its borrower too
        on_node = await query(
            db, f'{{ auditLog(nodeId: "{node}", first: 1) {{ records {{ id }} }} }}'
        )
        assert on_node["auditLog"]["records"] == [{"id": record["id"]}]

    for amount, invariant in (("25000000.50", "NO_OP"), ("500000000.01", "GUARANTEE_WITHIN_LIMIT")):
        input_ = {"guarantorId": "c-3", "facilityId": "f-1", "amount": amount}
        assert await _invariant(bank, db, "changeGuaranteeAmount", input_) == invariant
    # Lowered to the whole limit's edge and back down: both allowed.
    for amount in ("500000000.00", "1"):
        input_ = {"guarantorId": "c-3", "facilityId": "f-1", "amount": amount}
        assert (await mutate(db, "changeGuaranteeAmount", input_, GUARANTEE))["amount"] == (
            Decimal(amount).quantize(Decimal("0.01")).to_eng_string()
        )
    for input_, missing in (
        ({"guarantorId": "c-1", "facilityId": "f-1"}, "Guarantee"),
        ({"guarantorId": "c-9", "facilityId": "f-1"}, "Client"),
        ({"guarantorId": "c-3", "facilityId": "f-9"}, "Facility"),
    ):
        found = await refused(bank, db, "changeGuaranteeAmount", input_ | {"amount": "5"},
                              "NotFoundError")  # fmt: skip
        assert found["missing"] == missing
    for amount in ("0", "-1", "0.001", "NaN"):
        input_ = {"guarantorId": "c-3", "facilityId": "f-1", "amount": amount}
        bad = await refused(bank, db, "changeGuaranteeAmount", input_, "ValidationError")
        assert bad["field"] == "amount"
    long = {"guarantorId": "c-3", "facilityId": "f-1", "amount": "5", "reason": "长" * 501}
    assert (await refused(bank, db, "changeGuaranteeAmount", long, "ValidationError"))[
        "field"
    ] == "reason"


async def test_moving_money_is_for_risk_officers_and_admins(bank: Driver, db: Db) -> None:
    before = graph_snapshot(bank)
    for principal in (MANAGER_1, Principal("v", Role.VIEWER)):
        _, errors, _ = await execute(
            db,
            'mutation { drawFacility(input: {facilityId: "f-1", amount: "1"}) { __typename } }',
            principal=principal,
        )
        assert [e.extensions["code"] for e in errors] == ["FORBIDDEN"]
    officer = Principal("r", Role.RISK_OFFICER)
    moved = await mutate(db, "drawFacility", {"facilityId": "f-1", "amount": "1"}, FACILITY,
                         principal=officer)  # fmt: skip
    assert moved["__typename"] == "FacilitySuccess"
    assert graph_snapshot(bank) != before


EXPOSURE = """query ($id: ID!) { creditExposure(clientId: $id) {
  total direct indirect members { client { id } facilities { id } }
  grantingDepartments { department { id } } unapprovedFacilities { facility { id } }
  limitUsage { rule amount } } }"""


async def _exposure(db: Db, client_id: str) -> dict[str, Any]:
    data, errors, _ = await execute(db, EXPOSURE, {"id": client_id})
    assert errors == [] and data is not None
    exposure: dict[str, Any] = data["creditExposure"]
    return exposure


async def test_a_closed_facility_counts_nowhere(bank: Driver, db: Db) -> None:
    """c-3 also borrows f-2, guaranteed by c-2: with f-1 the two guarantee each other (互保).
    Closing f-1 releases c-3's guarantee and takes f-1 out of every figure. (c-1 controls c-2.)"""
    await mutate(db, "createFacility", new_facility(id="f-2", limit="300"))
    await mutate(db, "addGuarantee", {"guarantorId": "c-2", "facilityId": "f-2", "amount": "300"})
    risk = (
        "{ guaranteeCircles { circleCount mutualPairs { memberIds } } "
        "largestExposures { root { id } total } }"
    )
    found = await query(db, risk)
    assert found["guaranteeCircles"]["mutualPairs"] == [{"memberIds": ["c-2", "c-3"]}]
    before = await _exposure(db, "c-2")
    assert before["direct"] == "500000000.00"
    assert before["grantingDepartments"] == [{"department": {"id": "d-ka"}}]

    await _drawn(db, "repayFacility", "f-1", "123456789.01")
    await mutate(db, "closeFacility", {"facilityId": "f-1"})

    after = await query(db, risk)
    assert after["guaranteeCircles"] == {"circleCount": 0, "mutualPairs": []}
    assert after["largestExposures"] == [
        {"root": {"id": "c-1"}, "total": "300.00"},  # c-2's guarantee of f-2
        {"root": {"id": "c-3"}, "total": "300.00"},
    ]
    exposure = await _exposure(db, "c-2")
    assert (exposure["direct"], exposure["indirect"]) == ("0.00", "300.00")
    assert exposure["grantingDepartments"] == exposure["unapprovedFacilities"] == []
    assert {m["client"]["id"]: m["facilities"] for m in exposure["members"]} == {
        "c-1": [], "c-2": []
    }  # fmt: skip
    usage = {u["rule"]: u["amount"] for u in (await _exposure(db, "c-3"))["limitUsage"]}
    assert usage["SINGLE_CLIENT"] == "300.00"  # its own f-2; the released guarantee is gone
    page = await query(
        db,
        '{ client(id: "c-2") { facilities { id status closedOn } group { totalFacilities } '
        "relatedClients(kinds: [GUARANTEE]) { facilityId client { id } } } }",
    )
    # Still on the page, for history; only the live guarantee (c-2's of f-2) links them. Closed
    # today (or yesterday, had the bank's midnight passed since).
    today = bank_calendar.today()
    [closed] = page["client"]["facilities"]
    assert (closed["id"], closed["status"]) == ("f-1", "CLOSED")
    assert closed["closedOn"] in {today.isoformat(), (today - dt.timedelta(days=1)).isoformat()}
    assert page["client"]["group"] == {"totalFacilities": "0.00"}
    assert page["client"]["relatedClients"] == [{"facilityId": "f-2", "client": {"id": "c-3"}}]


async def test_a_released_guarantee_introduces_nobody(bank: Driver, db: Db) -> None:
    """张三 (c-4) guarantees a facility of m-x's client c-x: an introduction, until it closes."""
    await mutate(db, "createFacility", new_facility(id="f-x", borrowerId="c-x"))
    await mutate(db, "addGuarantee", {"guarantorId": "c-4", "facilityId": "f-x", "amount": "1"})
    intro = (
        '{ introductionPaths(managerId: "m-x", prospectId: "c-4") '
        "{ chains { fromId toId kinds } reason } }"
    )
    found = await query(db, intro)
    assert found["introductionPaths"] == {
        "chains": [[{"fromId": "c-x", "toId": "c-4", "kinds": ["GUARANTEE"]}]], "reason": None
    }  # fmt: skip
    await mutate(db, "closeFacility", {"facilityId": "f-x"})
    found = await query(db, intro)
    assert found["introductionPaths"] == {"chains": [], "reason": "NO_PATH_WITHIN_MAX_HOPS"}


async def test_a_client_page_lists_open_facilities_first(bank: Driver, db: Db) -> None:
    """c-2's f-1 (500,000,000.00) is closed; its new f-2 (300.00) comes first all the same."""
    await mutate(db, "createFacility", new_facility(id="f-2", borrowerId="c-2", limit="300"))
    await _drawn(db, "repayFacility", "f-1", "123456789.01")
    await mutate(db, "closeFacility", {"facilityId": "f-1"})
    page = await query(db, '{ client(id: "c-2") { facilities { id status } } }')
    assert page["client"]["facilities"] == [
        {"id": "f-2", "status": "ACTIVE"},
        {"id": "f-1", "status": "CLOSED"},
    ]


async def test_an_approval_withdrawn_stops_drawing_until_approved_again(
    bank: Driver, db: Db
) -> None:
    withdrawn = await mutate(
        db, "withdrawApproval", {"facilityId": "f-1", "reason": "审批意见撤销"}, FACILITY
    )
    assert withdrawn["facility"]["approvingDepartment"] is None
    assert withdrawn["facility"]["drawn"] == "123456789.01"  # what was drawn stays
    draw = {"facilityId": "f-1", "amount": "1"}
    assert await _invariant(bank, db, "drawFacility", draw) == "FACILITY_APPROVED"
    exposure = await _exposure(db, "c-2")
    assert {"facility": {"id": "f-1"}} in exposure["unapprovedFacilities"]
    audit = await query(
        db, '{ auditLog(nodeId: "c-2", first: 1) { records { action before after } } }'
    )
    [record] = audit["auditLog"]["records"]  # on the borrower too
    assert record["action"] == "withdrawApproval"
    assert json.loads(record["before"]) == {"approvingDepartmentIds": ["d-risk"]}
    assert json.loads(record["after"]) == {"approvingDepartmentIds": [], "reason": "审批意见撤销"}
    # Nothing left to withdraw; unknown facilities and bad input are refused as usual.
    gone = await refused(bank, db, "withdrawApproval", {"facilityId": "f-1"}, "NotFoundError")
    assert gone["missing"] == "Approval"
    unknown = await refused(bank, db, "withdrawApproval", {"facilityId": "f-9"}, "NotFoundError")
    assert unknown["missing"] == "Facility"
    long = {"facilityId": "f-1", "reason": "长" * 501}
    assert (await refused(bank, db, "withdrawApproval", long, "ValidationError"))["field"] == (
        "reason"
    )
    # Approved again, money moves.
    await mutate(db, "approveFacility", {"facilityId": "f-1", "approvingDepartmentId": "d-risk"})
    assert await _drawn(db, "drawFacility", "f-1", "1") == "123456790.01"
