"""A client page in one round trip: the client, its managers and their departments up to the
root, holdings with products, facilities with their departments, linked clients and the group.

Every list is capped. The result carries the nodes it touched so the request's DataLoaders can be
primed with them, and nested fields resolve without going back to the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, LiteralString

from graph.client_group import GROUP_SUBQUERY, MEMBER_CAP, ClientGroup, group_from_map
from graph.client_links import (
    FACILITY_FIELDS,
    FACILITY_ORDER,
    LINKS_OF_CLIENT,
    facility_from_map,
    link_from_map,
)
from graph.clients import CLIENT_FIELDS
from graph.db import Db
from graph.departments import DEPARTMENT_FIELDS
from graph.managers import MANAGER_FIELDS
from graph.models import (
    Client,
    ClientLink,
    ClientLinkKind,
    Department,
    Facility,
    Holding,
    LinkDirection,
    Manager,
    ManagerAssignment,
    Product,
    cents_to_decimal,
)
from graph.products import PRODUCT_FIELDS
from graph.risk_settings import SETTINGS_ID
from graph.visibility import visible_to_manager

CLIENT_PAGE: Final[LiteralString] = (
    "MATCH (c:Client {id: $clientId}) "
    + "CALL (c) { "
    + LINKS_OF_CLIENT
    + " RETURN links, total AS linkTotal } "
    + GROUP_SUBQUERY
    + """
CALL (c) {
  OPTIONAL MATCH (m:Manager)-[r:MANAGES]->(c)
  WITH m, r ORDER BY r.role, m.id
  RETURN collect(CASE WHEN m IS NULL THEN null ELSE {
    managerId: m.id, role: r.role, since: r.since, manager: m """
    + MANAGER_FIELDS
    + """,
    departmentId: COLLECT { MATCH (m)-[:MEMBER_OF]->(d:Department) RETURN d.id }[0]
  } END) AS assignments
}
CALL (c) {
  OPTIONAL MATCH (c)<-[:MANAGES]-(:Manager)-[:MEMBER_OF]->(d:Department)
  WITH DISTINCT d WHERE d IS NOT NULL
  OPTIONAL MATCH path = (d)-[:DIRECT_REPORT*1..32]->(root:Department)
  WHERE NOT (root)-[:DIRECT_REPORT]->()
  RETURN collect({departmentId: d.id,
                  chain: CASE WHEN path IS NULL THEN [d] ELSE nodes(path) END}) AS paths
}
CALL (c) {
  OPTIONAL MATCH (c)-[h:HOLDS]->(p:Product)
  WHERE h.active OR $includeClosed
  WITH h, p ORDER BY h.balanceCents DESC, p.id LIMIT $holdingsCap
  RETURN collect(CASE WHEN p IS NULL THEN null ELSE {
    productId: p.id, balanceCents: h.balanceCents, since: h.since, active: h.active,
    consented: coalesce(h.consented, true),
    product: p """
    + PRODUCT_FIELDS
    + """} END) AS holdings
}
CALL (c) {
  OPTIONAL MATCH (c)-[:BORROWS]->(f:Facility)
  WITH f ORDER BY """
    + FACILITY_ORDER
    + """ LIMIT $facilitiesCap
  RETURN collect(f """
    + FACILITY_FIELDS
    + """) AS facilities
}
CALL (c) {
  OPTIONAL MATCH (c)-[:BORROWS]->(:Facility)<-[:GRANTED|APPROVED]-(d:Department)
  RETURN collect(DISTINCT d) AS facilityDepartments
}
// For a manager, which of these clients are in the book (CASE: the check only runs for one).
CALL (links, group) {
  UNWIND [link IN links | link.otherId] + coalesce(group.memberIds, []) AS otherId
  MATCH (o:Client {id: otherId})
  WITH DISTINCT o
  RETURN collect(o """
    + CLIENT_FIELDS
    + """) AS linkedClients,
         CASE WHEN $visibleTo IS NULL THEN null
              ELSE collect(CASE WHEN $visibleTo IS NULL THEN null WHEN """
    + visible_to_manager("o")
    + """ THEN o.id END) END AS visibleLinked
}
RETURN c """
    + CLIENT_FIELDS
    + """ AS client, assignments, paths, holdings, facilities, facilityDepartments,
       links, linkTotal, linkedClients, visibleLinked, group,
       CASE WHEN $visibleTo IS NULL THEN true ELSE """
    + visible_to_manager("c")
    + """ END AS visible,
       [d IN reduce(all = [], p IN paths | all + p.chain) + facilityDepartments | d """
    + DEPARTMENT_FIELDS
    + """] AS departments
