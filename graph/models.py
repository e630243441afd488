"""Pydantic models that mirror the graph: nodes, the properties on links, and the enums of both.

Amounts are stored in Neo4j as integer cents (Cypher sums them exactly) and surface here as
`Decimal` with two places. Dates come back from the driver as `neo4j.time` values and are turned
into the standard library's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from neo4j.time import Date as Neo4jDate
from neo4j.time import DateTime as Neo4jDateTime
from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

CENT = Decimal("0.01")
T = TypeVar("T")


def cents_to_decimal(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) * CENT).quantize(CENT)


def decimal_to_cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_exact())


class DepartmentFunction(StrEnum):
    MANAGEMENT = "MANAGEMENT"
    CLIENT = "CLIENT"
    RISK = "RISK"
    APPROVAL = "APPROVAL"
    PRODUCT = "PRODUCT"
    OPERATIONS = "OPERATIONS"
    IT = "IT"


class OrgModel(StrEnum):
    """How a department is organised (区域 / 客户 / 业务量 / 产品 / 综合型)."""

    REGION = "REGION"
    CLIENT = "CLIENT"
    VOLUME = "VOLUME"
    PRODUCT = "PRODUCT"
    COMPREHENSIVE = "COMPREHENSIVE"


class ManagerLevel(StrEnum):
    ASSISTANT = "ASSISTANT"
    MANAGER = "MANAGER"
    SENIOR = "SENIOR"
    PRINCIPAL = "PRINCIPAL"


class Education(StrEnum):
    COLLEGE = "COLLEGE"
    BACHELOR = "BACHELOR"
    MASTER = "MASTER"
    DOCTORATE = "DOCTORATE"


class ProfessionalTitle(StrEnum):
    NONE = "NONE"
    JUNIOR = "JUNIOR"
    MIDDLE = "MIDDLE"
    SENIOR = "SENIOR"


class ClientKind(StrEnum):
    CORPORATE = "CORPORATE"
    INDIVIDUAL = "INDIVIDUAL"
    INTERBANK = "INTERBANK"


class ClientSegment(StrEnum):
    """Existing (存量) clients the bank already had, or new (增量) ones a manager developed."""

    EXISTING = "EXISTING"
    NEW = "NEW"


class ClientStatus(StrEnum):
    PROSPECT = "PROSPECT"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class KeyAccountGrade(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class ManagerRole(StrEnum):
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"


class ProductCategory(StrEnum):
    DEPOSIT = "DEPOSIT"
    LOAN = "LOAN"
    WEALTH = "WEALTH"
    SETTLEMENT = "SETTLEMENT"
    FX = "FX"
    CARD = "CARD"
    BROKERAGE = "BROKERAGE"
    INSURANCE = "INSURANCE"


class ProductAudience(StrEnum):
    ALL = "ALL"
    CORPORATE = "CORPORATE"
    INDIVIDUAL = "INDIVIDUAL"


class FacilityType(StrEnum):
    LOAN = "LOAN"
    GUARANTEE = "GUARANTEE"
    ACCEPTANCE = "ACCEPTANCE"
    DISCOUNT = "DISCOUNT"
    LETTER_OF_CREDIT = "LETTER_OF_CREDIT"
    COMMITMENT = "COMMITMENT"


class FacilityStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"  # repaid and closed: kept for history, counted in no exposure


class ControlBasis(StrEnum):
    """What control rests on: more than 50% of the shares (EQUITY; less is a stake), or, whatever
    the share, a voting agreement, power over the board, or consolidation of the accounts."""

    EQUITY = "EQUITY"
    VOTING_AGREEMENT = "VOTING_AGREEMENT"
    BOARD = "BOARD"
    CONSOLIDATION = "CONSOLIDATION"


class ClientLinkKind(StrEnum):
    """Kinds of link between two clients. CONTROL and GUARANTEE come from their own relationships
    (`CONTROLS`, and `GUARANTEES` of a facility the other client borrows); the rest are
    `RELATED_TO` with this kind."""

    CONTROL = "CONTROL"
    GUARANTEE = "GUARANTEE"
    SUPPLY_CHAIN = "SUPPLY_CHAIN"
    FAMILY = "FAMILY"
    ECONOMIC_DEPENDENCE = "ECONOMIC_DEPENDENCE"
    # Assets or profits can move between the two at unfair (not arm's-length) prices: joins
    # them into one credit group, as economic dependence does (DOMAIN §6).
    PROFIT_TRANSFER = "PROFIT_TRANSFER"
    KEY_PERSON = "KEY_PERSON"


class LinkDirection(StrEnum):
    OUTGOING = "OUTGOING"
    INCOMING = "INCOMING"
    BOTH = "BOTH"


class GraphModel(BaseModel):
    """Base of every model read from Neo4j: frozen, and driver time types made standard."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, alias_generator=to_camel)

    @field_validator("*", mode="before")
    @classmethod
    def _native_time(cls, value: Any) -> Any:
        if isinstance(value, Neo4jDate | Neo4jDateTime):
            return value.to_native()
        return value


class Department(GraphModel):
    id: str
    name: str
    function: DepartmentFunction
    model: OrgModel
    archived: bool = False
    version: int = 0


class Manager(GraphModel):
    id: str
    name: str
    level: ManagerLevel
    education: Education
    title: ProfessionalTitle
    credit_years: int
    active: bool = True
    version: int = 0


class Client(GraphModel):
    id: str
    name: str
    kind: ClientKind
    segment: ClientSegment
    status: ClientStatus
    grade: KeyAccountGrade | None = None
    risk_rating: int
    industry: str | None = None
    region: str | None = None
    version: int = 0
    stage: str | None = None  # development pipeline stage (graph.pipeline), prospects only
    potential: str | None = None  # HIGH, MEDIUM or LOW, as the manager judged it


class Product(GraphModel):
    id: str
    name: str
    category: ProductCategory
    audience: ProductAudience
    risk_level: int


class Facility(GraphModel):
    id: str
    type: FacilityType
    limit: Decimal
    drawn: Decimal
    currency: str
    status: FacilityStatus
    borrower_id: str
    granting_department_id: str | None = None
    approving_department_id: str | None = None
    granted_at: dt.date | None = None
    closed_on: dt.date | None = None  # set by closeFacility


class ManagerAssignment(GraphModel):
    """A `MANAGES` link seen from the client."""

    client_id: str
    manager_id: str
    role: ManagerRole
    since: dt.date | None = None


class Holding(GraphModel):
    client_id: str
    product_id: str
    balance: Decimal
    since: dt.date | None = None
    active: bool = True
    # False once the risk side found it opened without the client's consent (the Wells Fargo
    # case): it stays on record, and counts in no products-per-client figure.
    consented: bool = True


class ClientLink(GraphModel):
    """A link between two clients seen from `client_id`: its kind, which way it points and the
    role each side plays (e.g. PARENT / SUBSIDIARY, GUARANTOR / GUARANTEED)."""

    client_id: str
    other_id: str
    kind: ClientLinkKind
    direction: LinkDirection
    role: str
    other_role: str
    share: float | None = None
    basis: ControlBasis | None = None
    amount: Decimal | None = None
    facility_id: str | None = None


class DepartmentLink(GraphModel):
    """A link between two departments seen from `department_id`."""

    department_id: str
    other_id: str
    since: dt.date | None = None
    note: str | None = None


class PageInfo(GraphModel):
    has_next_page: bool
    end_cursor: str | None = None


class Page(GraphModel, Generic[T]):
    items: list[T]
    page_info: PageInfo
    total_count: int
