"""GraphQL object types for the graph's nodes, and the links between them as typed fields.

Each type is built from its pydantic model; fields that follow a link go through the request's
DataLoaders, so a page of N nodes costs one round trip per link field, not N. Those resolvers are
`eager`: when the loaders already hold the data (the client page primes them), they answer at
once rather than as coroutines to be scheduled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import strawberry
from strawberry.types import Info

from api.context import Context
from graph import models
from graph.client_group import ClientGroup as GroupCredit
from graph.departments import DepartmentLinkKind
from schema.eager import eager, load_all
from schema.enums import (
    ClientKind,
    ClientLinkKind,
    ClientSegment,
    ClientStatus,
    ControlBasis,
    DepartmentFunction,
    Education,
    FacilityStatus,
    FacilityType,
    KeyAccountGrade,
    LinkDirection,
    ManagerLevel,
    ManagerRole,
    OrgModel,
    ProductAudience,
    ProductCategory,
    ProfessionalTitle,
)
from schema.errors import check_kinds, check_range
from schema.maintenance_types import InteractionPage, ManagementPlan, PipelineMove, Stage

CtxInfo = Info[Context, None]
LIST_CAP = 100
LIST_DEFAULT = 50
CAPPED = f"At most `first` items (default {LIST_DEFAULT}, 1 to {LIST_CAP})."
BOOK_TOTALS = "Asked by a relationship manager: only the members in their book."


def link_kinds_key(kinds: Iterable[str] | None) -> tuple[ClientLinkKind, ...] | None:
    """A `kinds` filter of client links as the links loader is keyed (a client page primes it
    so): checked, distinct, in order; None for every kind."""
    checked = check_kinds(None if kinds is None else list(kinds))
    return tuple(sorted({ClientLinkKind(k) for k in checked})) if checked else None


async def _departments(info: CtxInfo, ids: list[str]) -> list[Department]:
    found = await load_all(info.context.loaders.department, ids)
    return [Department.from_model(d) for d in found if d is not None]


async def _managers(info: CtxInfo, ids: list[str]) -> list[Manager]:
    found = await load_all(info.context.loaders.manager, ids)
    return [Manager.from_model(m) for m in found if m is not None]


async def _products(info: CtxInfo, ids: list[str]) -> list[Product]:
    found = await load_all(info.context.loaders.product, ids)
    return [Product.from_model(p) for p in found if p is not None]


@strawberry.type(description="A relationship manager (客户经理).")
class Manager:
    id: strawberry.ID
    name: str
    level: ManagerLevel
    education: Education
    title: ProfessionalTitle
    credit_years: int = strawberry.field(description="Years of credit work.")
    active: bool
    version: int

    @classmethod
    def from_model(cls, m: models.Manager) -> Manager:
        return cls(
            id=strawberry.ID(m.id),
            name=m.name,
            level=m.level,
            education=m.education,
            title=m.title,
            credit_years=m.credit_years,
            active=m.active,
            version=m.version,
        )

    @strawberry.field(description="The department the manager is a member of.")
    @eager
    async def department(self, info: CtxInfo) -> Department | None:
        dept_id = await info.context.loaders.manager_department.load(self.id)
        if dept_id is None:
            return None
        dept = await info.context.loaders.department.load(dept_id)
        return Department.from_model(dept) if dept else None

    @strawberry.field(description="The manager this one reports to.")
    @eager
    async def reports_to(self, info: CtxInfo) -> Manager | None:
        boss_id = await info.context.loaders.manager_boss.load(self.id)
        if boss_id is None:
            return None
        boss = await info.context.loaders.manager.load(boss_id)
        return Manager.from_model(boss) if boss else None

    @strawberry.field(
        description=f"Clients this manager manages, by role then id. {CAPPED} Asked by a "
        "relationship manager: only the clients in the asker's book."
    )
    @eager
    async def clients(
        self, info: CtxInfo, role: ManagerRole | None = None, first: int = LIST_DEFAULT
    ) -> list[ManagedClient]:
        check_range(first, 1, LIST_CAP, "first")
        rows, _ = await info.context.loaders.manager_clients.load(
            (self.id, (role.value if role else None, first))
        )
        # Asked by a manager, the rows are only clients in the asker's book: who manages a
        # client outside it, and since when, is that client's business (graph.managers).
        found = await load_all(info.context.loaders.client, [r.client_id for r in rows])
        return [
            ManagedClient(role=r.role, since=r.since, client=Client.from_model(c))
            for r, c in zip(rows, found, strict=True)
            if c is not None
        ]


@strawberry.type(description="A client as one of a manager's clients.")
class ManagedClient:
    role: ManagerRole
    since: dt.date | None
    client: Client


@strawberry.type(description="A manager of a client, with the role they play for it.")
class ClientManager:
    role: ManagerRole
    since: dt.date | None
    manager: Manager


@strawberry.type(
    description="A department (部门), linked to others directly, linearly or by checks."
)
class Department:
    id: strawberry.ID
    name: str
    function: DepartmentFunction
    model: OrgModel
    archived: bool
    version: int

    @classmethod
    def from_model(cls, d: models.Department) -> Department:
        return cls(
            id=strawberry.ID(d.id),
            name=d.name,
            function=d.function,
            model=d.model,
            archived=d.archived,
            version=d.version,
        )

    async def _links(self, info: CtxInfo, kind: DepartmentLinkKind) -> list[DepartmentLink]:
        links = await info.context.loaders.department_links[kind].load(self.id)
        found = await load_all(info.context.loaders.department, [lk.other_id for lk in links])
        return [
            DepartmentLink(department=Department.from_model(d), since=lk.since, note=lk.note)
            for lk, d in zip(links, found, strict=True)
            if d is not None
        ]

    @strawberry.field(description="The direct parent (直属关系), if any.")
    @eager
    async def parent(self, info: CtxInfo) -> Department | None:
        links = await self._links(info, DepartmentLinkKind.PARENT)
        return links[0].department if links else None

    @strawberry.field(description=f"Departments directly under this one. {CAPPED}")
    @eager
    async def children(self, info: CtxInfo, first: int = LIST_DEFAULT) -> list[Department]:
        check_range(first, 1, LIST_CAP, "first")
        links = await self._links(info, DepartmentLinkKind.CHILDREN)
        return [lk.department for lk in links[:first]]

    @strawberry.field(description="Linear hand-offs (线性关系) from this department to others.")
    @eager
    async def linear_to(self, info: CtxInfo) -> list[DepartmentLink]:
        return await self._links(info, DepartmentLinkKind.LINEAR_TO)

    @strawberry.field(description="Linear hand-offs from others to this department.")
    @eager
    async def linear_from(self, info: CtxInfo) -> list[DepartmentLink]:
        return await self._links(info, DepartmentLinkKind.LINEAR_FROM)

    @strawberry.field(description="Departments this one checks (制衡关系).")
    @eager
    async def checks(self, info: CtxInfo) -> list[DepartmentLink]:
        return await self._links(info, DepartmentLinkKind.CHECKS)

    @strawberry.field(description="Departments that check this one.")
    @eager
    async def checked_by(self, info: CtxInfo) -> list[DepartmentLink]:
        return await self._links(info, DepartmentLinkKind.CHECKED_BY)

    @strawberry.field(description="The chain up the direct hierarchy: this department first.")
    @eager
    async def path_to_root(self, info: CtxInfo) -> list[Department]:
        chain = await info.context.loaders.department_path.load(self.id)
        return await _departments(info, chain)

    @strawberry.field(description=f"Managers who are members of this department, by id. {CAPPED}")
    @eager
    async def members(self, info: CtxInfo, first: int = LIST_DEFAULT) -> list[Manager]:
        check_range(first, 1, LIST_CAP, "first")
        ids = await info.context.loaders.department_members.load(self.id)
        return await _managers(info, ids[:first])

    @strawberry.field(description=f"Products this department offers. {CAPPED}")
    @eager
    async def products(self, info: CtxInfo, first: int = LIST_DEFAULT) -> list[Product]:
        check_range(first, 1, LIST_CAP, "first")
        ids = await info.context.loaders.department_products.load(self.id)
        return await _products(info, ids[:first])


@strawberry.type(description="A link to another department, with when it began and its note.")
class DepartmentLink:
    department: Department
    since: dt.date | None
    note: str | None = strawberry.field(description="Purpose (linear) or scope (checks).")


@strawberry.type(description="A product offered by a product department.")
class Product:
    id: strawberry.ID
    name: str
    category: ProductCategory
    audience: ProductAudience
    risk_level: int

    @classmethod
    def from_model(cls, p: models.Product) -> Product:
        return cls(
            id=strawberry.ID(p.id),
            name=p.name,
            category=p.category,
            audience=p.audience,
            risk_level=p.risk_level,
        )

    @strawberry.field(description="Departments that offer this product.")
    @eager
    async def offered_by(self, info: CtxInfo) -> list[Department]:
        ids = await info.context.loaders.product_departments.load(self.id)
        return await _departments(info, ids)

    @strawberry.field(
        description=f"Cross-sell links from this product, strongest lift first. {CAPPED}"
    )
    @eager
    async def cross_sells_to(self, info: CtxInfo, first: int = LIST_DEFAULT) -> list[CrossSell]:
        check_range(first, 1, LIST_CAP, "first")
        links = (await info.context.loaders.cross_sells.load(self.id))[:first]
        found = await load_all(info.context.loaders.product, [lk.to_id for lk in links])
        return [
            CrossSell(
                product=Product.from_model(p),
                support=lk.support,
                confidence=lk.confidence,
                lift=lk.lift,
                pinned=lk.pinned,
            )
            for lk, p in zip(links, found, strict=True)
            if p is not None
        ]


@strawberry.type(description="support, confidence and lift of holding `product` given the other.")
class CrossSell:
    product: Product
    support: float
    confidence: float
    lift: float
    pinned: bool = strawberry.field(description="Curated by a product department; kept on refresh.")


@strawberry.type(description="A product a client holds.")
class Holding:
    product: Product
    balance: Decimal
    since: dt.date | None
    active: bool
    consented: bool = strawberry.field(
        description="False once the risk side found it opened without the client's consent "
        "(setHoldingConsent): kept on record, counted in no products-per-client figure."
    )


@strawberry.type(description="A credit facility (授信).")
class Facility:
    id: strawberry.ID
    type: FacilityType
    limit: Decimal
    drawn: Decimal
    currency: str
    status: FacilityStatus = strawberry.field(
        description="CLOSED: repaid and closed, kept for history and counted in no exposure."
    )
    granted_at: dt.date | None
    closed_on: dt.date | None = strawberry.field(
        description="The day it was closed (by closeFacility, or as imported from "
        "`facilities.csv`); null while open."
    )
    borrower_id: strawberry.Private[str]
    granting_department_id: strawberry.Private[str | None]
    approving_department_id: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, f: models.Facility) -> Facility:
        return cls(
            id=strawberry.ID(f.id),
            type=f.type,
            limit=f.limit,
            drawn=f.drawn,
            currency=f.currency,
            status=f.status,
            granted_at=f.granted_at,
            closed_on=f.closed_on,
            borrower_id=f.borrower_id,
            granting_department_id=f.granting_department_id,
            approving_department_id=f.approving_department_id,
        )

    async def _department(self, info: CtxInfo, dept_id: str | None) -> Department | None:
        if dept_id is None:
            return None
        dept = await info.context.loaders.department.load(dept_id)
        return Department.from_model(dept) if dept else None

    @strawberry.field
    @eager
    async def borrower(self, info: CtxInfo) -> Client | None:
        found = await info.context.loaders.client.load(self.borrower_id)
        return Client.from_model(found) if found else None

    @strawberry.field(description="The department that granted the facility.")
    @eager
    async def granting_department(self, info: CtxInfo) -> Department | None:
        return await self._department(info, self.granting_department_id)

    @strawberry.field(description="The department that approved it; null when unapproved.")
    @eager
    async def approving_department(self, info: CtxInfo) -> Department | None:
        return await self._department(info, self.approving_department_id)


@strawberry.type(description="A link to another client: its kind, direction and both roles.")
class RelatedClient:
    kind: ClientLinkKind
    direction: LinkDirection
    role: str = strawberry.field(description="This client's role, e.g. PARENT, GUARANTOR.")
    other_role: str = strawberry.field(description="The other's role, e.g. SUBSIDIARY.")
    share: float | None = strawberry.field(description="Control share in percent (0-100).")
    basis: ControlBasis | None
    amount: Decimal | None = strawberry.field(description="Guaranteed amount.")
    facility_id: strawberry.ID | None = strawberry.field(description="The guaranteed facility.")
    client: Client


@strawberry.type(description="A client of the bank: corporate, individual or interbank.")
class Client:
    id: strawberry.ID
    name: str | None = strawberry.field(description="Null only when the client is not visible.")
    kind: ClientKind
    segment: ClientSegment | None = strawberry.field(description="EXISTING (存量) or NEW (增量).")
    status: ClientStatus | None
    grade: KeyAccountGrade | None = strawberry.field(description="Key-account grade, if any.")
    risk_rating: int | None = strawberry.field(description="1 (lowest risk) to 5.")
    industry: str | None
    region: str | None
    version: int | None
    pipeline_stage: Stage | None = strawberry.field(
        default=None, description="Development pipeline stage of a prospect (or where it ended)."
    )
    potential: str | None = strawberry.field(
        default=None, description="HIGH, MEDIUM or LOW, as the manager judged it."
    )

    @strawberry.field(description="Visits, maintenance activities and complaints, newest first.")
    @eager
    async def interactions(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> InteractionPage:
        page = await info.context.loaders.interactions.load((self.id, (first, after)))
        return InteractionPage.from_model(page)

    @strawberry.field(description="Moves through the development pipeline, newest first.")
    @eager
    async def pipeline_history(self, info: CtxInfo) -> list[PipelineMove]:
        moves = await info.context.loaders.pipeline_history.load(self.id)
        return [PipelineMove.from_model(m) for m in moves]

    @strawberry.field(description="The management plan of the client's key-account grade.")
    @eager
    async def management_plan(self, info: CtxInfo) -> ManagementPlan | None:
        if self.grade is None:
            return None
        plan = await info.context.loaders.management_plan.load(self.grade.value)
        return ManagementPlan(**plan.model_dump()) if plan else None

    @strawberry.field(
        description="False when the asking manager may not see this client: then only `id` and "
        "`kind` are given, other fields are null or empty."
    )
    @eager
    async def visible(self, info: CtxInfo) -> bool:
        return await info.context.loaders.client_visible.load(self.id)

    @classmethod
    def from_model(cls, c: models.Client) -> Client:
        return cls(
            id=strawberry.ID(c.id),
            name=c.name,
            kind=c.kind,
            segment=c.segment,
            status=c.status,
            grade=c.grade,
            risk_rating=c.risk_rating,
            industry=c.industry,
            region=c.region,
            version=c.version,
            pipeline_stage=Stage(c.stage) if c.stage else None,
            potential=c.potential,
        )

    async def _managers(self, info: CtxInfo) -> list[ClientManager]:
        rows = await info.context.loaders.assignments.load(self.id)
        found = await load_all(info.context.loaders.manager, [r.manager_id for r in rows])
        return [
            ClientManager(role=r.role, since=r.since, manager=Manager.from_model(m))
            for r, m in zip(rows, found, strict=True)
            if m is not None
        ]

    @strawberry.field(description="All managers of the client with their roles, primary first.")
    @eager
    async def managers(self, info: CtxInfo) -> list[ClientManager]:
        return await self._managers(info)

    @strawberry.field(description="The one accountable manager of an active client.")
    @eager
    async def primary_manager(self, info: CtxInfo) -> Manager | None:
        return await self._primary_manager(info)

    async def _primary_manager(self, info: CtxInfo) -> Manager | None:
        primary = [m.manager for m in await self._managers(info) if m.role.value == "PRIMARY"]
        return primary[0] if primary else None

    @strawberry.field(description="Support managers.")
    @eager
    async def secondary_managers(self, info: CtxInfo) -> list[Manager]:
        return [m.manager for m in await self._managers(info) if m.role.value == "SECONDARY"]

    @strawberry.field(
        description="The primary manager's department and its chain up the direct hierarchy "
        "to the root."
    )
    @eager
    async def department_path(self, info: CtxInfo) -> list[Department]:
        primary = await self._primary_manager(info)
        if primary is None:
            return []
        dept_id = await info.context.loaders.manager_department.load(primary.id)
        if dept_id is None:
            return []
        chain = await info.context.loaders.department_path.load(dept_id)
        return await _departments(info, chain)

    @strawberry.field(description=f"Products held, largest balance first. {CAPPED}")
    @eager
    async def holdings(
        self, info: CtxInfo, first: int = LIST_DEFAULT, include_closed: bool = False
    ) -> list[Holding]:
        check_range(first, 1, LIST_CAP, "first")
        rows = await info.context.loaders.holdings.load((self.id, (first, include_closed)))
        found = await load_all(info.context.loaders.product, [h.product_id for h in rows])
        return [
            Holding(
                product=Product.from_model(p),
                balance=h.balance,
                since=h.since,
                active=h.active,
                consented=h.consented,
            )
            for h, p in zip(rows, found, strict=True)
            if p is not None
        ]

    @strawberry.field(description=f"Facilities the client borrows, largest limit first. {CAPPED}")
    @eager
    async def facilities(self, info: CtxInfo, first: int = LIST_DEFAULT) -> list[Facility]:
        check_range(first, 1, LIST_CAP, "first")
        rows = await info.context.loaders.facilities.load((self.id, first))
        return [Facility.from_model(f) for f in rows]

    @strawberry.field(
        description="The client's corporate group through control links (more than 50% or "
        "stated control, up to 6 links), with its figures rolled up; null when in no group."
    )
    @eager
    async def group(self, info: CtxInfo) -> ClientGroup | None:
        found = await info.context.loaders.client_group.load(self.id)
        if found is None:
            return None
        return ClientGroup(
            root_id=found.root_id,
            member_count=found.member_count,
            member_ids=found.member_ids,
            total_balance=found.total_balance,
            credit=found,
        )

    @strawberry.field(
        description="Links to other clients (control, guarantee, supply chain, family, economic "
        f"dependence, profit transfer, key person), ordered by kind then client id. {CAPPED}"
    )
    @eager
    async def related_clients(
        self,
        info: CtxInfo,
        kinds: list[ClientLinkKind] | None = None,
        direction: LinkDirection = models.LinkDirection.BOTH,
        first: int = LIST_DEFAULT,
    ) -> list[RelatedClient]:
        check_range(first, 1, LIST_CAP, "first")
        links, _ = await info.context.loaders.client_links.load(
            (self.id, (link_kinds_key(kinds), direction, first))
        )
        found = await load_all(info.context.loaders.client, [lk.other_id for lk in links])
        return [
            RelatedClient(
                kind=lk.kind,
                direction=lk.direction,
                role=lk.role,
                other_role=lk.other_role,
                share=lk.share,
                basis=lk.basis,
                amount=lk.amount,
                facility_id=strawberry.ID(lk.facility_id) if lk.facility_id else None,
                client=Client.from_model(c),
            )
            for lk, c in zip(links, found, strict=True)
            if c is not None
        ]

    @strawberry.field(
        description="How many links `relatedClients` has with these `kinds` and `direction`, "
        "however few `first` lists: whether a page shows them all. Null for a client outside "
        "the asking manager's book."
    )
    @eager
    async def related_client_count(
        self,
        info: CtxInfo,
        kinds: list[ClientLinkKind] | None = None,
        direction: LinkDirection = models.LinkDirection.BOTH,
    ) -> int | None:
        # A page of none: the same query and loader as `relatedClients`, its total alone.
        _, total = await info.context.loaders.client_links.load(
            (self.id, (link_kinds_key(kinds), direction, 0))
        )
        return total


@strawberry.type(description="A corporate group: the top controller and all it controls.")
class ClientGroup:
    root_id: strawberry.Private[str]
    member_ids: strawberry.Private[list[str]]
    member_count: int
    total_balance: Decimal = strawberry.field(
        description="Sum of members' active holdings (an archived member's left out). "
        + BOOK_TOTALS
    )
    # Converted to the reporting currency only when asked for: a missing rate fails these two
    # figures, not the group.
    credit: strawberry.Private[GroupCredit]

    @strawberry.field(
        description=f"Sum of members' facility limits, in the reporting currency. {BOOK_TOTALS}"
    )
    def total_facilities(self) -> Decimal:
        return self.credit.total_limit()

    @strawberry.field(
        description=f"Sum of members' drawn amounts, in the reporting currency. {BOOK_TOTALS}"
    )
    def total_drawn(self) -> Decimal:
        return self.credit.total_drawn()

    @strawberry.field(description="The top controller.")
    @eager
    async def root(self, info: CtxInfo) -> Client | None:
        found = await info.context.loaders.client.load(self.root_id)
        return Client.from_model(found) if found else None

    @strawberry.field(description="Members in id order, the first 100.")
    @eager
    async def members(self, info: CtxInfo) -> list[Client]:
        found = await load_all(info.context.loaders.client, self.member_ids)
        return [Client.from_model(c) for c in found if c is not None]
