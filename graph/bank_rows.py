"""The row shapes a whole bank is loaded from: one list per node label and relationship type.

The demo bank, the large generator and the importers all produce a `BankRows`; `graph.bulk_load`
writes it. Rows are plain dicts (cheap at a million clients); keys are the graph's property
names. Amounts are integer cents (fen), dates ISO `YYYY-MM-DD` strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import NotRequired, TypedDict


class DepartmentRow(TypedDict):
    id: str
    name: str
    function: str  # DepartmentFunction
    model: str  # OrgModel
    archived: NotRequired[bool]  # a new department is active unless restored as archived


class DepartmentLinkRow(TypedDict):
    fromId: str  # DIRECT_REPORT: the child; CHECKS: the checker
    toId: str  # DIRECT_REPORT: the parent; CHECKS: the checked department
    since: str
    note: NotRequired[str]  # LINEAR: purpose; CHECKS: scope


class ManagerRow(TypedDict):
    id: str
    name: str
    level: str  # ManagerLevel
    education: str  # Education
    title: str  # ProfessionalTitle
    creditYears: int
    departmentId: str
    reportsToId: str | None
    since: str


class ClientRow(TypedDict):
    id: str
    name: str
    kind: str  # ClientKind
    segment: str  # ClientSegment: EXISTING (存量) or NEW (增量)
    status: str  # ClientStatus
    grade: str | None  # KeyAccountGrade or None
    riskRating: int  # 1 (lowest) .. 5
    industry: str | None
    region: str | None
    # The group's unified credit limit (统一授信), on its top controller; absent: the graph's.
    unifiedLimitCents: NotRequired[int | None]
    unifiedLimitCurrency: NotRequired[str | None]


class ManagesRow(TypedDict):
    managerId: str
    clientId: str
    role: str  # PRIMARY or SECONDARY
    since: str


class ProductRow(TypedDict):
    id: str
    name: str
    category: str  # ProductCategory
    audience: str  # ProductAudience
    riskLevel: int  # 1 .. 5
    departmentId: str  # the product department that offers it


class HoldingRow(TypedDict):
    clientId: str
    productId: str
    balanceCents: int
    since: str
    active: bool
    consented: NotRequired[bool]  # a new holding is consented unless the row says not


class CrossSellRow(TypedDict):
    fromId: str
    toId: str
    support: float
    confidence: float
    lift: float
    pinned: bool


class ControlRow(TypedDict):
    fromId: str  # the controller
    toId: str  # the controlled client
    share: float  # 0 .. 100
    basis: str  # ControlBasis


class RelatedRow(TypedDict):
    fromId: str
    toId: str
    kind: str  # ClientLinkKind (not CONTROL or GUARANTEE, which have their own relationships)
    role: str  # the role of `fromId`, e.g. SUPPLIER
    reciprocalRole: str  # the role of `toId`, e.g. CUSTOMER


class FacilityRow(TypedDict):
    id: str
    borrowerId: str
    type: str  # FacilityType
    limitCents: int
    drawnCents: int
    currency: str
    grantingDepartmentId: str
    approvingDepartmentId: str | None
    grantedAt: str
    status: NotRequired[str]  # FacilityStatus; absent: the graph's, ACTIVE when new
    closedOn: NotRequired[str | None]  # ISO date; only when CLOSED; absent: the graph's
    closeReason: NotRequired[str | None]


class GuaranteeRow(TypedDict):
    guarantorId: str
    facilityId: str
    amountCents: int


@dataclass
class BankRows:
    departments: list[DepartmentRow] = field(default_factory=list)
    direct_links: list[DepartmentLinkRow] = field(default_factory=list)
    linear_links: list[DepartmentLinkRow] = field(default_factory=list)
    check_links: list[DepartmentLinkRow] = field(default_factory=list)
    managers: list[ManagerRow] = field(default_factory=list)
    clients: list[ClientRow] = field(default_factory=list)
    manages: list[ManagesRow] = field(default_factory=list)
    products: list[ProductRow] = field(default_factory=list)
    holdings: list[HoldingRow] = field(default_factory=list)
    cross_sells: list[CrossSellRow] = field(default_factory=list)
    controls: list[ControlRow] = field(default_factory=list)
    related: list[RelatedRow] = field(default_factory=list)
    facilities: list[FacilityRow] = field(default_factory=list)
    guarantees: list[GuaranteeRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}
