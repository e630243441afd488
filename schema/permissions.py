"""Who may read or change what: one rule per field of the schema, enforced in one place.

`guard_fields` wraps the resolver of every field of the built schema with its rule from `RULES`,
so no field resolves without the check (and a field with no rule stops the schema from being
built). For the MANAGER role it also hides clients the manager may not see (`graph.visibility`):
such a client shows only `id`, `kind` and `visible: false`; its other fields are null or empty.
For plain leaf fields it also leaves a `LeafPlan` that lets `schema.executor` read the value
directly, once the same rule has admitted the principal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    default_field_resolver,
    get_nullable_type,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.auth import Principal, Role
from schema.eager import run_eagerly

ALL: Final = frozenset(Role)
CREDIT: Final = frozenset({Role.MANAGER, Role.RISK_OFFICER, Role.ADMIN})
RISK: Final = frozenset({Role.RISK_OFFICER, Role.ADMIN})
ADMIN: Final = frozenset({Role.ADMIN})
SELLING: Final = frozenset({Role.MANAGER, Role.ADMIN})

if TYPE_CHECKING:
    ResolveInfo = GraphQLResolveInfo[Any]
Resolver = Callable[..., Any]
FORBIDDEN: Final = "FORBIDDEN"
# Fields of a client every principal may see, even of clients outside a manager's book.
OPAQUE_CLIENT_FIELDS: Final = frozenset({"id", "kind", "visible"})


def _rules(*rows: tuple[str, frozenset[Role], str]) -> dict[str, frozenset[Role]]:
    table: dict[str, frozenset[Role]] = {}
    for type_name, roles, fields in rows:
        for field_name in fields.split():
            key = f"{type_name}.{field_name}"
            assert key not in table, f"two rules for {key}"
            table[key] = roles
    return table


RULES: Final = _rules(
    ("Query", ALL, "client clients manager managers department departments product products "
                   "relationshipGraph"),
    ("Query", RISK, "creditExposure guaranteeCircles largestExposures riskSettings facility "
                    "facilities"),
    ("Query", SELLING, "crossSellPaths crossSellOpportunities introductionPaths"),
    ("Query", ALL, "productsPerClient"),
    ("Mutation", ADMIN, "setRiskSettings refreshCrossSell createDepartment renameDepartment "
                        "archiveDepartment linkDepartments unlinkDepartments moveDepartment "
                        "mergeDepartments assignManager transferClient"),
    ("Query", ADMIN, "auditLog"),
    ("Query", ALL, "orgChart"),
    ("Client", ALL, "id name kind segment status grade riskRating industry region version visible "
                    "managers primaryManager secondaryManagers departmentPath holdings group "
                    "relatedClients relatedClientCount"),
    ("Client", CREDIT, "facilities"),
    ("ClientManager", ALL, "role since manager"),
    ("ClientGroup", ALL, "memberCount totalBalance root members"),
    ("ClientGroup", CREDIT, "totalFacilities totalDrawn"),
    ("Holding", ALL, "product balance since active consented"),
    ("RelatedClient", ALL, "kind direction role otherRole share basis client"),
    ("RelatedClient", CREDIT, "amount facilityId"),
    ("Facility", CREDIT, "id type limit drawn currency status grantedAt closedOn borrower "
                         "grantingDepartment approvingDepartment"),
    ("Manager", ALL, "id name level education title creditYears active version department "
                     "reportsTo clients"),
    ("ManagedClient", ALL, "role since client"),
    ("Department", ALL, "id name function model archived version parent children linearTo "
                        "linearFrom checks checkedBy pathToRoot members products"),
    ("DepartmentLink", ALL, "department since note"),
    ("Product", ALL, "id name category audience riskLevel offeredBy crossSellsTo"),
    ("CrossSell", ALL, "product support confidence lift pinned"),
    ("PageInfo", ALL, "hasNextPage endCursor"),
    ("ClientConnection", ALL, "edges pageInfo totalCount"),
    ("ClientEdge", ALL, "cursor node"),
    ("ManagerConnection", ALL, "edges pageInfo totalCount"),
    ("ManagerEdge", ALL, "cursor node"),
    ("DepartmentConnection", ALL, "edges pageInfo totalCount"),
    ("DepartmentEdge", ALL, "cursor node"),
    ("ProductConnection", ALL, "edges pageInfo totalCount"),
    ("ProductEdge", ALL, "cursor node"),
    ("FacilityConnection", RISK, "edges pageInfo totalCount"),
    ("FacilityEdge", RISK, "cursor node"),
    ("RelationshipGraph", ALL, "nodes edges truncated"),
    ("GraphNode", ALL, "id kind label distance visible properties"),
    ("GraphEdge", ALL, "id source target type properties"),
    ("CreditExposure", RISK, "client maxDepth total direct affiliated indirect drawn members "
                             "limitUsage grantingDepartments multipleGrantors unifiedLimit "
                             "unifiedLimitHolderId unifiedLimitUsed unifiedLimitExceeded "
                             "unapprovedFacilities assessInterdependence capitalBase"),
    ("MemberExposure", RISK, "client path facilities own drawn guaranteedOutside"),
    ("JoinLink", RISK, "fromId toId kind share"),
    ("LimitUsage", RISK, "rule amount capital limitPercent limitAmount usagePercent breached "
                         "reportable"),
    ("GrantingDepartment", RISK, "department amount facilityCount"),
    ("UnapprovedFacility", RISK, "facility reason"),
    ("CapitalBase", RISK, "profile tier1Capital netCapital currency fxRates"),
    ("FxRate", RISK, "currency rate"),
    ("GuaranteeCircles", RISK, "circles mutualPairs circleCount mutualPairCount complete"),
    ("GuaranteeCircle", RISK, "memberIds size mutual links guaranteed exposure members"),
    ("CircleLink", RISK, "guarantorId borrowerId facilityId amount"),
    ("LargeExposure", RISK, "root memberIds direct indirect total limitUsage"),
    ("ValidationError", ALL, "message field"),
    ("CrossSellSuggestion", SELLING, "productIds score steps product client"),
    ("CrossSellStep", SELLING, "fromProductId toProductId support confidence lift"),
    ("IntroductionPaths", SELLING, "chains reason truncated"),
    ("IntroductionHop", SELLING, "fromId toId kinds"),
    ("ProductsPerClient", ALL, "activeClients clientsWithProducts holdings productsPerClient most"),
    ("CrossSellRefresh", ADMIN, "clients links removed pinnedKept"),
    ("RestructureSuccess", ADMIN, "dryRun impact auditRecordId"),
    ("Impact", ADMIN,
     "departments managers clients facilities approvalsWithdrawn products linksAdded "
     "linksRemoved dropped moving"),
    ("Moving", ADMIN, "departments managers clients"),
    ("LinkChange", ADMIN, "kind fromId toId"),
    ("NotFoundError", ALL, "message kind id"),
    ("InvariantViolationError", ALL, "message invariant nodeIds"),
    ("VersionConflictError", ALL, "message id expectedVersion actualVersion"),
    ("DuplicateError", ALL, "message id"),
    ("AuditRecord", ADMIN, "id at actor action input before after"),
    ("AuditPage", ADMIN, "records endCursor"),
    ("OrgChart", ALL, "asOf departments links"),
    ("OrgChartNode", ALL, "id name parentId depth"),
    ("OrgChartLink", ALL, "kind fromId toId note"),
    # Data in (issue 10): a MANAGER's changes are bounded by their book inside each mutation.
    ("Mutation", SELLING, "createClient updateClient recordHolding closeHolding"),
    # Links between clients form credit groups: risk officers keep them too (a manager removes
    # none of those, graph.client_link_writes).
    ("Mutation", CREDIT, "relateClients unrelateClients"),
    ("Mutation", ADMIN, "archiveClient createManager updateManager createProduct updateProduct"),
    ("Mutation", RISK, "createFacility approveFacility withdrawApproval addGuarantee "
                       "changeGuaranteeAmount releaseGuarantee drawFacility repayFacility "
                       "changeFacilityLimit closeFacility setUnifiedLimit setHoldingConsent"),
    # The managers' system (issue 9): a MANAGER acts and reads for themselves and their book.
    ("Query", SELLING, "promotionEligibility overdueVisits performance gradeHistory"),
    ("Query", ALL, "keyAccountSettings"),
    ("Mutation", ADMIN, "promoteManager demoteManager setKeyAccountThresholds gradeClients"),
    ("Mutation", SELLING, "setClientPotential movePipeline recordInteraction openComplaint "
                          "handleComplaint closeComplaint"),
    ("Client", ALL, "pipelineStage potential managementPlan"),
    ("Client", SELLING, "interactions pipelineHistory"),
    ("PromotionEligibility", SELLING, "managerId scheme current next eligible requirements"),
    ("Grade", SELLING, "code name series rank certificate"),
    ("RequirementResult", SELLING, "row met description unmet"),
    ("GradeChange", SELLING, "id managerId scheme kind fromGrade toGrade exceptional reason at"),
    ("PromotionRefusedError", ADMIN, "message unmet requirements"),
    ("KeyAccountSettings", ALL, "thresholds plans"),
    ("KeyAccountThresholds", ALL, "aPurchases aShare bPurchases bShare cPurchases"),
    ("ManagementPlan", ALL, "grade goals serviceLevel strategy visitEveryDays"),
    ("ThresholdsSuccess", ADMIN, "thresholds"),
    ("GradeClientsSuccess", ADMIN, "dryRun changedCount changed"),
    ("ClientGradeChange", SELLING, "clientId before after"),
    ("PipelineMove", SELLING, "id clientId fromStage toStage at by note"),
    ("Interaction", SELLING, "id kind method at notes status satisfaction handledAt closedAt "
                             "recordedAt clientId managerId"),
    ("InteractionPage", SELLING, "items totalCount hasNextPage endCursor"),
    ("OverdueVisit", SELLING, "clientId name grade visitEveryDays lastVisitAt dueOn daysOverdue"),
    ("Performance", SELLING, "scope id periodFrom periodTo total managers children"),
    ("DepartmentPerformance", SELLING, "departmentId name figures"),
    ("ManagerPerformance", SELLING, "managerId name figures"),
    ("PerformanceFigures", SELLING, "clients newClients existingClients won balance holdings "
                                    "productsPerClient visitsPlanned visitsDone visitsOnPlan "
                                    "complaintsOpened complaintsClosed averageSatisfaction"),
    ("ClientSuccess", ALL, "client"),
    ("ManagerSuccess", ADMIN, "manager"),
    ("ProductSuccess", ADMIN, "product"),
    ("ClientLinkSuccess", CREDIT, "kind share basis role reciprocalRole from to"),
    ("HoldingSuccess", SELLING | RISK, "client holding"),
    ("FacilitySuccess", RISK, "facility"),
    ("GuaranteeSuccess", RISK, "guarantor facility amount"),
)  # fmt: skip


class Forbidden(GraphQLError):
    def __init__(self, field: str) -> None:
        super().__init__(f"Not allowed: {field}", extensions={"code": FORBIDDEN, "field": field})


def may(principal: Principal | None, key: str) -> bool:
    roles = RULES.get(key)
    return principal is not None and roles is not None and principal.role in roles


def _nothing() -> None:
    return None


def _empty_maker(gql_field: GraphQLField) -> Callable[[], Any] | None:
    """What an opaque client shows for this field: null, an empty list, or for a non-null
    object the `empty()` its type defines (an empty page); None when there is no such value."""
    inner = get_nullable_type(gql_field.type)
    if isinstance(inner, GraphQLList):
        return list
    if not isinstance(gql_field.type, GraphQLNonNull):
        return _nothing
    definition = inner.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    empty = getattr(getattr(definition, "origin", None), "empty", None)
    return empty if callable(empty) else None


LEAF_PLAN: Final = "rmgraph.leaf"  # key of a field's `LeafPlan` in its extensions


@dataclass(frozen=True, slots=True)
class FieldRule:
    key: str  # "Type.field"
    roles: frozenset[Role]
    book_only: bool  # a client's field, which a manager reads only for clients in the book

    _plain_roles: frozenset[Role] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plain = self.roles - {Role.MANAGER} if self.book_only else self.roles
        object.__setattr__(self, "_plain_roles", plain)  # frozen: set once, here

    def admits(self, principal: Principal | None) -> bool:
        return principal is not None and principal.role in self.roles

    def reads_plainly(self, principal: Principal | None) -> bool:
        """Admitted without the per-client visibility check a manager's reads need."""
        return principal is not None and principal.role in self._plain_roles


