"""An import is held to the invariants the mutations keep, counting what the graph already
holds: each file here is refused, names the line and column, and changes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from neo4j import Driver, Session

from graph.client_link_writes import CONTROL_CYCLES
from graph.csv_export import export_csv
from graph.csv_import import (
    BatchCounts,
    _apply_batch,
    _require_rated,
    _write_reporting_lines,
    import_csv,
)
from graph.csv_tables import TABLES_BY_FILE
from graph.data_writes import LOCK
from graph.errors import FxRateMissing, ImportConflict
from graph.manager_writes import REPORTING_LINES
from tests.conftest import DATABASE, WIPE, graph_snapshot
from tests.graph.test_csv_import import SMALL_BANK, counts, messages, run, write_set

FACILITIES = (
    "id,borrowerId,type,limit,drawn,currency,grantingDepartmentId,approvingDepartmentId,grantedAt\n"
)
MANAGERS = "id,name,level,education,title,creditYears,departmentId,reportsToId,since\n"
CLIENTS = "id,name,kind,segment,status,grade,riskRating,industry,region\n"
# clients.csv with its unified-limit columns.
LIMITED_CLIENTS = CLIENTS.rstrip("\n") + ",unifiedLimit,unifiedLimitCurrency\n"


def rows_of(driver: Driver, query: str) -> list[dict[str, object]]:
    records, _, _ = driver.execute_query(query, database_=DATABASE)
    return [dict(r) for r in records]


def _small_bank(driver: Driver, tmp_path: Path) -> None:
    """c-1 (m-1's) borrows f-1, which c-2 guarantees for 2,500,000.00; m-2 reports to m-1;
    d-risk checks d-ka."""
    report = run(driver, write_set(tmp_path / "base", dict(SMALL_BANK)))
    assert report.accepted, messages(report)


def _refused(driver: Driver, tmp_path: Path, files: dict[str, str], where: str) -> list[str]:
    before = graph_snapshot(driver)
    report = run(driver, write_set(tmp_path / "delta", files))
    assert not report.accepted
    assert graph_snapshot(driver) == before
    found = messages(report)
    assert any(m.startswith(where) for m in found), found
    return found


def test_an_inactive_manager_is_not_made_primary_of_an_active_client(
    empty_graph: Driver, tmp_path: Path
) -> None:
    _small_bank(empty_graph, tmp_path)
    empty_graph.execute_query(
        "MATCH (d:Department {id: 'd-ka'}) CREATE (:Manager {id: 'm-3', name: '休假', "
        "level: 'MANAGER', education: 'BACHELOR', title: 'NONE', creditYears: 2, version: 0, "
        "active: false})-[:MEMBER_OF {since: date('2020-01-01')}]->(d)",
        database_=DATABASE,
    )
    _refused(empty_graph, tmp_path, {
        "client_managers.csv": "managerId,clientId,role,since\n"
        "m-3,c-1,PRIMARY,2024-01-01\nm-1,c-1,SECONDARY,2020-01-01\n",
    }, "client_managers.csv:2: column managerId: manager 'm-3' is not active")  # fmt: skip


def test_a_facility_redefined_keeps_the_graph_s_guarantees_valid(
    empty_graph: Driver, tmp_path: Path
) -> None:
    _small_bank(empty_graph, tmp_path)
    # A limit below the 2,500,000.00 c-2 guarantees.
    _refused(empty_graph, tmp_path, {
        "facilities.csv": FACILITIES
        + "f-1,c-1,LOAN,1000000.00,1000000.00,CNY,d-ka-east,d-risk,2023-01-01\n",
    }, "facilities.csv:2: column limit: is below the 2500000.00")  # fmt: skip
    # Lent to its own guarantor.
    _refused(empty_graph, tmp_path, {
        "facilities.csv": FACILITIES
        + "f-1,c-2,LOAN,5000000.00,1000000.00,CNY,d-ka-east,d-risk,2023-01-01\n",
    }, "facilities.csv:2: column borrowerId: 'c-2' guarantees this facility")  # fmt: skip
    # Restated with the guarantee lowered too: accepted.
    both = run(empty_graph, write_set(tmp_path / "both", {
        "facilities.csv": FACILITIES
        + "f-1,c-1,LOAN,1000000.00,1000000.00,CNY,d-ka-east,d-risk,2023-01-01\n",
        "guarantees.csv": "guarantorId,facilityId,amount\nc-2,f-1,900000.00\n",
    }))  # fmt: skip
    assert both.accepted, messages(both)


def test_a_new_direct_link_keeps_the_graph_s_check_links_independent(
    empty_graph: Driver, tmp_path: Path
) -> None:
    _small_bank(empty_graph, tmp_path)
    first = run(empty_graph, write_set(tmp_path / "audit", {
        "departments.csv": "id,name,function,model\nd-audit,审计部,RISK,COMPREHENSIVE\n",
        "check_links.csv": "fromId,toId,since,scope\nd-audit,d-ka-east,2020-01-01,\n",
    }))  # fmt: skip
    assert first.accepted, messages(first)
    # The checker put under the department it checks.
    _refused(
        empty_graph,
        tmp_path,
        {
            "direct_reports.csv": "fromId,toId,since\nd-audit,d-ka-east,2024-01-01\n",
        },
        "direct_reports.csv:2: column toId: would make 'd-audit', which checks 'd-ka-east'",
    )


def test_reporting_lines_stay_a_forest(empty_graph: Driver, tmp_path: Path) -> None:
    _small_bank(empty_graph, tmp_path)
    for boss in ("m-2", "m-1"):  # m-2 reports to m-1: a cycle; or m-1 to itself
        _refused(
            empty_graph,
            tmp_path,
            {
                "managers.csv": MANAGERS
                + f"m-1,李军,SENIOR,MASTER,MIDDLE,6,d-ka,{boss},2019-01-01\n",
            },
            "managers.csv:2: column reportsToId: would put manager 'm-1' above themselves",
        )


def test_row_checks_of_the_mutations(empty_graph: Driver, tmp_path: Path) -> None:
    _small_bank(empty_graph, tmp_path)
    _refused(
        empty_graph,
        tmp_path,
        {
            "clients.csv": CLIENTS + "c-3,旧客户,CORPORATE,EXISTING,ARCHIVED,A,3,,\n",
        },
        "clients.csv:2: column grade: an archived client has no key-account grade",
    )
    _refused(
        empty_graph,
        tmp_path,
        {
            "facilities.csv": FACILITIES + "f-9,c-1,LOAN,0,0,CNY,d-ka,,2023-01-01\n",
        },
        "facilities.csv:2: column limit",
    )
    # Control is decided on shares in millionths of a percent: finer ones are refused.
    _refused(
        empty_graph,
        tmp_path,
        {"controls.csv": "fromId,toId,share,basis\nc-1,c-2,16.6666665,EQUITY\n"},
        "controls.csv:2: column share: has more than 6 decimal places",
    )
    # A malformed id of a new client is reported, not raised.
    _refused(
        empty_graph,
        tmp_path,
        {
            "clients.csv": CLIENTS + "bad id!,名,CORPORATE,NEW,PROSPECT,,2,,\n",
        },
        "clients.csv:2: column id",
    )


def test_facility_status_round_trips_and_a_closed_facility_has_nothing_drawn(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """SMALL_BANK's facilities.csv predates the status column: it loads, ACTIVE. f-2 (c-2's,
    nothing drawn) is then closed."""
    _small_bank(empty_graph, tmp_path)
    empty_graph.execute_query(
        "MATCH (f:Facility {id: 'f-2'}) "
        "SET f.status = 'CLOSED', f.closedOn = date('2024-05-01'), f.closeReason = '结清'",
        database_=DATABASE,
    )
    f2 = "f-2,c-2,ACCEPTANCE,100.00,{drawn},CNY,d-ka,,2023-02-01"
    # Without the column, or with it empty, the graph's status stays: nothing changes.
    for header, row in ((FACILITIES, f2), (FACILITIES.replace("\n", ",status\n"), f2 + ",")):
        kept = run(empty_graph, write_set(tmp_path / "kept", {
            "facilities.csv": header + row.format(drawn="0") + "\n",
        }))  # fmt: skip
        assert kept.accepted and counts(kept)["facilities.csv"] == (1, 0, 0, 1, 0)
    # Money drawn on it: refused, unless the row reopens it.
    _refused(empty_graph, tmp_path, {
        "facilities.csv": FACILITIES + f2.format(drawn="5") + "\n",
    }, "facilities.csv:2: column drawn: the graph holds this facility closed")  # fmt: skip
    with_status = FACILITIES.replace("\n", ",status\n")
    _refused(empty_graph, tmp_path, {
        "facilities.csv": with_status + f2.format(drawn="5") + ",CLOSED\n",
    }, "facilities.csv:2: column drawn: a closed facility has nothing drawn")  # fmt: skip
    export_csv(empty_graph, DATABASE, tmp_path / "export")
    exported = (tmp_path / "export" / "facilities.csv").read_text()
    assert exported.splitlines()[0].endswith(",status,closedOn,closeReason")
    assert f2.format(drawn="0.00") + ",CLOSED,2024-05-01,结清" in exported.splitlines()
    reopened = run(empty_graph, write_set(tmp_path / "reopen", {
        "facilities.csv": with_status + f2.format(drawn="5") + ",ACTIVE\n",
    }))  # fmt: skip
    assert reopened.accepted, messages(reopened)
    records, _, _ = empty_graph.execute_query(
        "MATCH (f:Facility {id: 'f-2'}) "
        "RETURN f.status AS status, f.drawnCents AS drawn, f.closedOn AS closedOn",
        database_=DATABASE,
    )
    # Reopened: when it was closed no longer applies.
    assert [(r["status"], r["drawn"], r["closedOn"]) for r in records] == [("ACTIVE", 500, None)]


def test_when_and_why_a_facility_closed_travel_with_it(empty_graph: Driver, tmp_path: Path) -> None:
    """closedOn and closeReason are given with status CLOSED only, not before the grant; an
    empty cell keeps the graph's; into an empty graph they come back as exported."""
    _small_bank(empty_graph, tmp_path)
    closing = FACILITIES.replace("\n", ",status,closedOn,closeReason\n")
    f2 = "f-2,c-2,ACCEPTANCE,100.00,0,CNY,d-ka,,2023-02-01,"
    for row, expected in (
        ("ACTIVE,2024-05-01,", "column closedOn: is only given with status CLOSED"),
        (",,结清", "column closeReason: is only given with status CLOSED"),
        ("CLOSED,2023-01-31,", "column closedOn: is before grantedAt"),
    ):
        _refused(empty_graph, tmp_path, {"facilities.csv": closing + f2 + row + "\n"},
                 f"facilities.csv:2: {expected}")  # fmt: skip

    closed = run(empty_graph, write_set(tmp_path / "closed", {
        "facilities.csv": closing + f2 + 'CLOSED,2024-05-06,"结清,\n转入核销台账"\n',
    }))  # fmt: skip
    assert closed.accepted and counts(closed)["facilities.csv"] == (1, 0, 1, 0, 0)
    # Restated with the cells empty: kept.
    kept = run(empty_graph, write_set(tmp_path / "kept", {
        "facilities.csv": closing + f2 + "CLOSED,,\n",
    }))  # fmt: skip
    assert kept.accepted and counts(kept)["facilities.csv"] == (1, 0, 0, 1, 0)
    before = graph_snapshot(empty_graph)
    export_csv(empty_graph, DATABASE, tmp_path / "export")
    empty_graph.execute_query(WIPE, database_=DATABASE)
    assert run(empty_graph, tmp_path / "export").accepted
    records, _, _ = empty_graph.execute_query(
        "MATCH (f:Facility {id: 'f-2'}) RETURN f.closedOn AS on, f.closeReason AS reason",
        database_=DATABASE,
    )
    assert [(r["on"].iso_format(), r["reason"]) for r in records] == [
        ("2024-05-06", "结清,\n转入核销台账")
    ]
    facility = [n for n in graph_snapshot(empty_graph)["nodes"] if n[1].get("id") == "f-2"]
    assert facility == [n for n in before["nodes"] if n[1].get("id") == "f-2"]


