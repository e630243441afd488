"""Whole-bank searches take turns on a worker's few slots; a request that cannot get one within
the transaction timeout gets the typed timeout error instead of waiting without end."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from neo4j import Driver

from api.context import Context
from graph.db import Db
from graph.errors import QueryTimeout
from schema.build import schema
from tests.gql import ADMIN


async def test_a_search_waits_for_a_slot_then_times_out(demo_bank: Driver, db: Db) -> None:
    # The short limit is for the wait; the reads that run under it are planned first, so that
    # planning (a second or more on a cold cache) does not take it up.
    dept = '{ dept: productsPerClient(departmentId: "dept-approval") { activeClients } }'
    planned = Context(db=db, request_id="p", principal=ADMIN, whole_bank=asyncio.Semaphore(1))
    for warm_up in (dept, "{ guaranteeCircles { circleCount } }"):
        result = await schema.execute(warm_up, context_value=planned)
        assert result.errors is None, result.errors
    quick = dataclasses.replace(db, tx_timeout=0.2)
    slots = asyncio.Semaphore(1)
    first = Context(db=quick, request_id="a", principal=ADMIN, whole_bank=slots)
    second = Context(db=quick, request_id="b", principal=ADMIN, whole_bank=slots)
    async with first.whole_bank_slot():
        with pytest.raises(QueryTimeout):
            async with second.whole_bank_slot():
                pass
        result = await schema.execute("{ guaranteeCircles { circleCount } }", context_value=second)
        assert result.errors and (result.errors[0].extensions or {}).get("code") == "TIMEOUT"
        # The bank's products per client reads every client too; a manager's or a
        # department's figure starts from them and needs no slot.
        result = await schema.execute(
            "{ bank: productsPerClient { holdings } "
            'dept: productsPerClient(departmentId: "dept-approval") { activeClients } }',
            context_value=second,
        )
        assert result.errors and (result.errors[0].extensions or {}).get("code") == "TIMEOUT"
        assert result.errors[0].path == ["bank"]
        assert result.data is not None and result.data["bank"] is None
        assert result.data["dept"] is not None
    # Released: the next search runs.
    result = await schema.execute("{ guaranteeCircles { circleCount } }", context_value=second)
    assert result.errors is None and result.data == {"guaranteeCircles": {"circleCount": 2}}
