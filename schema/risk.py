"""Risk officers' questions: exposure to a client's group, guarantee circles, largest exposures."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from graph.errors import GraphError
from graph.exposure import MAX_DEPTH, get_credit_exposure
from graph.guarantee_circles import MAX_FIRST, MAX_SIZE, MIN_SIZE, find_guarantee_circles
from graph.guarantee_circles import GuaranteeCircle as GuaranteeCircleModel
from graph.largest_exposures import get_largest_exposures
from graph.limits import CapitalBase as CapitalBaseModel
from graph.limits import LimitProfile, LimitRule
from graph.limits import LimitUsage as LimitUsageModel
from graph.risk_settings import get_capital_base, set_capital_base
from schema.errors import check_id, check_range
from schema.mutation_errors import ValidationError, to_error_type
from schema.types import Client, CtxInfo, Department, Facility

strawberry.enum(LimitProfile, description="CN_2018: 2018 large-exposure rules; BASEL: LEX.")
strawberry.enum(LimitRule)

LARGEST_CAP = 100


@strawberry.type(description="One currency's rate: units of the reporting currency per unit.")
class FxRate:
    currency: str
    rate: Decimal


@strawberry.type(
    description="The capital base the limits are shares of, the profile, and the reporting "
    "currency every exposure is added up in (other currencies at `fxRates`)."
)
class CapitalBase:
    profile: LimitProfile
    tier1_capital: Decimal
    net_capital: Decimal
    currency: str
    fx_rates: list[FxRate]

    @classmethod
    def from_model(cls, m: CapitalBaseModel) -> CapitalBase:
        return cls(
            profile=m.profile, tier1_capital=m.tier1_capital, net_capital=m.net_capital,
            currency=m.currency,
            fx_rates=[FxRate(currency=c, rate=r) for c, r in sorted(m.fx_rates.items())],
        )  # fmt: skip


@strawberry.type(description="One limit rule applied to an exposure.")
class LimitUsage:
    rule: LimitRule
    amount: Decimal
    capital: Decimal = strawberry.field(description="Tier-1 (or net, for loans) capital.")
    limit_percent: Decimal
    limit_amount: Decimal
    usage_percent: Decimal = strawberry.field(description="Exact; round only for display.")
    breached: bool
    reportable: bool = strawberry.field(description="A large exposure to report.")

    @classmethod
    def from_model(cls, u: LimitUsageModel) -> LimitUsage:
        return cls(
            rule=u.rule, amount=u.amount, capital=u.capital, limit_percent=u.limit_pct,
            limit_amount=u.limit_amount, usage_percent=u.usage_pct, breached=u.breached,
            reportable=u.reportable,
        )  # fmt: skip


@strawberry.type(description="A link that joined a member to the group.")
class JoinLink:
    from_id: strawberry.ID
    to_id: strawberry.ID
    kind: str = strawberry.field(
        description="CONTROL, ECONOMIC_DEPENDENCE, PROFIT_TRANSFER, or FAMILY (between two "
        "individuals who each control a client)."
    )
    share: float | None


@strawberry.type
class MemberExposure:
    client: Client
    path: list[JoinLink] = strawberry.field(
        description="The shortest chain of links from the asked client to this member."
    )
    facilities: list[Facility]
    own: Decimal = strawberry.field(description="Limits of the member's own facilities.")
    drawn: Decimal
    guaranteed_outside: Decimal = strawberry.field(
        description="What the member guarantees for borrowers outside the group."
    )


@strawberry.type
class GrantingDepartment:
    department_id: strawberry.Private[str]
    amount: Decimal
    facility_count: int

    @strawberry.field
    async def department(self, info: CtxInfo) -> Department | None:
        found = await info.context.loaders.department.load(self.department_id)
        return Department.from_model(found) if found else None


@strawberry.type(description="A facility with no approval by an independent department.")
class UnapprovedFacility:
    facility: Facility
    reason: str = strawberry.field(description="NO_APPROVAL or NOT_INDEPENDENT.")


@strawberry.type(description="The bank's exposure to a client's group (see README for the rules).")
class CreditExposure:
    client: Client
    max_depth: int
    total: Decimal = strawberry.field(description="direct + affiliated + indirect.")
    direct: Decimal = strawberry.field(description="The client's own facilities (limits).")
    affiliated: Decimal = strawberry.field(description="Other group members' facilities.")
    indirect: Decimal = strawberry.field(
        description="Members' guarantees for outside borrowers, each facility up to its limit."
    )
    drawn: Decimal = strawberry.field(description="Drawn amounts of all members' facilities.")
    members: list[MemberExposure]
    limit_usage: list[LimitUsage]
    granting_departments: list[GrantingDepartment]
    multiple_grantors: bool = strawberry.field(
        description="多头授信: more than one department lends to the group without a unified limit."
    )
    unified_limit: Decimal | None = strawberry.field(
        description="The group's unified credit limit (统一授信), held by its top controller "
        "(setUnifiedLimit), in the reporting currency; null without one."
    )
    unified_limit_holder_id: strawberry.ID | None = strawberry.field(
        description="The top controller holding `unifiedLimit`."
    )
    unified_limit_used: Decimal | None = strawberry.field(
        description="What `unifiedLimit` covers: the open facilities (limits) of its holder and "
        "of every client the holder controls, whatever `maxDepth`; in the reporting currency, "
        "null without a unified limit."
    )
    unified_limit_exceeded: bool = strawberry.field(
        description="`unifiedLimitUsed` is above `unifiedLimit`."
    )
    unapproved_facilities: list[UnapprovedFacility]
    assess_interdependence: bool = strawberry.field(
        description="The client's own exposure (its facilities and the guarantees it gave) is "
        "above 5% of tier-1: the rules ask for an assessment of its economic interdependence "
        "with other clients."
    )
    capital_base: CapitalBase


@strawberry.type
class CircleLink:
    guarantor_id: strawberry.ID
    borrower_id: strawberry.ID
    facility_id: strawberry.ID
    amount: Decimal


@strawberry.type(description="A guarantee circle (担保圈); two members make a mutual pair (互保).")
class GuaranteeCircle:
    member_ids: list[strawberry.ID] = strawberry.field(
        description="In cycle order, each guaranteeing the next; smallest id first."
    )
    size: int
    mutual: bool
    links: list[CircleLink]
    guaranteed: Decimal
    exposure: Decimal = strawberry.field(description="Members' facility limits, each once.")

    @strawberry.field
    async def members(self, info: CtxInfo) -> list[Client]:
        found = await info.context.loaders.client.load_many([str(i) for i in self.member_ids])
        return [Client.from_model(c) for c in found if c is not None]


@strawberry.type
class GuaranteeCircles:
    circles: list[GuaranteeCircle] = strawberry.field(
        description="Circles of three or more, largest exposure first (the first `first`)."
    )
    mutual_pairs: list[GuaranteeCircle] = strawberry.field(
        description="Mutual pairs, largest exposure first (the first `first`)."
    )
    circle_count: int = strawberry.field(description="All circles found, before `first`.")
    mutual_pair_count: int = strawberry.field(description="All mutual pairs, before `first`.")
    complete: bool = strawberry.field(description="False when the search budget ran out.")


@strawberry.type(description="A control group (or an ungrouped client) and its total exposure.")
class LargeExposure:
    root_id: strawberry.Private[str]
    member_ids: list[strawberry.ID]
    direct: Decimal
    indirect: Decimal
    total: Decimal
    limit_usage: LimitUsage

    @strawberry.field(description="The top controller, or the client itself.")
    async def root(self, info: CtxInfo) -> Client | None:
        found = await info.context.loaders.client.load(self.root_id)
        return Client.from_model(found) if found else None


@strawberry.type
class RiskQuery:
    @strawberry.field(
        description="Exposure to the client's group, followed up to `maxDepth` links "
        f"(1-{MAX_DEPTH})."
    )
    async def credit_exposure(
        self, info: CtxInfo, client_id: strawberry.ID, max_depth: int = 4
    ) -> CreditExposure | None:
        check_id(client_id, "clientId")
        check_range(max_depth, 1, MAX_DEPTH, "maxDepth")
        db = info.context.db
        found = await get_credit_exposure(db, client_id, max_depth)
        if found is None:
            return None
        me = next(m.client for m in found.members if m.client.id == client_id)
        return CreditExposure(
            client=Client.from_model(me),
            max_depth=max_depth,
            total=found.total,
            direct=found.direct,
            affiliated=found.affiliated,
            indirect=found.indirect,
            drawn=found.drawn,
            members=[
                MemberExposure(
                    client=Client.from_model(m.client),
                    path=[
                        JoinLink(
                            from_id=strawberry.ID(x.from_id),
                            to_id=strawberry.ID(x.to_id),
                            kind=x.kind,
                            share=x.share,
                        )
                        for x in m.path
                    ],
                    facilities=[Facility.from_model(f) for f in m.facilities],
                    own=m.own,
                    drawn=m.drawn,
                    guaranteed_outside=m.guaranteed,
                )
                for m in found.members
            ],
            limit_usage=[LimitUsage.from_model(u) for u in found.limit_usage],
            granting_departments=[
                GrantingDepartment(
                    department_id=g.department_id, amount=g.amount, facility_count=g.facility_count
                )
                for g in found.granting_departments
            ],
            multiple_grantors=found.multiple_grantors,
            unified_limit=found.unified_limit,
            unified_limit_holder_id=(
                strawberry.ID(found.unified_limit_holder_id)
                if found.unified_limit_holder_id is not None
                else None
            ),
            unified_limit_used=found.unified_limit_used,
            unified_limit_exceeded=found.unified_limit_exceeded,
            unapproved_facilities=[
                UnapprovedFacility(facility=Facility.from_model(u.facility), reason=u.reason)
                for u in found.unapproved_facilities
            ],
            assess_interdependence=found.assess_interdependence,
            capital_base=CapitalBase.from_model(found.capital_base),
        )

    @strawberry.field(
        description=f"Every guarantee cycle of up to `maxSize` firms ({MIN_SIZE}-{MAX_SIZE}) and "
        "every mutual pair, each reported once, with the exposure inside it; the `first` "
        f"(1-{MAX_FIRST}) largest of each are listed, all are counted."
    )
    async def guarantee_circles(
        self,
        info: CtxInfo,
        max_size: int = 6,
        min_exposure: Decimal | None = None,
        first: int = 100,
    ) -> GuaranteeCircles:
        check_range(max_size, MIN_SIZE, MAX_SIZE, "maxSize")
        check_range(first, 1, MAX_FIRST, "first")
        async with info.context.whole_bank_slot():
            found = await find_guarantee_circles(
                info.context.db, max_size, min_exposure or Decimal("0"), first
            )

        def circle(c: GuaranteeCircleModel) -> GuaranteeCircle:
            return GuaranteeCircle(
                member_ids=[strawberry.ID(m) for m in c.member_ids],
                size=len(c.member_ids),
                mutual=len(c.member_ids) == 2,
                links=[
                    CircleLink(
                        guarantor_id=strawberry.ID(x.guarantor_id),
                        borrower_id=strawberry.ID(x.borrower_id),
                        facility_id=strawberry.ID(x.facility_id),
                        amount=x.amount,
                    )
                    for x in c.links
                ],
                guaranteed=c.guaranteed,
                exposure=c.exposure,
            )

        return GuaranteeCircles(
            circles=[circle(c) for c in found.circles],
            mutual_pairs=[circle(c) for c in found.mutual_pairs],
            circle_count=found.circle_count,
            mutual_pair_count=found.mutual_pair_count,
            complete=found.complete,
        )

    @strawberry.field(
        description=f"The largest exposures, groups or ungrouped clients, largest first "
        f"(`first` 1-{LARGEST_CAP})."
    )
    async def largest_exposures(self, info: CtxInfo, first: int = 20) -> list[LargeExposure]:
        check_range(first, 1, LARGEST_CAP, "first")
        db = info.context.db
        async with info.context.whole_bank_slot():
            found = await get_largest_exposures(db, first)
        return [
            LargeExposure(
                root_id=e.root_id,
                member_ids=[strawberry.ID(m) for m in e.member_ids],
                direct=e.direct,
                indirect=e.indirect,
                total=e.total,
                limit_usage=LimitUsage.from_model(e.limit_usage),
            )
            for e in found
        ]

    @strawberry.field(description="The capital base and limit profile in force.")
    async def risk_settings(self, info: CtxInfo) -> CapitalBase:
        return CapitalBase.from_model(await get_capital_base(info.context.db))


@strawberry.input
class FxRateInput:
    currency: str
    rate: Decimal = strawberry.field(description="Units of the reporting currency per unit.")


@strawberry.input
class RiskSettingsInput:
    profile: LimitProfile
    tier1_capital: Decimal
    net_capital: Decimal
    currency: str | None = strawberry.field(
        default=None, description="The reporting currency (ISO 4217); left out: unchanged."
    )
    fx_rates: list[FxRateInput] | None = strawberry.field(
        default=None,
        description="Every rate to the reporting currency; replaces the stored ones. Left out: "
        "unchanged.",
    )


SetRiskSettingsResult = Annotated[
    CapitalBase | ValidationError, strawberry.union("SetRiskSettingsResult")
]


@strawberry.type
class RiskMutation:
    @strawberry.mutation(description="Change the capital base and limit profile (admins).")
    async def set_risk_settings(
        self, info: CtxInfo, input: RiskSettingsInput
    ) -> SetRiskSettingsResult:
        try:
            saved = await set_capital_base(
                info.context.db,
                input.profile,
                input.tier1_capital,
                input.net_capital,
                actor=info.context.principal.subject if info.context.principal else "unknown",
                currency=input.currency,
                fx_rates=None
                if input.fx_rates is None
                else [(r.currency, r.rate) for r in input.fx_rates],
            )
        except GraphError as exc:
            error = to_error_type(exc)
            assert isinstance(error, ValidationError)
            return error
        return CapitalBase.from_model(saved)
