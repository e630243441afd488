"""Client 360: the client page in one round trip, and the relationship graph around a client."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from graphql import FieldNode, GraphQLObjectType, get_named_type
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.scalars import JSON

from graph import relationship_graph
from graph.client_page import PageArgs, get_client_page
from graph.models import LinkDirection
from graph.relationship_graph import MAX_DEPTH, MAX_LIMIT, Neighbourhood, RelationKind
from graph.relationship_graph import GraphEdge as GraphEdge_
from graph.relationship_graph import GraphNode as GraphNode_
from schema.errors import check_id, check_kinds, check_range
from schema.permissions import may
from schema.types import LIST_CAP, LIST_DEFAULT, Client, CtxInfo, link_kinds_key

strawberry.enum(RelationKind, description="Relationship types a relationship graph may follow.")

# Selecting any of these on `client` fetches the whole page in one query.
PAGE_FIELDS = frozenset(
    {
        "managers", "primaryManager", "secondaryManagers", "departmentPath", "holdings",
        "facilities", "relatedClients", "group",
    }
)  # fmt: skip


def _variables(values: Any) -> Any:
    """The operation's variables as `get_argument_values` takes them: graphql-core 3.3 wants
    its `VariableValues`, while the resolve info may carry the plain coerced dict (a nested
    argument given as a variable used to fail with an internal error)."""
    if isinstance(values, dict):
        return VariableValues(sources={}, coerced=values)
    return values


def _selected_arguments(info: CtxInfo) -> dict[str, dict[str, Any]]:
    """Each sub-field of this field selected directly, with its arguments coerced by graphql-core
    (the first occurrence wins; aliased repeats are served by the DataLoaders)."""
    raw = info._raw_info
    client_type = get_named_type(raw.return_type)
    assert isinstance(client_type, GraphQLObjectType)
    found: dict[str, dict[str, Any]] = {}
    for node in raw.field_nodes:
        for sel in node.selection_set.selections if node.selection_set else ():
            if not isinstance(sel, FieldNode):
                continue  # fragments: their fields are served by the DataLoaders
            name = sel.name.value
            if name in client_type.fields and name not in found:
                found[name] = get_argument_values(
                    client_type.fields[name], sel, _variables(raw.variable_values)
                )
    return found


def page_args_from(info: CtxInfo) -> PageArgs | None:
    """The page's list arguments as asked, or None when no link field is selected."""
    selected = _selected_arguments(info)
    if not selected.keys() & PAGE_FIELDS:
        return None
    holdings = selected.get("holdings", {})
    facilities = selected.get("facilities", {})
    related = selected.get("relatedClients", {})
    return PageArgs(
        holdings_cap=check_range(holdings.get("first", LIST_DEFAULT), 1, LIST_CAP, "first"),
        include_closed=bool(holdings.get("includeClosed", False)),
        facilities_cap=check_range(facilities.get("first", LIST_DEFAULT), 1, LIST_CAP, "first"),
        link_kinds=link_kinds_key(related.get("kinds")),
        link_direction=LinkDirection(related.get("direction", LinkDirection.BOTH)),
        links_cap=check_range(related.get("first", LIST_DEFAULT), 1, LIST_CAP, "first"),
    )


async def resolve_client(info: CtxInfo, client_id: str) -> Client | None:
    """A manager asking for a client outside their book gets null, as for an unknown id. A
    page answers that in its one query (and for the clients it links to)."""
    args = page_args_from(info)
    if args is None:
        if not await info.context.loaders.client_visible.load(client_id):
            return None
        found = await info.context.loaders.client.load(client_id)
        return Client.from_model(found) if found else None
    page = await get_client_page(info.context.db, client_id, args, info.context.loaders.visible_to)
    if page is None or not page.visible:
        return None
    info.context.loaders.prime_client_page(page)
    return Client.from_model(page.client)


EXPOSURE_PROPERTIES = frozenset(
    {"limit", "drawn", "amount", "unifiedLimit", "unifiedLimitCurrency"}
)


