"""Exposures in several currencies are added up in the reporting currency, at the rates of the
risk settings; without a rate they are refused by name rather than added as they are."""

from __future__ import annotations

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


async def test_a_currency_without_a_rate_is_refused_by_name(two_currencies: Driver, db: Db) -> None:
    assert (await _set(db, []))["fxRates"] == []
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
    await _set(db, [])
    data, errors, _ = await execute(db, page)
    assert data == {"client": {"name": "客户X", "group": None}}
    [error] = errors
    assert error.extensions == {"code": "FX_RATE_MISSING", "currencies": ["USD"]}
    # Only the credit totals need a rate: the rest of the group answers without one.
    data, errors, _ = await execute(db, '{ client(id: "X") { group { memberCount } } }')
    assert errors == [] and data == {"client": {"group": {"memberCount": 2}}}