@dataclass(frozen=True, slots=True)
class LeafPlan:
    """A scalar or enum field without arguments that is read off its object as an attribute."""

    rule: FieldRule
    attribute: str
    leaf_type: GraphQLScalarType | GraphQLEnumType
    non_null: bool


def reads_unchecked(
    rule: FieldRule, principal: Principal | None, loaders: Any, source: Any
) -> bool:
    """Admitted with no per-client check left to run: outright, or (a manager reading a client's
    field) the request already knows the client is in the book. The guard and the executor's
    short path both decide by this."""
    if rule.reads_plainly(principal):
        return True
    return (
        rule.book_only
        and rule.admits(principal)
        and loaders is not None
        and loaders.known_visible(str(source.id))
    )


def _guarded(rule: FieldRule, resolve: Resolver, empty: Callable[[], Any]) -> Resolver:
    def guarded(source: Any, info: ResolveInfo, **args: Any) -> Any:
        principal: Principal | None = info.context.principal
        if not rule.admits(principal):
            raise Forbidden(rule.key)
        if not reads_unchecked(rule, principal, getattr(info.context, "loaders", None), source):
            return run_eagerly(_if_visible(resolve, empty, source, info, args))
        return resolve(source, info, **args)

    return guarded


async def _if_visible(
    resolve: Resolver, empty: Callable[[], Any], source: Any, info: ResolveInfo,
    args: dict[str, Any],
) -> Any:  # fmt: skip
    if not await info.context.loaders.client_visible.load(str(source.id)):
        return empty()
    result = resolve(source, info, **args)
    return await result if isinstance(result, Awaitable) else result