def _redact(info: CtxInfo, graph: Neighbourhood) -> Neighbourhood:
    """Nodes hidden from a manager (clients outside the book, facilities lent to them) become
    opaque: id and kind. A link touching one stays only when its other end is a client the
    manager sees (that client's own relation, as `relatedClients` shows it): who else holds a
    product, guarantees a facility or manages a client outside the book is none of the
    manager's business, and a hidden node left with no link goes too. Exposure figures are left
    out for roles that may not read facilities."""
    show_credit = may(info.context.principal, "Facility.limit")
    hidden = {n.id for n in graph.nodes if n.hidden}
    seen_clients = {n.id for n in graph.nodes if n.kind == "Client" and not n.hidden}

    def node(n: GraphNode_) -> GraphNode_:
        if n.hidden:
            opaque = {"id": n.properties["id"]}
            if n.kind == "Client":
                opaque["kind"] = n.properties.get("kind")
            return n.model_copy(update={"label": str(n.properties["id"]), "properties": opaque})
        if show_credit:
            return n
        props = {k: v for k, v in n.properties.items() if k not in EXPOSURE_PROPERTIES}
        return n.model_copy(update={"properties": props})

    def edge(e: GraphEdge_) -> GraphEdge_:
        if show_credit:
            return e
        props = {k: v for k, v in e.properties.items() if k not in EXPOSURE_PROPERTIES}
        return e.model_copy(update={"properties": props})

    edges = [
        edge(e)
        for e in graph.edges
        if not {e.source, e.target} & hidden or {e.source, e.target} & seen_clients
    ]
    linked = {end for e in edges for end in (e.source, e.target)}
    nodes = [node(n) for n in graph.nodes if not n.hidden or n.id in linked]
    return graph.model_copy(update={"nodes": nodes, "edges": edges})


@strawberry.type(description="A node of a relationship graph, ready for a drawing library.")
class GraphNode:
    id: strawberry.ID = strawberry.field(description="Stable and unique: `Label:id`.")
    kind: str = strawberry.field(description="The node's label: Client, Manager, Department...")
    label: str = strawberry.field(description="A caption: the name, else the id.")
    distance: int = strawberry.field(description="Hops from the client.")
    visible: bool = strawberry.field(
        description="False for a node outside the asking manager's book (a client, or a "
        "facility lent to one): its `properties` are only `id` (and a client's `kind`), and its "
        "`label` is the id."
    )
    properties: JSON


@strawberry.type(description="An edge of a relationship graph, from `source` to `target`.")
class GraphEdge:
    id: strawberry.ID = strawberry.field(description="Stable: `TYPE:source->target[:kind]`.")
    source: strawberry.ID
    target: strawberry.ID
    type: str
    properties: JSON


@strawberry.type
class RelationshipGraph:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = strawberry.field(
        description="True when `limit` cut the graph; the nearest nodes were kept."
    )


@strawberry.type
class Client360Query:
    @strawberry.field(
        description=f"Every node within `depth` hops (1-{MAX_DEPTH}) of the client over the given "
        f"relationship kinds (all when omitted), nearest first, at most `limit` nodes "
        f"(1-{MAX_LIMIT}); null for an unknown client."
    )
    async def relationship_graph(
        self,
        info: CtxInfo,
        client_id: strawberry.ID,
        depth: int = 2,
        kinds: list[RelationKind] | None = None,
        limit: int = 200,
    ) -> RelationshipGraph | None:
        check_id(client_id, "clientId")
        check_range(depth, 1, MAX_DEPTH, "depth")
        check_range(limit, 1, MAX_LIMIT, "limit")
        found = await relationship_graph.get_neighbourhood(
            info.context.db, client_id, depth, sorted(set(check_kinds(kinds) or RelationKind)),
            limit,
            visible_to=info.context.loaders.visible_to,
        )  # fmt: skip
        # The start comes first; a manager asking about a client outside the book gets null.
        if found is None or found.nodes[0].hidden:
            return None
        found = _redact(info, found)
        return RelationshipGraph(
            nodes=[
                GraphNode(
                    id=strawberry.ID(n.id), kind=n.kind, label=n.label, distance=n.distance,
                    visible=not n.hidden, properties=cast(JSON, n.properties),
                )
                for n in found.nodes
            ],
            edges=[
                GraphEdge(
                    id=strawberry.ID(e.id), source=strawberry.ID(e.source),
                    target=strawberry.ID(e.target), type=e.type,
                    properties=cast(JSON, e.properties),
                )
                for e in found.edges
            ],
            truncated=found.truncated,
        )  # fmt: skip
