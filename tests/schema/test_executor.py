"""The executor's short path for plain leaves answers exactly as graphql-core's own path does."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType
from neo4j import Driver

from api.auth import Principal, Role
from api.context import Context
from api.settings import ApiSettings
from graph.db import Db
from schema.build import build_schema
from schema.executor import RmGraphExecutor
from schema.permissions import LEAF_PLAN, RULES, guard_fields

ADMIN = Principal("admin", Role.ADMIN)
VIEWER = Principal("viewer", Role.VIEWER)


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"


@strawberry.type
class Thing:
    id: strawberry.ID
    count: int
    note: str | None
    colour: Colour
    amount: Decimal
    secret: str | None


@dataclass
class Holder:
    principal: Principal | None


TINY_RULES = {
    "Query.thing": frozenset(Role),
    **{f"Thing.{f}": frozenset(Role) for f in ("id", "count", "note", "colour", "amount")},
    "Thing.secret": frozenset({Role.ADMIN}),
}


def _tiny(thing: Any, fast: bool) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def thing(self) -> Thing:
            return thing  # type: ignore[no-any-return]

    built = strawberry.Schema(
        query=Query, execution_context_class=RmGraphExecutor if fast else None
    )
    guard_fields(built._schema, TINY_RULES)
    return built


DOC = "{ thing { id count note colour amount secret } }"


def _run(thing: Any, fast: bool, principal: Principal | None) -> tuple[Any, list[Any]]:
    result = _tiny(thing, fast).execute_sync(DOC, context_value=Holder(principal))
    return result.data, [(e.message, e.path) for e in result.errors or []]


@pytest.mark.parametrize(
    "thing",
    [
        Thing(id=strawberry.ID("t1"), count=3, note=None, colour=Colour.RED,
              amount=Decimal("12.50"), secret="s"),
        # A null where the schema promises a value, and a value that is not an Int: the short
        # path leaves both to graphql-core, whose errors (and null bubbling) must be the same.
        Thing(id=strawberry.ID("t2"), count=None, note="n", colour=Colour.RED,  # type: ignore[arg-type]
              amount=Decimal(1), secret=None),
        Thing(id=strawberry.ID("t3"), count="many", note="n", colour=Colour.RED,  # type: ignore[arg-type]
              amount=Decimal(1), secret=None),
    ],
)  # fmt: skip
@pytest.mark.parametrize("principal", [ADMIN, VIEWER, None])
def test_the_short_path_answers_as_graphql_core_does(
    thing: Thing, principal: Principal | None
) -> None:
    assert _run(thing, True, principal) == _run(thing, False, principal)


def test_refused_fields_are_refused_on_the_short_path_too() -> None:
    thing = Thing(id=strawberry.ID("t1"), count=3, note=None, colour=Colour.RED,
                  amount=Decimal("12.50"), secret="s")  # fmt: skip
    data, errors = _run(thing, True, VIEWER)
    assert data == {"thing": {"id": "t1", "count": 3, "note": None, "colour": "RED",
                              "amount": "12.50", "secret": None}}  # fmt: skip
    assert errors == [("Not allowed: Thing.secret", ["thing", "secret"])]
    _, errors = _run(thing, True, None)
    assert errors == [("Not allowed: Query.thing", ["thing"])]


def test_plain_leaves_are_read_without_their_resolver() -> None:
    # The short path is taken, not merely equivalent: with the leaf's resolver made to fail,
    # only graphql-core's own executor reaches it.
    thing = Thing(id=strawberry.ID("t1"), count=3, note=None, colour=Colour.RED,
                  amount=Decimal("12.50"), secret="s")  # fmt: skip

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("resolver called")

    answers = {}
    for fast in (True, False):
        built = _tiny(thing, fast)
        thing_type = built._schema.type_map["Thing"]
        assert isinstance(thing_type, GraphQLObjectType)
        thing_type.fields["count"].resolve = never
        result = built.execute_sync("{ thing { count } }", context_value=Holder(ADMIN))
        answers[fast] = (result.data, [e.message for e in result.errors or []])
    assert answers[True] == ({"thing": {"count": 3}}, [])
    assert answers[False] == (None, ["resolver called"])


def test_a_field_without_a_rule_stops_the_schema_from_being_built() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def thing(self) -> Thing:
            raise AssertionError("never resolved")

    built = strawberry.Schema(query=Query)
    rules = {k: v for k, v in TINY_RULES.items() if k != "Thing.colour"}
    with pytest.raises(LookupError, match=r"Thing\.colour"):
        guard_fields(built._schema, rules)


def test_every_field_of_the_api_is_guarded_and_plain_leaves_have_a_plan() -> None:
    from schema.build import schema

    leaves = 0
    for type_name, gtype in schema._schema.type_map.items():
        if type_name.startswith("__") or not isinstance(gtype, GraphQLObjectType):
            continue  # introspection, inputs, enums, scalars, unions
        for field_name, field in gtype.fields.items():
            assert field.resolve is not None and field.resolve.__name__ == "guarded", (
                f"{type_name}.{field_name}"
            )
            plan = field.extensions.get(LEAF_PLAN)
            if plan is not None:
                leaves += 1
                assert plan.rule.key == f"{type_name}.{field_name}"
                assert plan.rule.roles == RULES[plan.rule.key]
    assert leaves > 200


# Documents over the demo bank touching every kind of leaf (IDs, enums, decimals, dates, JSON,
# nullable and not), lists, unions and a manager's opaque clients.
DOCUMENTS = [
    """{ client(id: "cli-0001") { id name kind segment status grade riskRating industry region
       version pipelineStage potential visible
       managers { role since manager { id name level education title creditYears active
                                        department { id name function model archived } } }
       departmentPath { id name } holdings(first: 100, includeClosed: true) {
         product { id name category audience riskLevel } balance since active }
       facilities { id type limit drawn currency status grantedAt
                    grantingDepartment { id } approvingDepartment { id } borrower { id } }
       relatedClients(first: 100) { kind direction role otherRole share basis amount facilityId
                                    client { id name kind visible segment } }
       group { memberCount totalBalance totalFacilities totalDrawn root { id name }
               members { id name grade } } } }""",
    """{ relationshipGraph(clientId: "cli-0001", depth: 2) {
       nodes { id kind label distance properties } edges { id source target type properties }
       truncated } }""",
    """{ clients(first: 30) { totalCount pageInfo { hasNextPage endCursor }
       edges { cursor node { id name kind grade riskRating } } } }""",
    """{ department(id: "dept-hq") { id name function model archived version
       children { id name } members { id name level } products { id name category } } }""",
    """{ creditExposure(clientId: "cli-0001", maxDepth: 4) { total direct affiliated indirect
       drawn members { client { id name } own drawn path { fromId toId kind share } }
       limitUsage { rule amount capital limitPercent limitAmount usagePercent breached
                    reportable } multipleGrantors } }""",
]
PRINCIPALS = [
    ADMIN,
    VIEWER,
    Principal("risk", Role.RISK_OFFICER),
    Principal("m", Role.MANAGER, "mgr-001"),
]


def _result(schema: strawberry.Schema, db: Db, principal: Principal) -> Any:
    async def run(document: str) -> tuple[Any, list[Any]]:
        context = Context(db=db, request_id="test", principal=principal)
        result = await schema.execute(document, context_value=context)
        return result.data, sorted((e.message, str(e.path)) for e in result.errors or [])

    return run


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.role.value)
async def test_the_api_answers_the_same_with_and_without_the_short_path(
    demo_bank: Driver, db: Db, principal: Principal
) -> None:
    fast = _result(build_schema(ApiSettings()), db, principal)
    reference = _result(build_schema(ApiSettings(), fast_leaves=False), db, principal)
    for document in DOCUMENTS:
        expected = await reference(document)
        assert expected[0] is not None or expected[1], document
        assert await fast(document) == expected, document