def _leaf_plan(rule: FieldRule, gql_field: GraphQLField) -> LeafPlan | None:
    """Strawberry reads a field with no resolver and no field extensions as an attribute."""
    definition = gql_field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    leaf = get_nullable_type(gql_field.type)
    if gql_field.args or not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
        return None
    non_null = isinstance(gql_field.type, GraphQLNonNull)
    return LeafPlan(rule=rule, attribute=definition.python_name, leaf_type=leaf, non_null=non_null)


def guard_fields(schema: GraphQLSchema, rules: Mapping[str, frozenset[Role]] = RULES) -> None:
    """Wraps the resolver of every field of every object type with its rule from `RULES`: the
    one place where permissions are enforced, so no field can be reached without passing it.
    A field with no rule fails here, when the schema is built, rather than on a request."""
    missing: list[str] = []
    no_empty: list[str] = []
    for type_name, gtype in schema.type_map.items():
        if not isinstance(gtype, GraphQLObjectType) or type_name.startswith("__"):
            continue  # introspection is for everyone (and off in production)
        for field_name, gql_field in gtype.fields.items():
            key = f"{type_name}.{field_name}"
            roles = rules.get(key)
            if roles is None:
                missing.append(key)
                continue
            book_only = type_name == "Client" and field_name not in OPAQUE_CLIENT_FIELDS
            rule = FieldRule(key, roles, book_only)
            plan = _leaf_plan(rule, gql_field)
            if plan is not None:
                gql_field.extensions = {**gql_field.extensions, LEAF_PLAN: plan}
            empty = _empty_maker(gql_field) if book_only else _nothing
            if empty is None:
                no_empty.append(key)
                continue
            gql_field.resolve = _guarded(rule, gql_field.resolve or default_field_resolver, empty)
    if missing:
        raise LookupError(f"fields without a permission rule: {', '.join(sorted(missing))}")
    if no_empty:
        raise LookupError(
            "non-null fields of a client with no value to show for an opaque one (give the "
            f"type an `empty()`): {', '.join(sorted(no_empty))}"
        )
