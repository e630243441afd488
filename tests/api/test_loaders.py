"""The request's DataLoaders: made on first use, released when the operation is done."""

from __future__ import annotations

from neo4j import Driver

from api.loaders import Loaders
from graph.db import Db
from tests.gql import execute


def _made(loaders: Loaders) -> set[str]:
    return {name for name in vars(loaders) if name not in {"db", "visible_to"}}


def test_a_loader_is_made_on_first_use_and_anew_after_release(db: Db) -> None:
    loaders = Loaders(db, visible_to="mgr-001")
    assert _made(loaders) == set()
    client = loaders.client
    assert loaders.client is client and _made(loaders) == {"client"}
    loaders.release()
    assert _made(loaders) == set()
    assert loaders.client is not client
    assert loaders.db is db and loaders.visible_to == "mgr-001"


async def test_an_operation_releases_its_loaders_when_done(demo_bank: Driver, db: Db) -> None:
    query = """{ client(id: "cli-hdsteel") { name primaryManager { name department { name } }
      holdings { product { name } } group { members { name } } } }"""
    data, errors, ctx = await execute(db, query)
    assert errors == [] and data is not None
    # The page used loaders (its nested fields came through them), and none is left holding them.
    assert data["client"]["primaryManager"]["department"]["name"]
    assert data["client"]["holdings"] and data["client"]["group"]["members"]
    assert _made(ctx.loaders) == set()
