"""Data in, one change at a time: mutations that create and change clients, managers, products,
the links between clients, holdings and credit.

Each runs as one transaction with its checks inside (`graph.data_writes`) and returns its success
type or a typed error (`schema.mutation_errors`); a refused mutation writes nothing. Who may call
which is in `schema.permissions`; a MANAGER changes only clients in their book (checked inside
the transaction, where clients outside the book are `NotFoundError`, as they are null to reads)
and creates clients only as their own primary manager.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry

from graph import (
    client_link_writes,
    client_writes,
    facility_writes,
    holding_writes,
    manager_writes,
    product_writes,
    unified_limits,
)
from graph.models import (
    ClientKind,
    ClientLinkKind,
    ClientSegment,
    ClientStatus,
    ControlBasis,
    Education,
    FacilityType,
    KeyAccountGrade,
    ManagerLevel,
    ProductAudience,
    ProductCategory,
    ProfessionalTitle,
)
from schema.mutation_errors import MutationError, attempt
from schema.permissions import Forbidden
from schema.principal import actor_of, book_of
from schema.types import Client, CtxInfo, Facility, Holding, Manager, Product

T = TypeVar("T")
S = TypeVar("S")


def _given(input_: object, skip: set[str]) -> dict[str, Any]:
    """The fields of an update input the caller set (null included), by snake_case name."""
    return {
        f.name: getattr(input_, f.name)
        for f in dataclasses.fields(input_)  # type: ignore[arg-type]
        if f.name not in skip and getattr(input_, f.name) is not strawberry.UNSET
    }


UPDATE = "Fields left out keep their value."
VERSION = "The node's `version` as last read; a VersionConflictError when it moved on."


# Success types -----------------------------------------------------------------------------


@strawberry.type(description="The client as written.")
class ClientSuccess:
    client: Client


@strawberry.type(description="The manager as written.")
class ManagerSuccess:
    manager: Manager


@strawberry.type(description="The product as written.")
class ProductSuccess:
    product: Product


@strawberry.type(description="A link between two clients, as written (or as it was, removed).")
class ClientLinkSuccess:
    from_id: strawberry.Private[str]
    to_id: strawberry.Private[str]
    kind: ClientLinkKind
    share: float | None = strawberry.field(description="CONTROL: percent of shares or votes.")
    basis: ControlBasis | None
    role: str | None = strawberry.field(description="The role of `from`; null for CONTROL.")
    reciprocal_role: str | None = strawberry.field(description="The role of `to`.")

    @classmethod
    def from_model(cls, saved: client_link_writes.ClientLinkInput) -> ClientLinkSuccess:
        return cls(
            from_id=saved.from_id, to_id=saved.to_id, kind=saved.kind, share=saved.share,
            basis=saved.basis, role=saved.role, reciprocal_role=saved.reciprocal_role,
        )  # fmt: skip

    async def _client(self, info: CtxInfo, client_id: str) -> Client | None:
        found = await info.context.loaders.client.load(client_id)
        return Client.from_model(found) if found else None

    @strawberry.field(name="from")
    async def from_(self, info: CtxInfo) -> Client | None:
        return await self._client(info, self.from_id)

    @strawberry.field
    async def to(self, info: CtxInfo) -> Client | None:
        return await self._client(info, self.to_id)


@strawberry.type(description="A client's holding of a product, as written.")
class HoldingSuccess:
    client: Client
    holding: Holding

    @classmethod
    def from_model(cls, w: holding_writes.HoldingWritten) -> HoldingSuccess:
        h = w.holding
        return cls(
            client=Client.from_model(w.client),
            holding=Holding(
                product=Product.from_model(w.product), balance=h.balance, since=h.since,
                active=h.active, consented=h.consented,
            ),
        )  # fmt: skip


@strawberry.type(description="The facility as written.")
class FacilitySuccess:
    facility: Facility


@strawberry.type(description="A guarantee of a facility, as written.")
class GuaranteeSuccess:
    guarantor: Client
    facility: Facility
    amount: Decimal


CreateClientResult = Annotated[
    ClientSuccess | MutationError, strawberry.union("CreateClientResult")
]
UpdateClientResult = Annotated[
    ClientSuccess | MutationError, strawberry.union("UpdateClientResult")
]
ArchiveClientResult = Annotated[
    ClientSuccess | MutationError, strawberry.union("ArchiveClientResult")
]
SetUnifiedLimitResult = Annotated[
    ClientSuccess | MutationError, strawberry.union("SetUnifiedLimitResult")
]
CreateManagerResult = Annotated[
    ManagerSuccess | MutationError, strawberry.union("CreateManagerResult")
]
UpdateManagerResult = Annotated[
    ManagerSuccess | MutationError, strawberry.union("UpdateManagerResult")
]
CreateProductResult = Annotated[
    ProductSuccess | MutationError, strawberry.union("CreateProductResult")
]
UpdateProductResult = Annotated[
    ProductSuccess | MutationError, strawberry.union("UpdateProductResult")
]
RelateClientsResult = Annotated[
    ClientLinkSuccess | MutationError, strawberry.union("RelateClientsResult")
]
UnrelateClientsResult = Annotated[
    ClientLinkSuccess | MutationError, strawberry.union("UnrelateClientsResult")
]
RecordHoldingResult = Annotated[
    HoldingSuccess | MutationError, strawberry.union("RecordHoldingResult")
]
SetHoldingConsentResult = Annotated[
    HoldingSuccess | MutationError, strawberry.union("SetHoldingConsentResult")
]
CloseHoldingResult = Annotated[
    HoldingSuccess | MutationError, strawberry.union("CloseHoldingResult")
]
CreateFacilityResult = Annotated[
    FacilitySuccess | MutationError, strawberry.union("CreateFacilityResult")
]
ApproveFacilityResult = Annotated[
    FacilitySuccess | MutationError, strawberry.union("ApproveFacilityResult")
]
AddGuaranteeResult = Annotated[
    GuaranteeSuccess | MutationError, strawberry.union("AddGuaranteeResult")
]
WithdrawApprovalResult = Annotated[
    FacilitySuccess | MutationError, strawberry.union("WithdrawApprovalResult")
]
ChangeGuaranteeAmountResult = Annotated[
    GuaranteeSuccess | MutationError, strawberry.union("ChangeGuaranteeAmountResult")
]
ReleaseGuaranteeResult = Annotated[
    GuaranteeSuccess | MutationError, strawberry.union("ReleaseGuaranteeResult")
]
DrawFacilityResult = Annotated[
    FacilitySuccess | MutationError, strawberry.union("DrawFacilityResult")
]
RepayFacilityResult = Annotated[
    FacilitySuccess | MutationError, strawberry.union("RepayFacilityResult")
]
ChangeFacilityLimitResult = Annotated[
    FacilitySuccess | MutationError, strawberry.union("ChangeFacilityLimitResult")
]
CloseFacilityResult = Annotated[
    FacilitySuccess | MutationError, strawberry.union("CloseFacilityResult")
]


def _client(c: Any) -> ClientSuccess:
    return ClientSuccess(client=Client.from_model(c))


def _manager(m: Any) -> ManagerSuccess:
    return ManagerSuccess(manager=Manager.from_model(m))


def _product(p: Any) -> ProductSuccess:
    return ProductSuccess(product=Product.from_model(p))


def _facility(f: Any) -> FacilitySuccess:
    return FacilitySuccess(facility=Facility.from_model(f))


def _guarantee(g: facility_writes.GuaranteeWritten) -> GuaranteeSuccess:
    return GuaranteeSuccess(
        guarantor=Client.from_model(g.guarantor),
        facility=Facility.from_model(g.facility),
        amount=g.amount,
    )


# Inputs ------------------------------------------------------------------------------------


@strawberry.input
class CreateClientInput:
    id: strawberry.ID
    name: str
    kind: ClientKind
    segment: ClientSegment = strawberry.field(
        description="EXISTING (存量) for business the bank already had; NEW (增量) for a client "
        "the manager developed."
    )
    risk_rating: int | None = strawberry.field(
        default=None,
        description="1 (lowest risk) to 5. Left out, the client starts at 1, the most cautious "
        "(only the lowest-risk products are suggested to it), until the risk function rates it. "
        "A relationship manager leaves it out (check and balance).",
    )
    primary_manager_id: strawberry.ID = strawberry.field(
        description="The one accountable manager; linked in the same transaction."
    )
    status: ClientStatus = strawberry.field(
        default=ClientStatus.PROSPECT, description="PROSPECT or ACTIVE."
    )
    grade: KeyAccountGrade | None = None
    industry: str | None = None
    region: str | None = None


@strawberry.input(description=UPDATE)
class UpdateClientInput:
    client_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.UNSET
    kind: ClientKind | None = strawberry.UNSET
    segment: ClientSegment | None = strawberry.field(
        default=strawberry.UNSET, description="EXISTING never becomes NEW."
    )
    status: ClientStatus | None = strawberry.field(
        default=strawberry.UNSET, description="PROSPECT or ACTIVE; archive with archiveClient."
    )
    grade: KeyAccountGrade | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the grade."
    )
    risk_rating: int | None = strawberry.UNSET
    industry: str | None = strawberry.UNSET
    region: str | None = strawberry.UNSET


@strawberry.input
class ArchiveClientInput:
    client_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input
class CreateManagerInput:
    id: strawberry.ID
    name: str
    level: ManagerLevel
    education: Education
    title: ProfessionalTitle
    credit_years: int = strawberry.field(description="Years of credit work, 0 to 60.")
    department_id: strawberry.ID
    reports_to_id: strawberry.ID | None = None
    exceptional: bool = strawberry.field(
        default=False,
        description="Hired above the level the grading table allows (破格); needs a reason.",
    )
    reason: str | None = strawberry.field(
        default=None, description="Why, for an exceptional hire (up to 2,000 characters)."
    )


@strawberry.input(
    description=UPDATE + " Move departments with assignManager; change the level with "
    "promoteManager or demoteManager, which check the grading table and record the change."
)
class UpdateManagerInput:
    manager_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.UNSET
    education: Education | None = strawberry.UNSET
    title: ProfessionalTitle | None = strawberry.UNSET
    credit_years: int | None = strawberry.UNSET
    active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="false only once the manager is primary of no active client.",
    )
    reports_to_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="null: reports to nobody."
    )


@strawberry.input
class CreateProductInput:
    id: strawberry.ID
    name: str
    category: ProductCategory
    audience: ProductAudience
    risk_level: int = strawberry.field(description="1 to 5.")
    department_id: strawberry.ID = strawberry.field(description="The product department.")


@strawberry.input(description=UPDATE)
class UpdateProductInput:
    product_id: strawberry.ID
    name: str | None = strawberry.UNSET
    category: ProductCategory | None = strawberry.UNSET
    audience: ProductAudience | None = strawberry.UNSET
    risk_level: int | None = strawberry.UNSET


@strawberry.input(
    description="CONTROL takes share and basis; other kinds take role and reciprocalRole. "
    "Guarantees are added with addGuarantee."
)
class RelateClientsInput:
    from_id: strawberry.ID = strawberry.field(description="CONTROL: the controller.")
    to_id: strawberry.ID
    kind: ClientLinkKind
    share: float | None = strawberry.field(default=None, description="Percent, above 0 to 100.")
    basis: ControlBasis | None = None
    role: str | None = strawberry.field(default=None, description="Of `from`, e.g. SUPPLIER.")
    reciprocal_role: str | None = strawberry.field(
        default=None, description="Of `to`, e.g. CUSTOMER."
    )


@strawberry.input
class UnrelateClientsInput:
    from_id: strawberry.ID
    to_id: strawberry.ID
    kind: ClientLinkKind


@strawberry.input
class RecordHoldingInput:
    client_id: strawberry.ID
    product_id: strawberry.ID
    balance: Decimal
    since: dt.date | None = strawberry.field(
        default=None, description="Default: today for a new or reopened holding, else kept."
    )


@strawberry.input
class CloseHoldingInput:
    client_id: strawberry.ID
    product_id: strawberry.ID


@strawberry.input
class SetHoldingConsentInput:
    client_id: strawberry.ID
    product_id: strawberry.ID
    consented: bool
    reason: str | None = strawberry.field(default=None, description="Up to 500 characters.")


@strawberry.input
class CreateFacilityInput:
    id: strawberry.ID
    borrower_id: strawberry.ID
    type: FacilityType
    limit: Decimal
    currency: str = strawberry.field(description="ISO 4217, e.g. CNY.")
    granting_department_id: strawberry.ID


@strawberry.input
class ApproveFacilityInput:
    facility_id: strawberry.ID
    approving_department_id: strawberry.ID = strawberry.field(
        description="Independent of the granting department: not it, its ancestor or descendant."
    )


@strawberry.input
class DrawFacilityInput:
    facility_id: strawberry.ID
    amount: Decimal = strawberry.field(
        description="Above 0; the drawn total stays within the limit."
    )


@strawberry.input
class RepayFacilityInput:
    facility_id: strawberry.ID
    amount: Decimal = strawberry.field(description="Above 0, at most what is drawn.")


@strawberry.input
class ChangeFacilityLimitInput:
    facility_id: strawberry.ID
    limit: Decimal = strawberry.field(
        description="Above 0, in the facility's currency; at least what is drawn and the largest "
        "guarantee on it. A raise withdraws the facility's approval until it is approved again."
    )
    reason: str | None = strawberry.field(default=None, description="Up to 500 characters.")


@strawberry.input
class CloseFacilityInput:
    facility_id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Up to 500 characters.")


@strawberry.input
class ReleaseGuaranteeInput:
    guarantor_id: strawberry.ID
    facility_id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Up to 500 characters.")


@strawberry.input
class AddGuaranteeInput:
    guarantor_id: strawberry.ID
    facility_id: strawberry.ID
    amount: Decimal = strawberry.field(description="Above 0, at most the facility's limit.")


@strawberry.input
class WithdrawApprovalInput:
    facility_id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Up to 500 characters.")


@strawberry.input
class ChangeGuaranteeAmountInput:
    guarantor_id: strawberry.ID
    facility_id: strawberry.ID
    amount: Decimal = strawberry.field(description="Above 0, at most the facility's limit.")
    reason: str | None = strawberry.field(default=None, description="Up to 500 characters.")


@strawberry.input
class SetUnifiedLimitInput:
    client_id: strawberry.ID = strawberry.field(description="The group's top controller.")
    limit: Decimal | None = strawberry.field(
        description="Above 0, two decimal places at most; null removes the unified limit."
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code of `limit`; required with a limit."
    )
    reason: str | None = strawberry.field(default=None, description="Up to 500 characters.")
    expected_version: int | None = strawberry.field(default=None, description=VERSION)


# Mutations ---------------------------------------------------------------------------------


@strawberry.type
class DataInMutation:
    @strawberry.mutation(
        description="Create a client with its primary manager, in one transaction. A MANAGER "
        "creates clients as their own primary manager, without a `riskRating`."
    )
    async def create_client(self, info: CtxInfo, input: CreateClientInput) -> CreateClientResult:
        book = book_of(info)
        if book is not None and book != input.primary_manager_id:
            raise Forbidden("Mutation.createClient")
        new = client_writes.NewClient(
            id=input.id, name=input.name, kind=input.kind, segment=input.segment,
            status=input.status, grade=input.grade, risk_rating=input.risk_rating,
            industry=input.industry, region=input.region,
        )  # fmt: skip
        return await attempt(
            client_writes.create_client(
                info.context.db, actor_of(info), new, input.primary_manager_id, book
            ),
            _client,
        )

    @strawberry.mutation(
        description=f"Change a client's fields. {UPDATE} A relationship manager may not change "
        "`riskRating` (check and balance: the risk function rates)."
    )
    async def update_client(self, info: CtxInfo, input: UpdateClientInput) -> UpdateClientResult:
        changes = client_writes.ClientChanges(**_given(input, {"client_id", "expected_version"}))
        return await attempt(
            client_writes.update_client(
                info.context.db, actor_of(info), input.client_id, changes, input.expected_version,
                book_of(info),
            ),
            _client,
        )  # fmt: skip

    @strawberry.mutation(
        description="Archive a client: its facilities, holdings, links and history stay "
        "readable. Refused while it has drawn credit outstanding."
    )
    async def archive_client(self, info: CtxInfo, input: ArchiveClientInput) -> ArchiveClientResult:
        return await attempt(
            client_writes.archive_client(
                info.context.db, actor_of(info), input.client_id, input.expected_version
            ),
            _client,
        )

    @strawberry.mutation(
        description="Create a manager, a member of a department, at the entry level or one "
        "whose requirements they meet (LEVEL_REQUIREMENTS), or exceptionally above; recorded "
        "in their gradeHistory as a HIRE."
    )
    async def create_manager(self, info: CtxInfo, input: CreateManagerInput) -> CreateManagerResult:
        new = manager_writes.NewManager(
            id=input.id, name=input.name, level=input.level, education=input.education,
            title=input.title, credit_years=input.credit_years, department_id=input.department_id,
            reports_to_id=input.reports_to_id, exceptional=input.exceptional,
            reason=input.reason,
        )  # fmt: skip
        return await attempt(
            manager_writes.create_manager(info.context.db, actor_of(info), new), _manager
        )

    @strawberry.mutation(description=f"Change a manager's fields. {UPDATE}")
    async def update_manager(self, info: CtxInfo, input: UpdateManagerInput) -> UpdateManagerResult:
        changes = manager_writes.ManagerChanges(**_given(input, {"manager_id", "expected_version"}))
        return await attempt(
            manager_writes.update_manager(
                info.context.db, actor_of(info), input.manager_id, changes, input.expected_version
            ),
            _manager,
        )

    @strawberry.mutation(description="Create a product offered by a product department.")
    async def create_product(self, info: CtxInfo, input: CreateProductInput) -> CreateProductResult:
        new = product_writes.NewProduct(
            id=input.id, name=input.name, category=input.category, audience=input.audience,
            risk_level=input.risk_level, department_id=input.department_id,
        )  # fmt: skip
        return await attempt(
            product_writes.create_product(info.context.db, actor_of(info), new), _product
        )

    @strawberry.mutation(description=f"Change a product's fields. {UPDATE}")
    async def update_product(self, info: CtxInfo, input: UpdateProductInput) -> UpdateProductResult:
        changes = product_writes.ProductChanges(**_given(input, {"product_id"}))
        return await attempt(
            product_writes.update_product(
                info.context.db, actor_of(info), input.product_id, changes
            ),
            _product,
        )

    @strawberry.mutation(
        description="Link two clients: CONTROL (share, basis) or a related kind (roles). No "
        "self-links, no repeats, no control cycles."
    )
    async def relate_clients(self, info: CtxInfo, input: RelateClientsInput) -> RelateClientsResult:
        link = client_link_writes.ClientLinkInput(
            from_id=input.from_id, to_id=input.to_id, kind=input.kind, share=input.share,
            basis=input.basis, role=input.role, reciprocal_role=input.reciprocal_role,
        )  # fmt: skip
        return await attempt(
            client_link_writes.relate_clients(info.context.db, actor_of(info), link, book_of(info)),
            ClientLinkSuccess.from_model,
        )

    @strawberry.mutation(description="Remove the link of this kind from one client to another.")
    async def unrelate_clients(
        self, info: CtxInfo, input: UnrelateClientsInput
    ) -> UnrelateClientsResult:
        return await attempt(
            client_link_writes.unrelate_clients(
                info.context.db, actor_of(info), input.from_id, input.to_id, input.kind,
                book_of(info),
            ),
            ClientLinkSuccess.from_model,
        )  # fmt: skip

    @strawberry.mutation(
        description="Record a client's balance in a product: opens the holding, or updates "
        "(and reopens) the one it has."
    )
    async def record_holding(self, info: CtxInfo, input: RecordHoldingInput) -> RecordHoldingResult:
        return await attempt(
            holding_writes.record_holding(
                info.context.db, actor_of(info), input.client_id, input.product_id, input.balance,
                input.since, book_of(info),
            ),
            HoldingSuccess.from_model,
        )  # fmt: skip

    @strawberry.mutation(description="Close a holding; it stays readable with includeClosed.")
    async def close_holding(self, info: CtxInfo, input: CloseHoldingInput) -> CloseHoldingResult:
        return await attempt(
            holding_writes.close_holding(
                info.context.db, actor_of(info), input.client_id, input.product_id, book_of(info)
            ),
            HoldingSuccess.from_model,
        )

    @strawberry.mutation(
        description="Record that a holding was opened without the client's consent "
        "(consented: false), or restore it: it stays on record, and counts in products per "
        "client and the cross-sell measures only while consented. Risk officers and admins."
    )
    async def set_holding_consent(
        self, info: CtxInfo, input: SetHoldingConsentInput
    ) -> SetHoldingConsentResult:
        return await attempt(
            holding_writes.set_holding_consent(
                info.context.db, actor_of(info), input.client_id, input.product_id,
                input.consented, input.reason,
            ),
            HoldingSuccess.from_model,
        )  # fmt: skip

    @strawberry.mutation(
        description="Grant a facility (today), nothing drawn; unapproved until approved, and "
        "drawn on with drawFacility."
    )
    async def create_facility(
        self, info: CtxInfo, input: CreateFacilityInput
    ) -> CreateFacilityResult:
        new = facility_writes.NewFacility(
            id=input.id, borrower_id=input.borrower_id, type=input.type, limit=input.limit,
            currency=input.currency,
            granting_department_id=input.granting_department_id,
        )  # fmt: skip
        return await attempt(
            facility_writes.create_facility(info.context.db, actor_of(info), new), _facility
        )

    @strawberry.mutation(
        description="Approve a facility by a department independent of the granting one."
    )
    async def approve_facility(
        self, info: CtxInfo, input: ApproveFacilityInput
    ) -> ApproveFacilityResult:
        return await attempt(
            facility_writes.approve_facility(
                info.context.db, actor_of(info), input.facility_id, input.approving_department_id
            ),
            _facility,
        )

    @strawberry.mutation(
        description="Draw on an independently approved facility, at most up to its limit."
    )
    async def draw_facility(self, info: CtxInfo, input: DrawFacilityInput) -> DrawFacilityResult:
        return await attempt(
            facility_writes.draw_facility(
                info.context.db, actor_of(info), input.facility_id, input.amount
            ),
            _facility,
        )

    @strawberry.mutation(description="Repay drawn credit, at most what is drawn.")
    async def repay_facility(self, info: CtxInfo, input: RepayFacilityInput) -> RepayFacilityResult:
        return await attempt(
            facility_writes.repay_facility(
                info.context.db, actor_of(info), input.facility_id, input.amount
            ),
            _facility,
        )

    @strawberry.mutation(
        description="Change an open facility's limit: lowered to no less than what is drawn and "
        "its largest guarantee; raised only with a new approval (the old one is withdrawn)."
    )
    async def change_facility_limit(
        self, info: CtxInfo, input: ChangeFacilityLimitInput
    ) -> ChangeFacilityLimitResult:
        return await attempt(
            facility_writes.change_facility_limit(
                info.context.db, actor_of(info), input.facility_id, input.limit, input.reason
            ),
            _facility,
        )

    @strawberry.mutation(
        description="Close a fully repaid facility: kept for history, its guarantees released, "
        "counted in no exposure."
    )
    async def close_facility(self, info: CtxInfo, input: CloseFacilityInput) -> CloseFacilityResult:
        return await attempt(
            facility_writes.close_facility(
                info.context.db, actor_of(info), input.facility_id, input.reason
            ),
            _facility,
        )

    @strawberry.mutation(description="A client guarantees a facility of another client.")
    async def add_guarantee(self, info: CtxInfo, input: AddGuaranteeInput) -> AddGuaranteeResult:
        return await attempt(
            facility_writes.add_guarantee(
                info.context.db, actor_of(info), input.guarantor_id, input.facility_id, input.amount
            ),
            _guarantee,
        )

    @strawberry.mutation(
        description="Withdraw an open facility's approval: nothing more is drawn until it is "
        "approved again; what is drawn stays."
    )
    async def withdraw_approval(
        self, info: CtxInfo, input: WithdrawApprovalInput
    ) -> WithdrawApprovalResult:
        return await attempt(
            facility_writes.withdraw_approval(
                info.context.db, actor_of(info), input.facility_id, input.reason
            ),
            _facility,
        )

    @strawberry.mutation(
        description="Amend a guarantee of an open facility to a new amount, at most the "
        "facility's limit; the audit record keeps the old one."
    )
    async def change_guarantee_amount(
        self, info: CtxInfo, input: ChangeGuaranteeAmountInput
    ) -> ChangeGuaranteeAmountResult:
        return await attempt(
            facility_writes.change_guarantee_amount(
                info.context.db, actor_of(info), input.guarantor_id, input.facility_id,
                input.amount, input.reason,
            ),
            _guarantee,
        )  # fmt: skip

    @strawberry.mutation(
        description="Set the unified credit limit (统一授信) of the group whose top controller is "
        "the client, or remove it (`limit: null`): creditExposure then reports departments "
        "lending to the group as within it rather than 多头授信, and whether the group's total "
        "is above it. Refused on a client something controls (`GROUP_TOP`)."
    )
    async def set_unified_limit(
        self, info: CtxInfo, input: SetUnifiedLimitInput
    ) -> SetUnifiedLimitResult:
        return await attempt(
            unified_limits.set_unified_limit(
                info.context.db, actor_of(info), input.client_id, input.limit, input.currency,
                input.reason, input.expected_version,
            ),
            _client,
        )  # fmt: skip

    @strawberry.mutation(
        description="Release a guarantee of an open facility: the guarantor's exposure for it "
        "goes; the audit record keeps it."
    )
    async def release_guarantee(
        self, info: CtxInfo, input: ReleaseGuaranteeInput
    ) -> ReleaseGuaranteeResult:
        return await attempt(
            facility_writes.release_guarantee(
                info.context.db, actor_of(info), input.guarantor_id, input.facility_id, input.reason
            ),
            _guarantee,
        )