"""
)


@dataclass(frozen=True)
class PageArgs:
    """The arguments of the page's list fields, as the request asked for them."""

    holdings_cap: int = 50
    include_closed: bool = False
    facilities_cap: int = 50
    link_kinds: tuple[ClientLinkKind, ...] | None = None
    link_direction: LinkDirection = LinkDirection.BOTH
    links_cap: int = 50


@dataclass(frozen=True)
class ClientPage:
    client: Client
    args: PageArgs
    assignments: list[ManagerAssignment]
    managers: dict[str, Manager]
    manager_departments: dict[str, str]
    department_paths: dict[str, list[str]]
    departments: dict[str, Department]
    holdings: list[Holding]
    products: dict[str, Product]
    facilities: list[Facility]
    links: list[ClientLink]
    link_total: int
    linked_clients: dict[str, Client]
    group: ClientGroup | None
    # Asked for a manager: whether the client, and which linked clients, are in the book.
    visible: bool = True
    visible_linked: frozenset[str] | None = None


def _page_from_record(record: Any, args: PageArgs) -> ClientPage:
    client = Client.model_validate(record["client"])
    assignments, managers, manager_departments = [], {}, {}
    for row in record["assignments"]:
        assignments.append(
            ManagerAssignment(
                client_id=client.id, manager_id=row["managerId"], role=row["role"],
                since=row["since"],
            )
        )  # fmt: skip
        managers[row["managerId"]] = Manager.model_validate(row["manager"])
        if row["departmentId"] is not None:
            manager_departments[row["managerId"]] = row["departmentId"]
    holdings, products = [], {}
    for row in record["holdings"]:
        holdings.append(
            Holding(
                client_id=client.id, product_id=row["productId"],
                balance=cents_to_decimal(row["balanceCents"]), since=row["since"],
                active=row["active"], consented=row["consented"],
            )
        )  # fmt: skip
        products[row["productId"]] = Product.model_validate(row["product"])
    departments = {d["id"]: Department.model_validate(d) for d in record["departments"]}
    return ClientPage(
        client=client,
        args=args,
        assignments=assignments,
        managers=managers,
        manager_departments=manager_departments,
        department_paths={
            p["departmentId"]: [n["id"] for n in p["chain"]] for p in record["paths"]
        },
        departments=departments,
        holdings=holdings,
        products=products,
        facilities=[facility_from_map(f) for f in record["facilities"]],
        links=[link_from_map(client.id, row) for row in record["links"]],
        link_total=record["linkTotal"],
        linked_clients={c["id"]: Client.model_validate(c) for c in record["linkedClients"]},
        group=group_from_map(record["group"]),
        visible=record["visible"],
        visible_linked=(
            None if record["visibleLinked"] is None else frozenset(record["visibleLinked"])
        ),
    )


async def get_client_page(
    db: Db, client_id: str, args: PageArgs, visible_to: str | None = None
) -> ClientPage | None:
    """The page, with group totals over the book of manager `visible_to` when given, and which
    of the clients it shows are in that book (`visible`, `visible_linked`)."""
    records = await db.read(
        CLIENT_PAGE,
        {
            "clientId": client_id,
            "includeClosed": args.include_closed,
            "holdingsCap": args.holdings_cap,
            "facilitiesCap": args.facilities_cap,
            "kinds": [k.value for k in args.link_kinds] if args.link_kinds else None,
            "direction": args.link_direction.value,
            "cap": args.links_cap,
            "memberCap": MEMBER_CAP,
            "settingsId": SETTINGS_ID,
            "visibleTo": visible_to,
        },
    )
    return _page_from_record(records[0], args) if records else None
