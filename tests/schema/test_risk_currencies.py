"""Exposures in several currencies are added up in the reporting currency, at the rates of the
risk settings; without a rate they are refused by name rather than added as they are."""

from __future__ import annotations

import json
from typing import Any

import pytest
from neo4j import Driver

from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute
from tests.schema.test_risk import _client, _exposure, _facility, _small_bank

RATES = """mutation ($rates: [FxRateInput!], $currency: String) {
  setRiskSettings(input: {profile: CN_2018, tier1Capital: "10000.00", netCapital: "12000.00",
                          currency: $currency, fxRates: $rates}) {
    __typename ... on CapitalBase { currency fxRates { currency rate } }
    ... on ValidationError { field message }
  }
}"""
LARGEST = "{ largestExposures { root { id } direct indirect total } }"
CIRCLES = "{ guaranteeCircles { mutualPairs { memberIds guaranteed exposure } } }"


def _usd(fid: str, borrower: str, limit: int, drawn: int = 0) -> Any:
    facility = _facility(fid, borrower, "LOAN", limit, drawn, "d-ka", "d-appr")
    facility["currency"] = "USD"
    return facility


@pytest.fixture
def two_currencies(empty_graph: Driver) -> Driver:
    """P borrows 1,000 CNY and 100 USD (10 drawn); X borrows 50 USD. P guarantees 40 USD of
    X's facility and X 20 USD of P's: a mutual pair."""
    bank = _small_bank(
        [_client("P"), _client("X")],
        [_facility("fP1", "P", "LOAN", 1000, 0, "d-ka", "d-appr"), _usd("fP2", "P", 100, 10),
         _usd("fX", "X", 50)],
        [],
    )  # fmt: skip
    bank.guarantees = [
        {"guarantorId": "P", "facilityId": "fX", "amountCents": 4000},
        {"guarantorId": "X", "facilityId": "fP2", "amountCents": 2000},
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    return empty_graph


async def _set(db: Db, rates: list[dict[str, str]] | None, currency: str | None = None) -> Any:
    data, errors, _ = await execute(db, RATES, {"rates": rates, "currency": currency})
    assert errors == [] and data is not None
    return data["setRiskSettings"]


async def test_sums_are_in_the_reporting_currency(two_currencies: Driver, db: Db) -> None:
    saved = await _set(db, [{"currency": "USD", "rate": "7.10"}])
    assert saved == {"__typename": "CapitalBase", "currency": "CNY",
                     "fxRates": [{"currency": "USD", "rate": "7.10"}]}  # fmt: skip
    e = await _exposure(db, "P", 1)
    # 1,000 CNY + 100 USD × 7.10; P's 40 USD guarantee of X's facility × 7.10.
    assert (e["direct"], e["indirect"], e["total"], e["drawn"]) == (
        "1710.00", "284.00", "1994.00", "71.00",
    )  # fmt: skip
    usage = {u["rule"]: u["amount"] for u in e["limitUsage"]}
    assert usage == {"SINGLE_CLIENT": "1994.00", "SINGLE_CLIENT_LOANS": "1710.00"}
    data, errors, _ = await execute(db, LARGEST)
    assert errors == [] and data is not None
    assert data["largestExposures"] == [
        {"root": {"id": "P"}, "direct": "1710.00", "indirect": "284.00", "total": "1994.00"},
        {"root": {"id": "X"}, "direct": "355.00", "indirect": "142.00", "total": "497.00"},
    ]
    data, errors, _ = await execute(db, CIRCLES)
    assert errors == [] and data is not None
    assert data["guaranteeCircles"]["mutualPairs"] == [
        {"memberIds": ["P", "X"], "guaranteed": "426.00", "exposure": "2065.00"}
    ]


def _drop_rates(driver: Driver) -> None:
    """Rates that no longer cover the money in the graph, as a graph from before the check on
    setRiskSettings may hold them: the reads still refuse by name rather than add them up."""
    driver.execute_query(
        "MERGE (s:RiskSettings {id: 'risk-settings'}) SET s.profile = 'CN_2018', "
        "s.tier1CapitalCents = 1000000, s.netCapitalCents = 1200000, s.currency = 'CNY', "
        "s.fxCurrencies = [], s.fxRates = []",
        database_=DATABASE,
    )


async def test_the_rates_keep_covering_the_money_held(two_currencies: Driver, db: Db) -> None:
    await _set(db, [{"currency": "USD", "rate": "7.10"}])
    before = graph_snapshot(two_currencies)
    for rates, currency in (([], None), ([{"currency": "EUR", "rate": "7.8"}], None),
                            ([{"currency": "EUR", "rate": "1.1"}], "USD")):  # fmt: skip
        refused = await _set(db, rates, currency)
        assert refused["__typename"] == "ValidationError" and refused["field"] == "fxRates"
        assert "open facilities or unified limits are in" in refused["message"]
        assert graph_snapshot(two_currencies) == before
    # Once the USD facilities are closed, their rate may go.
    two_currencies.execute_query(
        "MATCH (f:Facility) WHERE f.currency = 'USD' SET f.status = 'CLOSED'", database_=DATABASE
    )
    assert (await _set(db, []))["fxRates"] == []


async def test_money_comes_in_only_in_a_currency_with_a_rate(
    two_currencies: Driver, db: Db
) -> None:
    await _set(db, [{"currency": "USD", "rate": "7.10"}])
    before = graph_snapshot(two_currencies)
    facility = """mutation { createFacility(input: {id: "fN", borrowerId: "P", type: LOAN,
      limit: "10.00", currency: "USN", grantingDepartmentId: "d-ka"}) {
      __typename ... on ValidationError { field message } } }"""
    unified = """mutation { setUnifiedLimit(input: {clientId: "P", limit: "10.00",
      currency: "USN"}) { __typename ... on ValidationError { field message } } }"""
    for mutation, name in ((facility, "createFacility"), (unified, "setUnifiedLimit")):
        data, errors, _ = await execute(db, mutation)
        assert errors == [] and data is not None
        assert data[name] == {
            "__typename": "ValidationError", "field": "currency",
            "message": "USN has no exchange rate to CNY, the reporting currency: an admin sets "
                       "one first (setRiskSettings fxRates)",
        }  # fmt: skip
    assert graph_snapshot(two_currencies) == before
    data, errors, _ = await execute(db, facility.replace("USN", "USD"))
    assert errors == [] and data == {"createFacility": {"__typename": "FacilitySuccess"}}


async def test_a_currency_without_a_rate_is_refused_by_name(two_currencies: Driver, db: Db) -> None:
    _drop_rates(two_currencies)
    for query in ('{ creditExposure(clientId: "P") { total } }', LARGEST, CIRCLES):
        _, errors, _ = await execute(db, query)
        [error] = errors
        assert error.extensions == {"code": "FX_RATE_MISSING", "currencies": ["USD"]}, query
        assert "setRiskSettings" in error.message
    # Rates left out are kept.
    await _set(db, [{"currency": "USD", "rate": "7"}])
    assert (await _set(db, None))["fxRates"] == [{"currency": "USD", "rate": "7"}]
    assert (await _exposure(db, "P", 1))["direct"] == "1700.00"


async def test_the_reporting_currency_can_change(two_currencies: Driver, db: Db) -> None:
    saved = await _set(db, [{"currency": "CNY", "rate": "0.14"}], currency="USD")
    assert (saved["currency"], saved["fxRates"]) == ("USD", [{"currency": "CNY", "rate": "0.14"}])
    # 1,000 CNY × 0.14 + 100 USD.
    assert (await _exposure(db, "P", 1))["direct"] == "240.00"


@pytest.mark.parametrize(
    ("rates", "currency", "field"),
    [
        ([{"currency": "USD", "rate": "7.1"}, {"currency": "USD", "rate": "7.2"}], None,
         "fxRates"),
        ([{"currency": "USD", "rate": "0"}], None, "fxRates"),
        ([{"currency": "USD", "rate": "NaN"}], None, "fxRates"),
        ([{"currency": "USD", "rate": "7.123456789"}], None, "fxRates"),
        ([{"currency": "CNY", "rate": "1"}], None, "fxRates"),
        ([{"currency": "usd", "rate": "7"}], None, "fxRates"),
        (None, "yuan", "currency"),
        # A new reporting currency needs its own rates: the kept ones are to CNY.
        (None, "USD", "fxRates"),
        (None, "EUR", "fxRates"),
    ],
)  # fmt: skip
async def test_bad_rates_are_refused_and_change_nothing(
    two_currencies: Driver, db: Db, rates: list[dict[str, str]] | None, currency: str | None,
    field: str,
) -> None:  # fmt: skip
    await _set(db, [{"currency": "USD", "rate": "7.10"}])
    before = graph_snapshot(two_currencies)
    refused = await _set(db, rates, currency)
    assert (refused["__typename"], refused["field"]) == ("ValidationError", field), refused
    assert graph_snapshot(two_currencies) == before


async def test_a_group_s_credit_on_the_client_page_is_in_the_reporting_currency(
    two_currencies: Driver, db: Db
) -> None:
    two_currencies.execute_query(
        "MATCH (p:Client {id: 'P'}), (x:Client {id: 'X'}) "
        "CREATE (p)-[:CONTROLS {share: 80.0, basis: 'EQUITY'}]->(x)",
        database_=DATABASE,
    )
    page = '{ client(id: "X") { name group { memberCount totalFacilities totalDrawn } } }'
    await _set(db, [{"currency": "USD", "rate": "7.10"}])
    data, errors, _ = await execute(db, page)
    assert errors == [] and data is not None
    # 1,000 CNY + 100 USD + 50 USD at 7.10; drawn 10 USD.
    assert data["client"]["group"] == {
        "memberCount": 2, "totalFacilities": "2065.00", "totalDrawn": "71.00",
    }  # fmt: skip
    _drop_rates(two_currencies)
    data, errors, _ = await execute(db, page)
    assert data == {"client": {"name": "客户X", "group": None}}
    [error] = errors
    assert error.extensions == {"code": "FX_RATE_MISSING", "currencies": ["USD"]}
    # Only the credit totals need a rate: the rest of the group answers without one.
    data, errors, _ = await execute(db, '{ client(id: "X") { group { memberCount } } }')
    assert errors == [] and data == {"client": {"group": {"memberCount": 2}}}


AUDIT = """query ($id: ID!) { auditLog(nodeId: $id, first: 5) {
  records { action actor before after } } }"""


async def _audit(db: Db, node_id: str) -> list[dict[str, Any]]:
    data, errors, _ = await execute(db, AUDIT, {"id": node_id})
    assert errors == [] and data is not None
    return [
        {**r, "before": json.loads(r["before"]), "after": json.loads(r["after"])}
        for r in data["auditLog"]["records"]
    ]


async def test_settings_changes_are_audited(two_currencies: Driver, db: Db) -> None:
    # The capital base and rates decide which limits are breached: each change keeps what was.
    await _set(db, [{"currency": "USD", "rate": "7.10"}])
    await _set(db, [{"currency": "USD", "rate": "7.25"}, {"currency": "EUR", "rate": "7.9"}])
    [second, first] = await _audit(db, "risk-settings")
    assert second["action"] == first["action"] == "setRiskSettings"
    assert second["before"] == first["after"] == {
        "profile": "CN_2018", "tier1Capital": "10000.00", "netCapital": "12000.00",
        "currency": "CNY", "fxRates": {"USD": "7.10"},
    }  # fmt: skip
    assert second["after"]["fxRates"] == {"EUR": "7.9", "USD": "7.25"}
    assert first["before"]["tier1Capital"] == "40000000000.00"  # the defaults, never set
    thresholds = """mutation { setKeyAccountThresholds(input: {aPurchases: "2000000.00",
      aShare: 0.2, bPurchases: "500000.00", bShare: 0.05, cPurchases: "100000.00"}) {
      __typename } }"""
    data, errors, _ = await execute(db, thresholds)
    assert errors == [] and data is not None
    [record] = await _audit(db, "key-accounts")
    assert record["action"] == "setKeyAccountThresholds"
    assert record["after"]["aPurchasesCents"] == 200000000
    assert record["before"]["aPurchasesCents"] != 200000000