def test_no_member_or_link_points_at_an_archived_department(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """d-old was archived (as archiveDepartment leaves one: no members, no links). Facilities it
    granted keep pointing at it: an export of its history loads back."""
    _small_bank(empty_graph, tmp_path)
    empty_graph.execute_query(
        "CREATE (:Department {id: 'd-old', name: '旧部', function: 'CLIENT', model: 'CLIENT', "
        "archived: true, version: 1})",
        database_=DATABASE,
    )
    _refused(empty_graph, tmp_path, {
        "managers.csv": MANAGERS + "m-3,新人,MANAGER,BACHELOR,NONE,1,d-old,,2024-01-01\n",
    }, "managers.csv:2: column departmentId: department 'd-old' is archived")  # fmt: skip
    _refused(empty_graph, tmp_path, {
        "linear_links.csv": "fromId,toId,since,purpose\nd-ka,d-old,2024-01-01,\n",
    }, "linear_links.csv:2: column toId: department 'd-old' is archived")  # fmt: skip
    # Restated in departments.csv (as every export restates it), it is still archived.
    _refused(empty_graph, tmp_path, {
        "departments.csv": "id,name,function,model\nd-old,旧部,CLIENT,CLIENT\n",
        "managers.csv": MANAGERS + "m-3,新人,MANAGER,BACHELOR,NONE,1,d-old,,2024-01-01\n",
    }, "managers.csv:2: column departmentId: department 'd-old' is archived")  # fmt: skip
    history = run(empty_graph, write_set(tmp_path / "history", {
        "facilities.csv": FACILITIES + "f-9,c-1,LOAN,10.00,0,CNY,d-old,d-risk,2019-01-01\n",
    }))  # fmt: skip
    assert history.accepted, messages(history)


PRODUCTS = "id,name,category,audience,riskLevel,departmentId\n"
DEPARTMENTS = "id,name,function,model\n"


def test_products_are_offered_by_an_active_product_department(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """As createProduct and the restructurings keep it: d-prod offers p-dep and p-loan."""
    _small_bank(empty_graph, tmp_path)
    _refused(empty_graph, tmp_path, {
        "products.csv": PRODUCTS + "p-new,新产品,LOAN,CORPORATE,2,d-ka\n",
    }, "products.csv:2: column departmentId: department 'd-ka' is not a product department "
       "(its function is CLIENT)")  # fmt: skip
    _refused(empty_graph, tmp_path, {
        "departments.csv": DEPARTMENTS + "d-new,新团队,CLIENT,REGION\n",
        "products.csv": PRODUCTS + "p-new,新产品,LOAN,CORPORATE,2,d-new\n",
    }, "products.csv:2: column departmentId: department 'd-new' is not a product department")  # fmt: skip
    _refused(empty_graph, tmp_path, {
        "departments.csv": DEPARTMENTS + "d-prod,产品部,CLIENT,PRODUCT\n",
    }, "departments.csv:2: column function: the graph has this department offer products "
       "['p-dep', 'p-loan']: it stays a PRODUCT department, not CLIENT")  # fmt: skip
    empty_graph.execute_query(
        "CREATE (:Department {id: 'd-old', name: '旧产品部', function: 'PRODUCT', "
        "model: 'PRODUCT', archived: true, version: 1})",
        database_=DATABASE,
    )
    _refused(empty_graph, tmp_path, {
        "products.csv": PRODUCTS + "p-new,新产品,LOAN,CORPORATE,2,d-old\n",
    }, "products.csv:2: column departmentId: department 'd-old' is archived")  # fmt: skip

    # d-prod becomes a client department once its products move to a new product department.
    moved = run(empty_graph, write_set(tmp_path / "moved", {
        "departments.csv": DEPARTMENTS + "d-prod,产品部,CLIENT,PRODUCT\n"
        "d-prod2,产品二部,PRODUCT,PRODUCT\n",
        "products.csv": PRODUCTS + "p-dep,单位存款,DEPOSIT,CORPORATE,1,d-prod2\n"
        "p-loan,流动资金贷款,LOAN,CORPORATE,3,d-prod2\n",
    }))  # fmt: skip
    assert moved.accepted, messages(moved)
    records, _, _ = empty_graph.execute_query(
        "MATCH (d:Department)-[:OFFERS]->(p:Product) RETURN d.id AS d, collect(p.id) AS ps",
        database_=DATABASE,
    )
    assert [(r["d"], sorted(r["ps"])) for r in records] == [("d-prod2", ["p-dep", "p-loan"])]


def test_no_department_is_more_than_32_links_below_its_root(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """SMALL_BANK's d-ka-east is 2 links below d-hq; a chain of 30 more under it is the most."""
    _small_bank(empty_graph, tmp_path)
    names = [f"d-{i}" for i in range(30)]
    departments = DEPARTMENTS + "".join(f"{d},{d},CLIENT,REGION\n" for d in [*names, "d-deep"])
    links = "fromId,toId,since\n" + "".join(
        f"{child},{parent},2024-01-01\n"
        for child, parent in zip(names, ["d-ka-east", *names], strict=False)
    )
    fits = run(empty_graph, write_set(tmp_path / "fits", {
        "departments.csv": departments, "direct_reports.csv": links,
    }))  # fmt: skip
    assert fits.accepted, messages(fits)
    found = _refused(empty_graph, tmp_path, {
        "departments.csv": departments,
        "direct_reports.csv": links + "d-deep,d-29,2024-01-01\n",
    }, "direct_reports.csv:32: column toId: would put a department at or under 'd-deep' more "
       "than 32 direct links below its root")  # fmt: skip
    assert len(found) == 1  # the lines restating the graph's links are not blamed


def test_a_unified_limit_travels_with_its_client(empty_graph: Driver, tmp_path: Path) -> None:
    """Both columns or neither; empty keeps the graph's; the export writes it back."""
    _small_bank(empty_graph, tmp_path)
    header = LIMITED_CLIENTS
    c1 = "c-1,华东钢铁,CORPORATE,EXISTING,ACTIVE,A,3,钢铁,华东"
    _refused(empty_graph, tmp_path, {"clients.csv": header + c1 + ",9000000.00,\n"},
             "clients.csv:2: column unifiedLimitCurrency: is given with unifiedLimit, and only "
             "with it")  # fmt: skip
    given = run(empty_graph, write_set(tmp_path / "given", {
        "clients.csv": header + c1 + ",9000000.00,CNY\n",
    }))  # fmt: skip
    assert given.accepted, messages(given)
    assert counts(given)["clients.csv"] == (1, 0, 1, 0, 0)
    kept = run(empty_graph, write_set(tmp_path / "kept", {"clients.csv": header + c1 + ",,\n"}))
    assert counts(kept)["clients.csv"] == (1, 0, 0, 1, 0)
    records, _, _ = empty_graph.execute_query(
        "MATCH (c:Client {id: 'c-1'}) RETURN c.unifiedLimitCents AS cents, "
        "c.unifiedLimitCurrency AS currency",
        database_=DATABASE,
    )
    assert (records[0]["cents"], records[0]["currency"]) == (900000000, "CNY")
    export_csv(empty_graph, DATABASE, tmp_path / "out")
    exported = (tmp_path / "out" / "clients.csv").read_text(encoding="utf-8").splitlines()
    assert exported[0] == header.rstrip("\n")
    assert exported[1] == c1 + ",9000000.00,CNY"


def test_a_unified_limit_sits_on_its_groups_top(empty_graph: Driver, tmp_path: Path) -> None:
    """As setUnifiedLimit keeps it: c-1 controls c-2 (60.5%), so c-2's group limit would be
    read from c-1 and never from c-2; and c-1, which holds one, is not put under another."""
    _small_bank(empty_graph, tmp_path)
    header = LIMITED_CLIENTS
    c2 = "c-2,华东贸易,CORPORATE,NEW,ACTIVE,,2,,"
    _refused(empty_graph, tmp_path, {"clients.csv": header + c2 + ",100.00,CNY\n"},
             "clients.csv:2: column unifiedLimit: 'c-2' is controlled (by 'c-1'): a group's "
             "unified limit is set on its top controller")  # fmt: skip
    c1 = "c-1,华东钢铁,CORPORATE,EXISTING,ACTIVE,A,3,钢铁,华东"
    assert run(empty_graph, write_set(tmp_path / "top", {
        "clients.csv": header + c1 + ",9000000.00,CNY\n",
    })).accepted  # fmt: skip
    # c-2 taking control of c-1 (a cycle aside) would leave c-1's limit unread.
    _refused(empty_graph, tmp_path, {
        "controls.csv": "fromId,toId,share,basis\nc-3,c-1,51,EQUITY\n",
        "clients.csv": CLIENTS + "c-3,新股东,CORPORATE,EXISTING,ACTIVE,,2,,\n",
        "client_managers.csv": "managerId,clientId,role,since\nm-1,c-3,PRIMARY,2024-01-01\n",
    }, "controls.csv:2: column toId: 'c-1' holds its group's unified limit")  # fmt: skip


def test_a_batch_brings_money_in_only_in_a_currency_with_a_rate(empty_graph: Driver) -> None:
    """Checked again in each writing batch, under the currency's lock: a rate that a settings
    change dropped after the import was checked stops it there (FxRateMissing)."""
    facilities = TABLES_BY_FILE["facilities.csv"]
    with empty_graph.session(database=DATABASE) as session:
        session.execute_write(
            lambda tx: _require_rated(tx, facilities, [{"currency": "USD"}, {"currency": "CNY"}])
        )
        with pytest.raises(FxRateMissing) as refused:
            session.execute_write(lambda tx: _require_rated(tx, facilities, [{"currency": "XYZ"}]))
    assert (refused.value.currencies, refused.value.reporting) == (["XYZ"], "CNY")


DEPARTMENTS_ARCHIVED = "id,name,function,model,archived\n"


def _archived(driver: Driver, department: str) -> bool:
    records, _, _ = driver.execute_query(
        "MATCH (d:Department {id: $id}) RETURN d.archived AS archived",
        id=department,
        database_=DATABASE,
    )
    return bool(records[0]["archived"])


def test_an_archived_department_is_restored_archived(empty_graph: Driver, tmp_path: Path) -> None:
    """An export of a graph with an archived department, imported into an empty graph, keeps it
    archived (it was revived: the format had no column for it). Archiving or reviving one the
    graph holds stays with the mutations."""
    _small_bank(empty_graph, tmp_path)
    old = "d-old,旧部门,CLIENT,CLIENT,true\n"
    restored = run(
        empty_graph, write_set(tmp_path / "old", {"departments.csv": DEPARTMENTS_ARCHIVED + old})
    )
    assert restored.accepted, messages(restored)
    assert _archived(empty_graph, "d-old")
    export_csv(empty_graph, DATABASE, tmp_path / "out")
    exported = (tmp_path / "out" / "departments.csv").read_text(encoding="utf-8")
    assert (
        exported.startswith(DEPARTMENTS_ARCHIVED)
        and old in exported
        and "d-ka,大客户部,CLIENT,CLIENT,false\n" in exported
    )
    empty_graph.execute_query(WIPE, database_=DATABASE)
    again = run(empty_graph, tmp_path / "out")
    assert again.accepted, messages(again)
    assert _archived(empty_graph, "d-old") and not _archived(empty_graph, "d-ka")
    # Nothing may point at it, in the graph or restored with it.
    _refused(empty_graph, tmp_path, {
        "departments.csv": DEPARTMENTS_ARCHIVED + "d-gone,撤销部门,CLIENT,CLIENT,true\n",
        "direct_reports.csv": "fromId,toId,since\nd-gone,d-hq,2020-01-01\n",
    }, "direct_reports.csv:2: column fromId: department 'd-gone' is archived")  # fmt: skip
    _refused(
        empty_graph,
        tmp_path,
        {
            "departments.csv": DEPARTMENTS_ARCHIVED + "d-ka,大客户部,CLIENT,CLIENT,true\n",
        },
        "departments.csv:2: column archived: the graph holds this department active",
    )
    _refused(
        empty_graph,
        tmp_path,
        {"departments.csv": DEPARTMENTS_ARCHIVED + old.replace("true", "false")},
        "departments.csv:2: column archived: the graph holds this department archived",
    )


def test_a_prospect_becomes_active_only_through_the_pipeline(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """As updateClient refuses it (PIPELINE_ONLY): the pipeline credits the manager who won the
    client; an import restating the prospect as an active new client would credit nobody."""
    _small_bank(empty_graph, tmp_path)
    prospect = "c-9,新客户,CORPORATE,NEW,PROSPECT,,2,,\n"
    managed = {"client_managers.csv": "managerId,clientId,role,since\nm-1,c-9,PRIMARY,2024-01-01\n"}
    first = run(
        empty_graph, write_set(tmp_path / "p", {"clients.csv": CLIENTS + prospect, **managed})
    )
    assert first.accepted, messages(first)
    _refused(empty_graph, tmp_path, {
        "clients.csv": CLIENTS + prospect.replace("PROSPECT", "ACTIVE"), **managed,
    }, "clients.csv:2: column status: the client is a prospect in the graph: it becomes an active "
       "new (增量) client only through the development pipeline")  # fmt: skip


def test_a_closed_facility_needs_no_rate(empty_graph: Driver, tmp_path: Path) -> None:
    """A closed facility is in no exposure, and setRiskSettings may drop its currency's rate:
    the export of such a graph still imports, while an open one in that currency is refused."""
    _small_bank(empty_graph, tmp_path)
    header = FACILITIES.rstrip("\n") + ",status,closedOn,closeReason\n"
    closed = "f-9,c-1,LOAN,100.00,0,XYZ,d-ka-east,d-risk,2023-01-01,CLOSED,2024-01-01,结清\n"
    done = run(empty_graph, write_set(tmp_path / "closed", {"facilities.csv": header + closed}))
    assert done.accepted, messages(done)
    _refused(empty_graph, tmp_path, {
        "facilities.csv": header + closed.replace("f-9", "f-10").replace(",CLOSED,2024-01-01,结清", ",ACTIVE,,"),
    }, "facilities.csv:2: column currency: XYZ has no exchange rate")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "file", "row", "invariant", "ids"),
    [
        # d-ka-east moved under d-risk after the check; the file restates it under d-ka.
        (
            "MATCH (e:Department {id: 'd-ka-east'})-[r:DIRECT_REPORT]->() DELETE r WITH e "
            "MATCH (k:Department {id: 'd-risk'}) CREATE (e)-[:DIRECT_REPORT]->(k)",
            "direct_reports.csv",
            {"fromId": "d-ka-east", "toId": "d-ka", "since": "2020-01-01"},
            "SINGLE_PARENT",
            ["d-ka-east"],
        ),
        # d-new archived after the check; the file gives it a new manager.
        (
            "CREATE (:Department {id: 'd-new', name: '新部门', function: 'CLIENT', "
            "model: 'CLIENT', archived: true, version: 0})",
            "managers.csv",
            {"id": "m-3", "name": "赵敏", "level": "ASSISTANT", "education": "BACHELOR",
             "title": "NONE", "creditYears": 0, "departmentId": "d-new", "reportsToId": None,
             "since": "2024-01-01"},
            "NOT_ARCHIVED",
            ["d-new"],
        ),
        # f-1 handed from d-ka-east to d-ka by a merge after the check (d-ka-east archived);
        # the file restates d-ka-east as its granting department.
        (
            "MATCH (e:Department {id: 'd-ka-east'})-[g:GRANTED]->(f:Facility {id: 'f-1'}), "
            "(k:Department {id: 'd-ka'}) CREATE (k)-[:GRANTED {at: g.at}]->(f) DELETE g "
            "SET e.archived = true",
            "facilities.csv",
            {"id": "f-1", "borrowerId": "c-1", "type": "LOAN", "limitCents": 500000000,
             "drawnCents": 100000000, "currency": "CNY", "grantingDepartmentId": "d-ka-east",
             "approvingDepartmentId": "d-risk", "grantedAt": "2023-01-01"},
            "NOT_ARCHIVED",
            ["d-ka-east"],
        ),
        # m-4 deactivated after the check; the file makes it the primary manager of c-4.
        (
            "CREATE (:Manager {id: 'm-4', name: '离职', active: false, version: 0}), "
            "(:Client {id: 'c-4', name: '新客户', kind: 'CORPORATE', segment: 'NEW', "
            "status: 'ACTIVE', version: 0})",
            "client_managers.csv",
            {"managerId": "m-4", "clientId": "c-4", "role": "PRIMARY", "since": "2024-01-01"},
            "PRIMARY_MANAGER_ACTIVE",
            ["c-4"],
        ),
        # A unified limit set on c-3 after the check; the file puts c-3 under c-1.
        (
            "CREATE (:Client {id: 'c-3', name: '丙公司', kind: 'CORPORATE', segment: 'NEW', "
            "status: 'ACTIVE', version: 0, unifiedLimitCents: 100, unifiedLimitCurrency: 'CNY'})",
            "controls.csv",
            {"fromId": "c-1", "toId": "c-3", "share": 60.0, "basis": "EQUITY"},
            "UNIFIED_LIMIT_ON_TOP",
            ["c-3"],
        ),
        # c-3 given a unified limit, and stakes in it of 30% by c-1 and of 25% by c-5, after the
        # check; the file makes c-1 control c-5, so c-1's stakes add up to control of c-3.
        (
            "CREATE (c3:Client {id: 'c-3', name: '丙公司', kind: 'CORPORATE', segment: 'NEW', "
            "status: 'ACTIVE', version: 0, unifiedLimitCents: 100, unifiedLimitCurrency: 'CNY'}), "
            "(c5:Client {id: 'c-5', name: '戊公司', kind: 'CORPORATE', segment: 'NEW', "
            "status: 'ACTIVE', version: 0}), (c5)-[:CONTROLS {share: 25.0, basis: 'EQUITY'}]->(c3) "
            "WITH c3 MATCH (c1:Client {id: 'c-1'}) "
            "CREATE (c1)-[:CONTROLS {share: 30.0, basis: 'EQUITY'}]->(c3)",
            "controls.csv",
            {"fromId": "c-1", "toId": "c-5", "share": 60.0, "basis": "EQUITY"},
            "UNIFIED_LIMIT_ON_TOP",
            ["c-3"],
        ),
        # c-1's control of c-2 stands (it was drawn after the check, say); the file sets c-2 a
        # unified limit.
        (
            "MATCH (c:Client {id: 'c-2'}) SET c.version = c.version",
            "clients.csv",
            {"id": "c-2", "name": "华东贸易", "kind": "CORPORATE", "segment": "NEW",
             "status": "ACTIVE", "grade": None, "riskRating": 2, "industry": None, "region": None,
             "unifiedLimitCents": 100, "unifiedLimitCurrency": "CNY"},
            "GROUP_TOP",
            ["c-2"],
        ),
        # f-1's limit lowered to 3,000,000.00 after the check; the file raises c-2's guarantee.
        (
            "MATCH (f:Facility {id: 'f-1'}) SET f.limitCents = 300000000",
            "guarantees.csv",
            {"guarantorId": "c-2", "facilityId": "f-1", "amountCents": 400000000},
            "GUARANTEE_WITHIN_LIMIT",
            ["f-1"],
        ),
    ],
)  # fmt: skip
def test_a_batch_checks_again_what_a_mutation_changed_since_the_check(
    empty_graph: Driver, tmp_path: Path, change: str, file: str, row: dict[str, object],
    invariant: str, ids: list[str],
) -> None:  # fmt: skip
    """Batches of the files restructurings, control links and credit mutations also change take
    their locks and check those invariants again: a change committed between the import's check
    and its batch (here, before the batch) stops the import there, with nothing of it written."""
    _small_bank(empty_graph, tmp_path)
    empty_graph.execute_query(change, database_=DATABASE)
    before = graph_snapshot(empty_graph)
    with (
        empty_graph.session(database=DATABASE) as session,
        pytest.raises(ImportConflict) as refused,
    ):
        session.execute_write(_apply_batch, TABLES_BY_FILE[file], [row], "importer")
    assert (refused.value.file, refused.value.invariant, refused.value.ids) == (
        file, invariant, ids,
    )  # fmt: skip
    assert graph_snapshot(empty_graph) == before
    # Restating what the graph holds is still a no-op.
    with empty_graph.session(database=DATABASE) as session:
        counts_ = session.execute_write(
            _apply_batch, TABLES_BY_FILE["direct_reports.csv"],
            [{"fromId": "d-ka", "toId": "d-hq", "since": "2020-01-01"}], "importer",
        )  # fmt: skip
    assert (counts_.created, counts_.updated) == (0, 0)


def test_a_controls_batch_is_refused_only_for_limits_it_moves(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """c-3 holds a unified limit while c-1 controls it (older data: off its group's top). A
    controls.csv batch from c-1 that moves no limit is written, as relateClients would take
    the link: the limit was off the top before the batch."""
    _small_bank(empty_graph, tmp_path)
    empty_graph.execute_query(
        "MATCH (c1:Client {id: 'c-1'}) CREATE (c1)-[:CONTROLS {share: 60.0, basis: 'EQUITY'}]->"
        "(:Client {id: 'c-3', name: '丙公司', kind: 'CORPORATE', segment: 'NEW', "
        "status: 'ACTIVE', version: 0, unifiedLimitCents: 100, unifiedLimitCurrency: 'CNY'})",
        database_=DATABASE,
    )
    row = {"fromId": "c-1", "toId": "c-2", "share": 70.0, "basis": "EQUITY"}
    with empty_graph.session(database=DATABASE) as session:
        written = session.execute_write(
            _apply_batch, TABLES_BY_FILE["controls.csv"], [row], "importer"
        )
    assert written.created + written.updated == 1
    assert rows_of(
        empty_graph,
        "MATCH (:Client {id: 'c-1'})-[r:CONTROLS]->(:Client {id: 'c-2'}) RETURN r.share AS share",
    ) == [{"share": 70.0}]


def test_a_holding_s_consent_goes_through_export_and_import(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """holdings.csv's `consented` (added later): false marks a holding opened without consent,
    an empty cell or a file without the column keeps the graph's, and the export writes it."""
    _small_bank(empty_graph, tmp_path)
    header = "clientId,productId,balance,since,active,consented\n"
    marked = run(empty_graph, write_set(tmp_path / "marked", {
        "holdings.csv": header + "c-1,p-dep,1000000.50,2020-02-01,true,false\n",
    }))  # fmt: skip
    assert marked.accepted and counts(marked)["holdings.csv"] == (1, 0, 1, 0, 0)
    for name, files in (
        ("empty", {"holdings.csv": header + "c-1,p-dep,1000000.50,2020-02-01,true,\n"}),
        ("older", {"holdings.csv": SMALL_BANK["holdings.csv"]}),
    ):
        kept = run(empty_graph, write_set(tmp_path / name, files))
        assert kept.accepted and counts(kept)["holdings.csv"][1:3] == (0, 0), name
    export_csv(empty_graph, DATABASE, tmp_path / "export")
    lines = (tmp_path / "export" / "holdings.csv").read_text().splitlines()
    assert lines[0] == header.strip()
    assert "c-1,p-dep,1000000.50,2020-02-01,true,false" in lines
    assert "c-2,p-dep,20.00,2021-02-01,false,true" in lines


def _blocked(driver: Driver) -> int:
    return len(rows_of(driver, "SHOW TRANSACTIONS YIELD status "
                       "WHERE status STARTS WITH 'Blocked' RETURN status"))  # fmt: skip


def _waits_for_lock(driver: Driver, lock_id: str, write: Callable[[Session], object]) -> object:
    """`write` runs in its own session while another transaction holds the lock `lock_id`, as
    a competing mutation would: it must be seen waiting for that lock (and for nothing else the
    holder touched: it touched nothing else), then run once the holder lets go."""
    done: list[object] = []

    def run_write() -> None:
        with driver.session(database=DATABASE) as session:
            try:
                done.append(write(session))
            except Exception as error:  # reported below, in the test's thread
                done.append(error)

    with driver.session(database=DATABASE) as holder_session:
        holder = holder_session.begin_transaction()
        holder.run(LOCK, id=lock_id).consume()
        thread = threading.Thread(target=run_write)
        thread.start()
        blocked = 0
        for _ in range(500):
            if (blocked := _blocked(driver)) or done:
                break
            time.sleep(0.02)
        holder.rollback()
    thread.join(60)
    assert not thread.is_alive()
    assert blocked == 1, ("the batch did not wait for the lock", done)
    [result] = done
    assert not isinstance(result, BaseException), result
    return result


@pytest.mark.parametrize(
    ("file", "row", "lock_id"),
    [
        ("direct_reports.csv", {"fromId": "d-ka-east", "toId": "d-ka", "since": "2021-01-01"},
         "org"),
        ("managers.csv",
         {"id": "m-2", "name": "王芳", "level": "MANAGER", "education": "BACHELOR",
          "title": "NONE", "creditYears": 3, "departmentId": "d-ka-east", "reportsToId": "m-1",
          "since": "2021-03-01"},
         "org"),
        ("client_managers.csv",
         {"managerId": "m-1", "clientId": "c-2", "role": "SECONDARY", "since": "2024-01-01"},
         "org"),
        ("facilities.csv",
         {"id": "f-2", "borrowerId": "c-2", "type": "ACCEPTANCE", "limitCents": 20000,
          "drawnCents": 0, "currency": "CNY", "grantingDepartmentId": "d-ka",
          "approvingDepartmentId": None, "grantedAt": "2023-02-01"},
         "org"),
        ("clients.csv",
         {"id": "c-2", "name": "华东贸易", "kind": "CORPORATE", "segment": "NEW",
          "status": "ACTIVE", "grade": None, "riskRating": 3, "industry": None, "region": None,
          "unifiedLimitCents": None, "unifiedLimitCurrency": None},
         CONTROL_CYCLES),
        ("controls.csv", {"fromId": "c-1", "toId": "c-2", "share": 70.0, "basis": "EQUITY"},
         CONTROL_CYCLES),
    ],
)  # fmt: skip
def test_a_batch_waits_for_the_lock_its_competing_mutations_take(
    empty_graph: Driver, tmp_path: Path, file: str, row: dict[str, object], lock_id: str
) -> None:
    """A batch changing what restructurings change waits for the organisation's lock, and one
    changing what relateClients and setUnifiedLimit change waits for the control links' lock:
    without it, its re-checks would read the graph while such a mutation is half done."""
    _small_bank(empty_graph, tmp_path)
    written = _waits_for_lock(empty_graph, lock_id, lambda session: session.execute_write(
        _apply_batch, TABLES_BY_FILE[file], [row], "importer",
    ))  # fmt: skip
    assert isinstance(written, BatchCounts)
    assert written.created + written.updated == 1


def test_reporting_lines_wait_for_the_lock_update_manager_takes(
    empty_graph: Driver, tmp_path: Path
) -> None:
    _small_bank(empty_graph, tmp_path)
    _waits_for_lock(empty_graph, REPORTING_LINES, lambda session: session.execute_write(
        _write_reporting_lines, [{"id": "m-2", "reportsToId": None}], "importer", 1,
    ))  # fmt: skip
    assert rows_of(empty_graph, "MATCH (:Manager {id: 'm-2'})-[r:REPORTS_TO]->() RETURN r") == []


def test_reporting_lines_check_again_what_a_mutation_changed_since_the_check(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """m-2 reports to m-1. After the check, updateManager has m-1 report to m-3, a manager the
    file has report to m-2: a cycle, which the lines' batch refuses, writing nothing."""
    _small_bank(empty_graph, tmp_path)
    empty_graph.execute_query(
        "MATCH (m1:Manager {id: 'm-1'}) CREATE (m1)-[:REPORTS_TO]->(:Manager {id: 'm-3', "
        "name: '张三', active: true, version: 0})",
        database_=DATABASE,
    )
    before = graph_snapshot(empty_graph)
    with (
        empty_graph.session(database=DATABASE) as session,
        pytest.raises(ImportConflict) as refused,
    ):
        session.execute_write(
            _write_reporting_lines, [{"id": "m-3", "reportsToId": "m-2"}], "importer", 1
        )
    assert (refused.value.invariant, refused.value.ids) == ("REPORTING_FOREST", ["m-3"])
    assert graph_snapshot(empty_graph) == before


def test_rows_that_agree_only_together_may_fall_in_different_batches(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """What the check accepted for the whole file is not refused half way: a transfer whose two
    rows fall in two batches (between them c-1 has no primary manager), a guarantee lowered in
    the batch after the limit, and two reporting lines swapped (m-1 under m-2, m-2 under none:
    between the rows, a cycle)."""
    _small_bank(empty_graph, tmp_path)
    folder = write_set(tmp_path / "together", {
        "client_managers.csv": "managerId,clientId,role,since\n"
        "m-1,c-1,SECONDARY,2020-01-01\nm-2,c-1,PRIMARY,2022-01-01\n",
        "facilities.csv": FACILITIES
        + "f-1,c-1,LOAN,2000000.00,1000000.00,CNY,d-ka-east,d-risk,2023-01-01\n",
        "guarantees.csv": "guarantorId,facilityId,amount\nc-2,f-1,2000000.00\n",
        "managers.csv": MANAGERS + "m-1,李军,SENIOR,MASTER,MIDDLE,6,d-ka,m-2,2019-01-01\n"
        "m-2,王芳,MANAGER,BACHELOR,NONE,2,d-ka-east,,2021-03-01\n",
    })  # fmt: skip
    report = import_csv(empty_graph, DATABASE, folder, batch_size=1)
    assert report.accepted, messages(report)
    assert rows_of(empty_graph, "MATCH (m:Manager)-[r:MANAGES]->(:Client {id: 'c-1'}) "
                   "RETURN m.id AS m, r.role AS role ORDER BY m") == [
        {"m": "m-1", "role": "SECONDARY"}, {"m": "m-2", "role": "PRIMARY"},
    ]  # fmt: skip
    assert rows_of(empty_graph, "MATCH (m:Manager) OPTIONAL MATCH (m)-[:REPORTS_TO]->(b) "
                   "RETURN m.id AS m, b.id AS boss ORDER BY m") == [
        {"m": "m-1", "boss": "m-2"}, {"m": "m-2", "boss": None},
    ]  # fmt: skip
