"""The app runs unchanged against a routing (`neo4j://`) URI, which a cluster would need."""

from __future__ import annotations

from neo4j import Driver
from starlette.testclient import TestClient

from api.app import create_app
from graph.local_server import Connection
from graph.settings import Neo4jSettings
from tests.conftest import bearer


def test_neo4j_scheme_serves_reads_through_routing(
    neo4j_conn: Connection, demo_bank: Driver
) -> None:
    uri = neo4j_conn.uri.replace("bolt://", "neo4j://", 1)
    settings = Neo4jSettings(uri=uri, user=neo4j_conn.user, password=neo4j_conn.password)
    with TestClient(create_app(settings), headers=bearer()) as client:
        response = client.post("/graphql", json={"query": '{ client(id: "cli-hdsteel") { name } }'})
        assert response.json() == {"data": {"client": {"name": "华东钢铁集团有限公司"}}}
        assert client.get("/readyz").status_code == 200
