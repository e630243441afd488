"""Who may read or change what: one rule per field of the schema, enforced in one place.

`PermissionExtension` checks every field as it resolves against `RULES` (a field with no rule
is refused, and a test fails until it gets one). For the MANAGER role it also hides clients the
manager may not see (`graph.visibility`): such a client shows only `id`, `kind` and
`visible: false`; its other fields are null or empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from graphql import GraphQLError, GraphQLList, GraphQLNonNull, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from api.auth import Principal, Role

ALL: Final = frozenset(Role)
CREDIT: Final = frozenset({Role.MANAGER, Role.RISK_OFFICER, Role.ADMIN})
RISK: Final = frozenset({Role.RISK_OFFICER, Role.ADMIN})
ADMIN: Final = frozenset({Role.ADMIN})
SELLING: Final = frozenset({Role.MANAGER, Role.ADMIN})

if TYPE_CHECKING:
    ResolveInfo = GraphQLResolveInfo[Any]
FORBIDDEN: Final = "FORBIDDEN"
# Fields of a client every principal may see, even of clients outside a manager's book.
OPAQUE_CLIENT_FIELDS: Final = frozenset({"id", "kind", "visible"})


def _rules(*rows: tuple[str, frozenset[Role], str]) -> dict[str, frozenset[Role]]:
    table: dict[str, frozenset[Role]] = {}
    for type_name, roles, fields in rows:
        for field in fields.split():
            key = f"{type_name}.{field}"
            assert key not in table, f"two rules for {key}"
            table[key] = roles
    return table


RULES: Final = _rules(
    ("Query", ALL, "client clients manager managers department departments product products "
                   "relationshipGraph"),
    ("Query", RISK, "creditExposure guaranteeCircles largestExposures riskSettings"),
    ("Query", SELLING, "crossSellPaths crossSellOpportunities introductionPaths"),
    ("Query", ALL, "productsPerClient"),
    ("Mutation", ADMIN, "setRiskSettings refreshCrossSell createDepartment renameDepartment "
                        "archiveDepartment linkDepartments unlinkDepartments moveDepartment "
                        "mergeDepartments assignManager transferClient"),
    ("Query", ADMIN, "auditLog"),
    ("Query", ALL, "orgChart"),
    ("Client", ALL, "id name kind segment status grade riskRating industry region version visible "
                    "managers primaryManager secondaryManagers departmentPath holdings group "
                    "relatedClients"),
    ("Client", CREDIT, "facilities"),
    ("ClientManager", ALL, "role since manager"),
    ("ClientGroup", ALL, "memberCount totalBalance root members"),
    ("ClientGroup", CREDIT, "totalFacilities totalDrawn"),
    ("Holding", ALL, "product balance since active"),
    ("RelatedClient", ALL, "kind direction role otherRole share basis client"),
    ("RelatedClient", CREDIT, "amount facilityId"),
    ("Facility", CREDIT, "id type limit drawn currency status grantedAt borrower "
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
    ("RelationshipGraph", ALL, "nodes edges truncated"),
    ("GraphNode", ALL, "id kind label distance properties"),
    ("GraphEdge", ALL, "id source target type properties"),
    ("CreditExposure", RISK, "client maxDepth total direct affiliated indirect drawn members "
                             "limitUsage grantingDepartments multipleGrantors unifiedLimit "
                             "unapprovedFacilities capitalBase"),
    ("MemberExposure", RISK, "client path facilities own drawn guaranteedOutside"),
    ("JoinLink", RISK, "fromId toId kind share"),
    ("LimitUsage", RISK, "rule amount capital limitPercent limitAmount usagePercent breached "
                         "reportable"),
    ("GrantingDepartment", RISK, "department amount facilityCount"),
    ("UnapprovedFacility", RISK, "facility reason"),
    ("CapitalBase", RISK, "profile tier1Capital netCapital"),
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
    ("Impact", ADMIN, "departments managers clients linksAdded linksRemoved dropped"),
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
    ("Mutation", SELLING, "createClient updateClient relateClients unrelateClients "
                          "recordHolding closeHolding"),
    ("Mutation", ADMIN, "archiveClient createManager updateManager createProduct updateProduct"),
    ("Mutation", RISK, "createFacility approveFacility addGuarantee"),
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
    ("GradeClientsSuccess", ADMIN, "dryRun changed"),
    ("ClientGradeChange", SELLING, "clientId before after"),
    ("PipelineMove", SELLING, "id clientId fromStage toStage at by note"),
    ("Interaction", SELLING, "id kind method at notes status satisfaction handledAt closedAt "
                             "clientId managerId"),
    ("InteractionPage", SELLING, "items totalCount hasNextPage endCursor"),
    ("OverdueVisit", SELLING, "clientId name grade visitEveryDays lastVisitAt dueOn daysOverdue"),
    ("Performance", SELLING, "scope id periodFrom periodTo total managers children"),
    ("DepartmentPerformance", SELLING, "departmentId name figures"),
    ("ManagerPerformance", SELLING, "managerId name figures"),
    ("PerformanceFigures", SELLING, "clients newClients existingClients won balance holdings "
                                    "productsPerClient visitsPlanned visitsDone complaintsOpened "
                                    "complaintsClosed averageSatisfaction"),
    ("ClientSuccess", ALL, "client"),
    ("ManagerSuccess", ADMIN, "manager"),
    ("ProductSuccess", ADMIN, "product"),
    ("ClientLinkSuccess", SELLING, "kind share basis role reciprocalRole from to"),
    ("HoldingSuccess", SELLING, "client holding"),
    ("FacilitySuccess", RISK, "facility"),
    ("GuaranteeSuccess", RISK, "guarantor facility amount"),
)  # fmt: skip


class Forbidden(GraphQLError):
    def __init__(self, field: str) -> None:
        super().__init__(f"Not allowed: {field}", extensions={"code": FORBIDDEN, "field": field})


def may(principal: Principal | None, key: str) -> bool:
    roles = RULES.get(key)
    return principal is not None and roles is not None and principal.role in roles


def _empty_for(info: ResolveInfo) -> list[Any] | None:
    rtype = info.return_type
    inner = rtype.of_type if isinstance(rtype, GraphQLNonNull) else rtype
    return [] if isinstance(inner, GraphQLList) else None


# The same rules keyed by (type, field): every field of every response passes through the check
# below, and a tuple lookup costs less than formatting a "Type.field" key first.
_RULES_BY_FIELD: Final = {tuple(key.split(".", 1)): roles for key, roles in RULES.items()}


class PermissionExtension(SchemaExtension):
    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: ResolveInfo,
        *args: str,
        **kwargs: Any,
    ) -> Any:
        type_name, field_name = info.parent_type.name, info.field_name
        roles = _RULES_BY_FIELD.get((type_name, field_name))
        if roles is None:
            if type_name.startswith("__") or field_name.startswith("__"):
                return _next(root, info, *args, **kwargs)  # introspection
            raise Forbidden(f"{type_name}.{field_name}")
        principal: Principal | None = getattr(info.context, "principal", None)
        if principal is None or principal.role not in roles:
            raise Forbidden(f"{type_name}.{field_name}")
        if (
            type_name == "Client"
            and principal.role is Role.MANAGER
            and field_name not in OPAQUE_CLIENT_FIELDS
        ):
            return self._if_visible(_next, root, info, args, kwargs)
        return _next(root, info, *args, **kwargs)

    async def _if_visible(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: ResolveInfo,
        args: tuple[str, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        if not await info.context.loaders.client_visible.load(str(root.id)):
            return _empty_for(info)
        result = _next(root, info, *args, **kwargs)
        return await result if isinstance(result, Awaitable) else result
