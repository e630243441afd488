"""Products per client: distinct products in active, consented holdings per active client (a
holding found opened without the client's consent stays on record but is not counted).

The ratio is over every active client in scope, a client holding nothing included (as a bank's
cross-sell ratio is counted per customer, and as the managers' performance figures count it).
Scopes: one manager's clients (as primary manager), a department (clients whose primary manager
is in its direct subtree, so figures roll up), or the whole bank. Each scope has its own
statement, starting from the manager or department rather than from every client. Asked for a
relationship manager (`visible_to`), only the clients in that manager's book count, whatever the
scope: the book is read from the manager's end, then held to the scope.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Final, LiteralString

from graph.clients import IN_DEPARTMENT
from graph.db import Db
from graph.models import GraphModel
from graph.visibility import BOOK, VISIBLE_TO_MANAGER


class Scope(Enum):
    BANK = "bank"
    MANAGER = "manager"
    DEPARTMENT = "department"


_COUNT: Final[LiteralString] = """
WITH c, COUNT { MATCH (c)-[h:HOLDS]->(p:Product) WHERE h.active AND coalesce(h.consented, true)
               RETURN DISTINCT p } AS products
WITH count(c) AS clients, sum(CASE WHEN products > 0 THEN 1 ELSE 0 END) AS holding,
     sum(products) AS holdings, max(products) AS most
RETURN clients, holding, holdings, coalesce(most, 0) AS most
"""
# One manager's active clients, as their primary manager.
_MANAGERS_CLIENTS: Final[LiteralString] = (
    "MATCH (:Manager {id: $managerId})-[:MANAGES {role: 'PRIMARY'}]->"
    "(c:Client {status: 'ACTIVE'}) WITH DISTINCT c"
)
STATS: Final[dict[Scope, LiteralString]] = {
    Scope.BANK: "MATCH (c:Client {status: 'ACTIVE'})" + _COUNT,
    Scope.MANAGER: _MANAGERS_CLIENTS + _COUNT,
    Scope.DEPARTMENT: "MATCH (:Department {id: $departmentId})<-[:DIRECT_REPORT*0..]-(:Department)"
    "<-[:MEMBER_OF]-(:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c:Client {status: 'ACTIVE'})"
    " WITH DISTINCT c" + _COUNT,
}
# Asked by a manager (`$visibleTo`): the clients of their book within the scope. One manager's
# clients are few and each is checked; a department's or the bank's start from the book, read
# from the asking manager's end (testing every client of a large subtree took a second).
_IN_BOOK: Final[LiteralString] = (
    BOOK
    + "WITH c WHERE c.status = 'ACTIVE' AND ($departmentId IS NULL OR "
    + IN_DEPARTMENT
    + ")"
    + _COUNT
)
STATS_IN_BOOK: Final[dict[Scope, LiteralString]] = {
    Scope.BANK: _IN_BOOK,
    Scope.MANAGER: _MANAGERS_CLIENTS + " WHERE " + VISIBLE_TO_MANAGER + _COUNT,
    Scope.DEPARTMENT: _IN_BOOK,
}

SCOPE_EXISTS: Final[LiteralString] = """
RETURN ($managerId IS NULL OR EXISTS { MATCH (:Manager {id: $managerId}) })
   AND ($departmentId IS NULL OR EXISTS { MATCH (:Department {id: $departmentId}) }) AS ok
"""


class ProductsPerClient(GraphModel):
    active_clients: int
    clients_with_products: int
    holdings: int
    products_per_client: Decimal  # holdings / active clients, to 2 places
    most: int


async def get_products_per_client(
    db: Db, manager_id: str | None, department_id: str | None, visible_to: str | None = None
) -> ProductsPerClient | None:
    """None when the named manager or department does not exist."""
    params = {"managerId": manager_id, "departmentId": department_id, "visibleTo": visible_to}
    [exists] = await db.read(SCOPE_EXISTS, params)
    if not exists["ok"]:
        return None
    scope = Scope.MANAGER if manager_id else Scope.DEPARTMENT if department_id else Scope.BANK
    [row] = await db.read(STATS[scope] if visible_to is None else STATS_IN_BOOK[scope], params)
    clients = row["clients"]
    ratio = Decimal(row["holdings"]) / Decimal(clients) if clients else Decimal(0)
    return ProductsPerClient(
        active_clients=row["clients"],
        clients_with_products=row["holding"],
        holdings=row["holdings"],
        products_per_client=ratio.quantize(Decimal("0.01")),
        most=row["most"],
    )
