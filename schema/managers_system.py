"""The managers' system: grades and promotions, key accounts, the development pipeline, client
maintenance (visits, activities, complaints) and performance roll-ups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from decimal import Decimal
from typing import Annotated, Final, TypeVar

import strawberry
from graphql import GraphQLError

from graph import bank_calendar, grade_history, key_accounts, pipeline, promotions
from graph import interactions as inter
from graph.errors import GraphError, InvalidInput
from graph.grading import BANK, RequirementCheck
from graph.interactions import ComplaintStatus, InteractionKind, Method
from graph.performance import Scope, get_performance
from graph.pipeline import Stage
from schema.errors import BadInput, check_id, check_range
from schema.maintenance_types import Interaction, ManagementPlan, PipelineMove
from schema.mutation_errors import (
    DuplicateError,
    InvariantViolationError,
    NotFoundError,
    ValidationError,
    VersionConflictError,
    attempt,
    to_error_type,
)
from schema.principal import actor_of, book_of, require_self
from schema.types import LIST_CAP, LIST_DEFAULT, CtxInfo

T = TypeVar("T")
R = TypeVar("R")


# Types ---------------------------------------------------------------------------------------


@strawberry.type(description="One requirement row of a grade, checked against a manager.")
class RequirementResult:
    row: int
    met: bool
    description: str
    unmet: list[str] = strawberry.field(description="Why not: one reason per missing condition.")

    @classmethod
    def from_model(cls, c: RequirementCheck) -> RequirementResult:
        return cls(row=c.row, met=c.met, description=c.description, unmet=c.unmet)


@strawberry.type
class Grade:
    code: str
    name: str
    series: str
    rank: int
    certificate: str | None


@strawberry.type(description="The next grade up, and whether (and why not) the manager qualifies.")
class PromotionEligibility:
    manager_id: strawberry.ID
    scheme: str
    current: Grade | None
    next: Grade | None = strawberry.field(description="Null at the top of the series.")
    eligible: bool
    requirements: list[RequirementResult] = strawberry.field(
        description="The next grade's rows; any one met qualifies."
    )


@strawberry.type(description="A promotion or demotion, as recorded.")
class GradeChange:
    id: strawberry.ID
    manager_id: strawberry.ID
    scheme: str
    kind: str
    from_grade: str | None
    to_grade: str
    exceptional: bool
    reason: str | None
    at: str

    @classmethod
    def from_model(cls, c: promotions.GradeChange) -> GradeChange:
        return cls(
            id=strawberry.ID(c.id), manager_id=strawberry.ID(c.manager_id), scheme=c.scheme,
            kind=c.kind, from_grade=c.from_grade, to_grade=c.to_grade, exceptional=c.exceptional,
            reason=c.reason, at=c.at,
        )  # fmt: skip


@strawberry.type(description="The manager does not qualify (or a grade would be skipped).")
class PromotionRefusedError:
    message: str
    unmet: list[str]
    requirements: list[RequirementResult]


PromotionResult = Annotated[
    GradeChange
    | PromotionRefusedError
    | NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError,
    strawberry.union("PromotionResult"),
]


@strawberry.type
class KeyAccountThresholds:
    a_purchases: Decimal
    a_share: float
    b_purchases: Decimal
    b_share: float
    c_purchases: Decimal


@strawberry.type
class KeyAccountSettings:
    thresholds: KeyAccountThresholds
    plans: list[ManagementPlan]


@strawberry.type
class ClientGradeChange:
    client_id: strawberry.ID
    before: str | None
    after: str | None


GRADE_CHANGES_LISTED: Final = key_accounts.CHANGES_LISTED


@strawberry.type(description="Clients whose grade changed (dry run: would change).")
class GradeClientsSuccess:
    dry_run: bool
    changed_count: int = strawberry.field(description="How many clients' grades changed.")
    changed: list[ClientGradeChange] = strawberry.field(
        description=f"The first {GRADE_CHANGES_LISTED:,} of them by client id (each client's "
        "`auditLog` has its own change)."
    )


@strawberry.type
class ThresholdsSuccess:
    thresholds: KeyAccountThresholds


@strawberry.type
class OverdueVisit:
    client_id: strawberry.ID
    name: str
    grade: str
    visit_every_days: int
    last_visit_at: str | None = strawberry.field(description="Null: never visited.")
    due_on: str | None
    days_overdue: int | None


@strawberry.type
class PerformanceFigures:
    clients: int
    new_clients: int
    existing_clients: int
    won: int = strawberry.field(description="New clients that reached ACTIVE in the period.")
    balance: Decimal
    holdings: int
    products_per_client: float
    visits_planned: int
    visits_done: int = strawberry.field(description="Every visit the managers made.")
    visits_on_plan: int = strawberry.field(
        description="Visits to clients the manager was then the primary manager of, graded and "
        "active (as `visitsPlanned` counts them): the ones to set against it."
    )
    complaints_opened: int
    complaints_closed: int
    average_satisfaction: float | None


@strawberry.type
class ManagerPerformance:
    manager_id: strawberry.ID
    name: str
    figures: PerformanceFigures


@strawberry.type(description="A direct child department, its figures summed down its subtree.")
class DepartmentPerformance:
    department_id: strawberry.ID
    name: str
    figures: PerformanceFigures


@strawberry.type(description="A manager's figures, or a department's summed down its tree.")
class Performance:
    scope: str
    id: strawberry.ID
    period_from: dt.date
    period_to: dt.date
    total: PerformanceFigures
    managers: list[ManagerPerformance]
    children: list[DepartmentPerformance] = strawberry.field(
        description="For a department: each direct child, summed down its own subtree, in id "
        "order (with the department's own members they make up the total). Empty for a manager."
    )


@strawberry.input
class Period:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date


@strawberry.input
class PromoteManagerInput:
    manager_id: strawberry.ID
    to_level: str = strawberry.field(description="A grade code of the scheme, e.g. SENIOR.")
    scheme: str = BANK
    exceptional: bool = False
    reason: str | None = None


@strawberry.input
class DemoteManagerInput:
    manager_id: strawberry.ID
    to_level: str
    reason: str
    scheme: str = BANK


@strawberry.input
class KeyAccountThresholdsInput:
    a_purchases: Decimal
    a_share: float
    b_purchases: Decimal
    b_share: float
    c_purchases: Decimal


@strawberry.input
class MovePipelineInput:
    client_id: strawberry.ID
    to_stage: Stage
    note: str | None = None


@strawberry.input
class RecordInteractionInput:
    client_id: strawberry.ID
    manager_id: strawberry.ID
    kind: InteractionKind = strawberry.field(description="VISIT or MAINTENANCE.")
    method: Method | None = None
    at: dt.datetime | None = None
    notes: str | None = None


@strawberry.input
class OpenComplaintInput:
    client_id: strawberry.ID
    manager_id: strawberry.ID
    notes: str
    at: dt.datetime | None = None


@strawberry.input
class HandleComplaintInput:
    complaint_id: strawberry.ID
    notes: str | None = None


@strawberry.input
class CloseComplaintInput:
    complaint_id: strawberry.ID
    satisfaction: int = strawberry.field(description="The client's satisfaction, 1-5.")


@strawberry.input
class SetClientPotentialInput:
    client_id: strawberry.ID
    potential: str | None = strawberry.field(description="HIGH, MEDIUM, LOW or null.")


GradeClientsResult = Annotated[
    GradeClientsSuccess
    | NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError,
    strawberry.union("GradeClientsResult"),
]
ThresholdsResult = Annotated[
    ThresholdsSuccess
    | NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError,
    strawberry.union("ThresholdsResult"),
]
PipelineResult = Annotated[
    PipelineMove
    | NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError,
    strawberry.union("PipelineResult"),
]
InteractionResult = Annotated[
    Interaction
    | NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError,
    strawberry.union("InteractionResult"),
]
PotentialResult = Annotated[
    ClientGradeChange
    | NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError,
    strawberry.union("PotentialResult"),
]


def _grade(g: promotions.GradeInfo | None) -> Grade | None:
    if g is None:
        return None
    return Grade(code=g.code, name=g.name, series=g.series, rank=g.rank, certificate=g.certificate)


def _thresholds(t: key_accounts.Thresholds) -> KeyAccountThresholds:
    return KeyAccountThresholds(
        a_purchases=t.a_purchases, a_share=t.a_share, b_purchases=t.b_purchases,
        b_share=t.b_share, c_purchases=t.c_purchases,
    )  # fmt: skip


def _figures(f: object) -> PerformanceFigures:
    return PerformanceFigures(**f.model_dump())  # type: ignore[attr-defined]


def _move(m: pipeline.PipelineMove) -> PipelineMove:
    return PipelineMove.from_model(m)


async def _grade_change(run: Awaitable[promotions.GradeChange]) -> PromotionResult:
    try:
        c = await run
    except promotions.PromotionRefused as exc:
        return PromotionRefusedError(
            message=exc.message,
            unmet=exc.unmet,
            requirements=[RequirementResult.from_model(r) for r in exc.checks],
        )
    except GraphError as exc:
        return to_error_type(exc)
    return GradeChange.from_model(c)


@strawberry.type
class ManagersQuery:
    @strawberry.field(description="The next grade for a manager, each requirement row met or not.")
    async def promotion_eligibility(
        self, info: CtxInfo, manager_id: strawberry.ID, scheme: str = BANK
    ) -> PromotionEligibility | None:
        check_id(manager_id, "managerId")
        require_self(info, str(manager_id), "managerId")
        try:
            found = await promotions.get_promotion_eligibility(
                info.context.db, str(manager_id), scheme
            )
        except InvalidInput as exc:
            raise BadInput("scheme", str(exc)) from exc
        if found is None:
            return None
        return PromotionEligibility(
            manager_id=strawberry.ID(found.manager_id), scheme=found.scheme,
            current=_grade(found.current), next=_grade(found.next), eligible=found.eligible,
            requirements=[RequirementResult.from_model(r) for r in found.requirements],
        )  # fmt: skip

    @strawberry.field(
        description=f"A manager's promotions and demotions, newest first, in one scheme or all; "
        f"at most `first` (1 to {LIST_CAP}). Null for an unknown manager."
    )
    async def grade_history(
        self, info: CtxInfo, manager_id: strawberry.ID, scheme: str | None = None,
        first: int = LIST_DEFAULT,
    ) -> list[GradeChange] | None:  # fmt: skip
        check_id(manager_id, "managerId")
        check_range(first, 1, LIST_CAP, "first")
        require_self(info, str(manager_id), "managerId")
        found = await grade_history.get_grade_history(
            info.context.db, str(manager_id), scheme, first
        )
        return None if found is None else [GradeChange.from_model(c) for c in found]

    @strawberry.field(description="Key-account thresholds and each grade's management plan.")
    async def key_account_settings(self, info: CtxInfo) -> KeyAccountSettings:
        s = await key_accounts.get_key_account_settings(info.context.db)
        return KeyAccountSettings(
            thresholds=_thresholds(s.thresholds),
            plans=[ManagementPlan(**p.model_dump()) for p in s.plans],
        )

    @strawberry.field(
        description="A manager's graded clients not visited within their plan's interval "
        f"(never visited first, then most overdue); at most `first` (1 to {LIST_CAP})."
    )
    async def overdue_visits(
        self, info: CtxInfo, manager_id: strawberry.ID, today: dt.date | None = None,
        first: int = LIST_CAP,
    ) -> list[OverdueVisit]:  # fmt: skip
        check_id(manager_id, "managerId")
        check_range(first, 1, LIST_CAP, "first")
        require_self(info, str(manager_id), "managerId")
        rows = await inter.get_overdue_visits(
            info.context.db, str(manager_id), today or bank_calendar.today(), first
        )
        return [
            OverdueVisit(
                client_id=strawberry.ID(r.client_id),
                name=r.name,
                grade=r.grade,
                visit_every_days=r.visit_every_days,
                last_visit_at=r.last_visit_at,
                due_on=r.due_on,
                days_overdue=r.days_overdue,
            )
            for r in rows
        ]

    @strawberry.field(
        description="Performance of one manager (`managerId`) or a department rolled up along "
        "the direct hierarchy (`departmentId`) over `period`, in one round trip."
    )
    async def performance(
        self,
        info: CtxInfo,
        period: Period,
        manager_id: strawberry.ID | None = None,
        department_id: strawberry.ID | None = None,
    ) -> Performance | None:
        if (manager_id is None) == (department_id is None):
            raise BadInput("managerId", "give exactly one of managerId and departmentId")
        if manager_id is not None:
            check_id(manager_id, "managerId")
            require_self(info, str(manager_id), "managerId")
            scope, node_id = Scope.MANAGER, str(manager_id)
        else:
            check_id(str(department_id), "departmentId")
            if book_of(info) is not None:
                raise GraphQLError(
                    "Argument 'departmentId': department figures are for admins",
                    extensions={"code": "FORBIDDEN"},
                )
            scope, node_id = Scope.DEPARTMENT, str(department_id)
        try:
            p = await get_performance(info.context.db, scope, node_id, period.from_, period.to)
        except InvalidInput as exc:
            raise BadInput("period", str(exc)) from exc
        if p is None:
            return None
        return Performance(
            scope=p.scope, id=strawberry.ID(p.id), period_from=p.period_from,
            period_to=p.period_to, total=_figures(p.total),
            managers=[
                ManagerPerformance(manager_id=strawberry.ID(m.manager_id), name=m.name,
                                   figures=_figures(m.figures))
                for m in p.managers
            ],
            children=[
                DepartmentPerformance(department_id=strawberry.ID(c.department_id), name=c.name,
                                      figures=_figures(c.figures))
                for c in p.children
            ],
        )  # fmt: skip


@strawberry.type
class ManagersMutation:
    @strawberry.mutation(
        description="Promote one grade up when a requirement row is met; `exceptional` (破格) "
        "with a `reason` may pass over the rows or skip grades. Recorded."
    )
    async def promote_manager(self, info: CtxInfo, input: PromoteManagerInput) -> PromotionResult:
        return await _grade_change(
            promotions.change_grade(
                info.context.db, actor_of(info), str(input.manager_id), input.scheme,
                input.to_level, input.reason, exceptional=input.exceptional,
            )
        )  # fmt: skip

    @strawberry.mutation(description="Demote one grade down, with a reason. Recorded.")
    async def demote_manager(self, info: CtxInfo, input: DemoteManagerInput) -> PromotionResult:
        return await _grade_change(
            promotions.change_grade(
                info.context.db, actor_of(info), str(input.manager_id), input.scheme,
                input.to_level, input.reason, demotion=True,
            )
        )  # fmt: skip

    @strawberry.mutation(description="Change the key-account thresholds (grades: gradeClients).")
    async def set_key_account_thresholds(
        self, info: CtxInfo, input: KeyAccountThresholdsInput
    ) -> ThresholdsResult:
        # Checked by `set_thresholds` (a ValidationError naming the field), not by pydantic here.
        t = key_accounts.Thresholds.model_construct(
            a_purchases=input.a_purchases, a_share=input.a_share, b_purchases=input.b_purchases,
            b_share=input.b_share, c_purchases=input.c_purchases,
        )  # fmt: skip
        return await attempt(
            key_accounts.set_thresholds(info.context.db, actor_of(info), t),
            lambda done: ThresholdsSuccess(thresholds=_thresholds(done)),
        )

    @strawberry.mutation(
        description="Regrade every client, book by book in transactions of about 5,000 "
        "clients; who changed."
    )
    async def grade_clients(self, info: CtxInfo, dry_run: bool = False) -> GradeClientsResult:
        return await attempt(
            key_accounts.grade_clients(info.context.db, actor_of(info), dry_run),
            lambda rows: GradeClientsSuccess(
                dry_run=dry_run,
                changed_count=len(rows),
                changed=[
                    ClientGradeChange(
                        client_id=strawberry.ID(r.client_id), before=r.before, after=r.after
                    )
                    for r in rows[:GRADE_CHANGES_LISTED]
                ],
            ),
        )

    @strawberry.mutation(description="Record a client's potential (HIGH, MEDIUM, LOW or null).")
    async def set_client_potential(
        self, info: CtxInfo, input: SetClientPotentialInput
    ) -> PotentialResult:
        check_id(input.client_id, "clientId")
        if input.potential not in (None, "HIGH", "MEDIUM", "LOW"):
            return ValidationError(message="must be HIGH, MEDIUM, LOW or null", field="potential")
        return await attempt(
            key_accounts.set_potential(
                info.context.db,
                actor_of(info),
                str(input.client_id),
                input.potential,
                book_of(info),
            ),
            lambda cid: ClientGradeChange(client_id=strawberry.ID(cid), before=None, after=None),
        )

    @strawberry.mutation(
        description="Move a prospect one stage on (or to LOST); ACTIVE makes it a new client."
    )
    async def move_pipeline(self, info: CtxInfo, input: MovePipelineInput) -> PipelineResult:
        check_id(input.client_id, "clientId")
        return await attempt(
            pipeline.move_pipeline(
                info.context.db, actor_of(info), str(input.client_id), input.to_stage, input.note,
                book_of(info), book_of(info),
            ),
            _move,
        )  # fmt: skip

    @strawberry.mutation(description="Record a visit or a maintenance activity.")
    async def record_interaction(
        self, info: CtxInfo, input: RecordInteractionInput
    ) -> InteractionResult:
        if input.kind is InteractionKind.COMPLAINT:
            return ValidationError(message="complaints are opened with openComplaint", field="kind")
        return await _record(info, input.client_id, input.manager_id, input.kind,
                                  input.method, input.at, input.notes)  # fmt: skip

    @strawberry.mutation(description="Open a complaint (OPENED).")
    async def open_complaint(self, info: CtxInfo, input: OpenComplaintInput) -> InteractionResult:
        kind = InteractionKind.COMPLAINT
        return await _record(
            info, input.client_id, input.manager_id, kind, None, input.at, input.notes
        )

    @strawberry.mutation(description="OPENED → HANDLED.")
    async def handle_complaint(
        self, info: CtxInfo, input: HandleComplaintInput
    ) -> InteractionResult:
        return await attempt(
            inter.move_complaint(info.context.db, actor_of(info), str(input.complaint_id),
                                 ComplaintStatus.HANDLED, input.notes, None, book_of(info)),
            Interaction.from_model,
        )  # fmt: skip

    @strawberry.mutation(description="HANDLED → CLOSED, with the client's satisfaction (1-5).")
    async def close_complaint(self, info: CtxInfo, input: CloseComplaintInput) -> InteractionResult:
        return await attempt(
            inter.move_complaint(info.context.db, actor_of(info), str(input.complaint_id),
                                 ComplaintStatus.CLOSED, None, input.satisfaction, book_of(info)),
            Interaction.from_model,
        )  # fmt: skip


async def _record(
    info: CtxInfo, client_id: strawberry.ID, manager_id: strawberry.ID,
    kind: InteractionKind, method: Method | None, at: dt.datetime | None, notes: str | None,
) -> InteractionResult:  # fmt: skip
    check_id(client_id, "clientId")
    check_id(manager_id, "managerId")
    require_self(info, str(manager_id), "managerId")
    return await attempt(
        inter.record_interaction(info.context.db, actor_of(info), str(client_id),
                                 str(manager_id), kind, method, at, notes, book_of(info)),
        Interaction.from_model,
    )  # fmt: skip
