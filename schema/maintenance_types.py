"""GraphQL types of client development and maintenance that the Client type also returns
(kept apart from `schema.managers_system` so `schema.types` can use them without a cycle)."""

from __future__ import annotations

import strawberry

from graph import interactions as inter
from graph import pipeline
from graph.interactions import ComplaintStatus, InteractionKind, Method
from graph.pipeline import Stage

__all__ = ["Interaction", "InteractionPage", "ManagementPlan", "PipelineMove", "Stage"]

strawberry.enum(Stage, description="Development pipeline stages (客户开发).")
strawberry.enum(InteractionKind, description="VISIT, MAINTENANCE (维护) or COMPLAINT.")
strawberry.enum(Method, description="Maintenance methods (维护方法).")
strawberry.enum(ComplaintStatus, description="OPENED → HANDLED → CLOSED.")


@strawberry.type(description="How a key-account grade is managed.")
class ManagementPlan:
    grade: str
    goals: str
    service_level: str
    strategy: str
    visit_every_days: int


@strawberry.type
class PipelineMove:
    id: strawberry.ID
    client_id: strawberry.ID
    from_stage: Stage | None
    to_stage: Stage
    at: str
    by: str
    note: str | None

    @classmethod
    def from_model(cls, m: pipeline.PipelineMove) -> PipelineMove:
        return cls(
            id=strawberry.ID(m.id), client_id=strawberry.ID(m.client_id), from_stage=m.from_stage,
            to_stage=m.to_stage, at=m.at, by=m.by, note=m.note,
        )  # fmt: skip


@strawberry.type
class Interaction:
    id: strawberry.ID
    kind: InteractionKind
    method: Method | None
    at: str
    notes: str | None
    status: ComplaintStatus | None
    satisfaction: int | None
    handled_at: str | None
    closed_at: str | None
    recorded_at: str | None = strawberry.field(
        description="When it was entered, by the server's clock (`at` is when it happened, as "
        "given): a visit entered after its period was reported shows here. Null for records "
        "loaded as data."
    )
    client_id: strawberry.ID
    manager_id: strawberry.ID | None

    @classmethod
    def from_model(cls, i: inter.Interaction) -> Interaction:
        return cls(
            id=strawberry.ID(i.id), kind=i.kind, method=i.method, at=i.at, notes=i.notes,
            status=i.status, satisfaction=i.satisfaction, handled_at=i.handled_at,
            closed_at=i.closed_at, recorded_at=i.recorded_at, client_id=strawberry.ID(i.client_id),
            manager_id=strawberry.ID(i.manager_id) if i.manager_id else None,
        )  # fmt: skip


@strawberry.type
class InteractionPage:
    items: list[Interaction]
    total_count: int
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def empty(cls) -> InteractionPage:
        """The page of a client the asker may not see."""
        return cls(items=[], total_count=0, has_next_page=False, end_cursor=None)

    @classmethod
    def from_model(cls, page: inter.InteractionPage) -> InteractionPage:
        return cls(
            items=[Interaction.from_model(i) for i in page.items],
            total_count=page.total_count,
            has_next_page=page.has_next_page,
            end_cursor=page.end_cursor,
        )
