"""Admins restructure the organisation: mutations with dry runs, optimistic concurrency and an
audit trail, and the org chart as of any moment."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable
from typing import Annotated

import strawberry

from graph import org_operations as ops
from graph.audit_log import get_audit_log
from graph.bank_calendar import as_utc
from graph.errors import GraphError, InvalidInput
from graph.models import DepartmentFunction, OrgModel
from graph.org_chart import get_org_chart
from graph.restructure import ChangeResult, LinkKind
from graph.restructure import LinkChange as LinkChangeModel
from schema.errors import BadInput, bad_input_from, check_id, check_range
from schema.mutation_errors import (
    DuplicateError,
    InvariantViolationError,
    NotFoundError,
    ValidationError,
    VersionConflictError,
    to_error_type,
)
from schema.principal import actor_of
from schema.types import CtxInfo

strawberry.enum(LinkKind, description="DIRECT (直属), LINEAR (线性), CHECK_AND_BALANCE (制衡).")


@strawberry.type
class LinkChange:
    kind: LinkKind
    from_id: strawberry.ID
    to_id: strawberry.ID


@strawberry.type(description="What goes with a move, merge or assignment to its new place.")
class Moving:
    departments: list[strawberry.ID] = strawberry.field(
        description="The department moved (a merge's source) and every department under it."
    )
    managers: int = strawberry.field(
        description="Their members (a merge's source's join the target; merged into its own "
        "child, the child's are counted too, as it takes the source's place), or the manager "
        "assigned."
    )
    clients: int = strawberry.field(
        description="Active clients whose primary manager is one of those managers: they go "
        "with their manager."
    )


@strawberry.type(description="What a change touches: nodes affected, links added and removed.")
class Impact:
    departments: list[strawberry.ID]
    managers: list[strawberry.ID]
    clients: list[strawberry.ID]
    facilities: list[strawberry.ID] = strawberry.field(
        description="Merge: facilities granted or approved by the source, now by the target."
    )
    approvals_withdrawn: list[strawberry.ID] = strawberry.field(
        description="Facilities approved only by a department that was not independent of the "
        "granting one, which the change would have made independent: their approval is "
        "withdrawn (approve them again with approveFacility)."
    )
    products: list[strawberry.ID] = strawberry.field(
        description="Merge: products the source offered, now the target's."
    )
    links_added: list[LinkChange]
    links_removed: list[LinkChange]
    dropped: list[LinkChange] = strawberry.field(
        description="Merge: links dropped as self-links or duplicates."
    )
    moving: Moving | None = strawberry.field(
        description="Move, merge and assignment: what goes with the change (null otherwise)."
    )


@strawberry.type(description="The change was applied, or (dryRun) would be, with this impact.")
class RestructureSuccess:
    dry_run: bool
    impact: Impact
    audit_record_id: strawberry.ID | None


RestructureResult = Annotated[
    RestructureSuccess
    | NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError,
    strawberry.union("RestructureResult"),
]


def _links(changes: list[LinkChangeModel]) -> list[LinkChange]:
    return [
        LinkChange(kind=c.kind, from_id=strawberry.ID(c.from_id), to_id=strawberry.ID(c.to_id))
        for c in changes
    ]


async def _result(run: Awaitable[ChangeResult]) -> RestructureResult:
    try:
        done = await run
    except GraphError as exc:
        return to_error_type(exc)
    i = done.impact
    return RestructureSuccess(
        dry_run=done.dry_run,
        impact=Impact(
            departments=[strawberry.ID(x) for x in i.departments],
            managers=[strawberry.ID(x) for x in i.managers],
            clients=[strawberry.ID(x) for x in i.clients],
            facilities=[strawberry.ID(x) for x in i.facilities],
            approvals_withdrawn=[strawberry.ID(x) for x in i.approvals_withdrawn],
            products=[strawberry.ID(x) for x in i.products],
            links_added=_links(i.links_added),
            links_removed=_links(i.links_removed),
            dropped=_links(i.dropped),
            moving=None
            if i.moving is None
            else Moving(
                departments=[strawberry.ID(x) for x in i.moving.departments],
                managers=i.moving.managers,
                clients=i.moving.clients,
            ),
        ),
        audit_record_id=strawberry.ID(done.audit_record_id) if done.audit_record_id else None,
    )


@strawberry.input
class CreateDepartmentInput:
    id: strawberry.ID
    name: str
    function: DepartmentFunction
    model: OrgModel
    parent_id: strawberry.ID | None = None


@strawberry.input
class RenameDepartmentInput:
    department_id: strawberry.ID
    name: str
    expected_version: int | None = None


@strawberry.input
class ArchiveDepartmentInput:
    department_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class LinkDepartmentsInput:
    from_id: strawberry.ID = strawberry.field(description="DIRECT: the child; checks: the checker.")
    to_id: strawberry.ID
    kind: LinkKind
    note: str | None = strawberry.field(default=None, description="Purpose or scope.")
    expected_from_version: int | None = None
    expected_to_version: int | None = None


@strawberry.input
class MoveDepartmentInput:
    department_id: strawberry.ID
    new_parent_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class MergeDepartmentsInput:
    source_id: strawberry.ID
    target_id: strawberry.ID
    expected_source_version: int | None = None
    expected_target_version: int | None = None


@strawberry.input
class AssignManagerInput:
    manager_id: strawberry.ID
    department_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="The manager's.")


@strawberry.input
class TransferClientInput:
    client_id: strawberry.ID
    to_manager_id: strawberry.ID
    reason: str
    expected_version: int | None = strawberry.field(default=None, description="The client's.")


DRY = "With `dryRun: true` nothing is written and the same impact is returned."


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description=f"Create a department, optionally under a parent. {DRY}")
    async def create_department(
        self, info: CtxInfo, input: CreateDepartmentInput, dry_run: bool = False
    ) -> RestructureResult:
        return await _result(
            ops.create_department(
                info.context.db, actor_of(info), dry_run, check_id(input.id), input.name,
                input.function, input.model,
                check_id(input.parent_id, "parentId") if input.parent_id is not None else None,
            )
        )  # fmt: skip

    @strawberry.mutation(description=f"Rename a department. {DRY}")
    async def rename_department(
        self, info: CtxInfo, input: RenameDepartmentInput, dry_run: bool = False
    ) -> RestructureResult:
        return await _result(
            ops.rename_department(
                info.context.db, actor_of(info), dry_run,
                check_id(input.department_id, "departmentId"), input.name, input.expected_version,
            )
        )  # fmt: skip

    @strawberry.mutation(
        description=f"Archive a department with no members, clients, children or products left; "
        f"its links end. {DRY}"
    )
    async def archive_department(
        self, info: CtxInfo, input: ArchiveDepartmentInput, dry_run: bool = False
    ) -> RestructureResult:
        return await _result(
            ops.archive_department(
                info.context.db, actor_of(info), dry_run,
                check_id(input.department_id, "departmentId"), input.expected_version,
            )
        )  # fmt: skip

    @strawberry.mutation(description=f"Link two departments. {DRY}")
    async def link_departments(
        self, info: CtxInfo, input: LinkDepartmentsInput, dry_run: bool = False
    ) -> RestructureResult:
        from_id, to_id = check_id(input.from_id, "fromId"), check_id(input.to_id, "toId")
        return await _result(
            ops.link_departments(
                info.context.db, actor_of(info), dry_run, input.kind, from_id, to_id, input.note,
                {from_id: input.expected_from_version, to_id: input.expected_to_version},
            )
        )  # fmt: skip

    @strawberry.mutation(description=f"Remove a link between two departments. {DRY}")
    async def unlink_departments(
        self, info: CtxInfo, input: LinkDepartmentsInput, dry_run: bool = False
    ) -> RestructureResult:
        from_id, to_id = check_id(input.from_id, "fromId"), check_id(input.to_id, "toId")
        return await _result(
            ops.unlink_departments(
                info.context.db, actor_of(info), dry_run, input.kind, from_id, to_id,
                {from_id: input.expected_from_version, to_id: input.expected_to_version},
            )
        )  # fmt: skip

    @strawberry.mutation(description=f"Change a department's direct parent. {DRY}")
    async def move_department(
        self, info: CtxInfo, input: MoveDepartmentInput, dry_run: bool = False
    ) -> RestructureResult:
        return await _result(
            ops.move_department(
                info.context.db, actor_of(info), dry_run,
                check_id(input.department_id, "departmentId"),
                check_id(input.new_parent_id, "newParentId"), input.expected_version,
            )
        )  # fmt: skip

    @strawberry.mutation(
        description=f"Merge source into target: members, products, links and facilities' "
        f"granting/approval move; self-links and duplicates are dropped and listed; the source "
        f"is archived. {DRY}"
    )
    async def merge_departments(
        self, info: CtxInfo, input: MergeDepartmentsInput, dry_run: bool = False
    ) -> RestructureResult:
        source, target = (
            check_id(input.source_id, "sourceId"),
            check_id(input.target_id, "targetId"),
        )
        return await _result(
            ops.merge_departments(
                info.context.db, actor_of(info), dry_run, source, target,
                {source: input.expected_source_version, target: input.expected_target_version},
            )
        )  # fmt: skip

    @strawberry.mutation(description=f"Make a manager a member of a department. {DRY}")
    async def assign_manager(
        self, info: CtxInfo, input: AssignManagerInput, dry_run: bool = False
    ) -> RestructureResult:
        return await _result(
            ops.assign_manager(
                info.context.db, actor_of(info), dry_run, check_id(input.manager_id, "managerId"),
                check_id(input.department_id, "departmentId"), input.expected_version,
            )
        )  # fmt: skip

    @strawberry.mutation(
        description=f"Give a client a new primary manager; the old one is kept in history. {DRY}"
    )
    async def transfer_client(
        self, info: CtxInfo, input: TransferClientInput, dry_run: bool = False
    ) -> RestructureResult:
        return await _result(
            ops.transfer_client(
                info.context.db, actor_of(info), dry_run, check_id(input.client_id, "clientId"),
                check_id(input.to_manager_id, "toManagerId"), input.reason,
                input.expected_version,
            )
        )  # fmt: skip


@strawberry.type(description="An applied change: who, when, what, before and after (JSON).")
class AuditRecord:
    id: strawberry.ID
    at: dt.datetime
    actor: str
    action: str
    input: str
    before: str
    after: str


@strawberry.type
class AuditPage:
    records: list[AuditRecord]
    end_cursor: str | None = strawberry.field(description="Pass as `after` for older records.")


@strawberry.type
class OrgChartNode:
    id: strawberry.ID
    name: str
    parent_id: strawberry.ID | None
    depth: int


@strawberry.type
class OrgChartLink:
    kind: LinkKind
    from_id: strawberry.ID
    to_id: strawberry.ID
    note: str | None


@strawberry.type
class OrgChart:
    as_of: dt.datetime
    departments: list[OrgChartNode] = strawberry.field(
        description="The direct tree from the root, breadth-first (at most 2000)."
    )
    links: list[OrgChartLink] = strawberry.field(
        description="Linear and check-and-balance links among those departments."
    )


MAX_OFFSET = 1_000_000_000  # far past any node's audit trail; Neo4j's SKIP takes int64


def _offset(after: str | None) -> int:
    if after is None:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(after.encode()).decode().removeprefix("audit:"))
    except ValueError as exc:
        raise BadInput("after", "is not a cursor returned by this API") from exc
    if not 0 <= offset <= MAX_OFFSET:
        raise BadInput("after", "is not a cursor returned by this API")
    return offset


@strawberry.type
class AdminQuery:
    @strawberry.field(description="Audit records of changes that touched a node, newest first.")
    async def audit_log(
        self, info: CtxInfo, node_id: strawberry.ID, first: int = 20, after: str | None = None
    ) -> AuditPage:
        check_id(node_id, "nodeId")
        check_range(first, 1, 100, "first")
        offset = _offset(after)
        rows = await get_audit_log(info.context.db, node_id, offset, first + 1)
        more = len(rows) > first
        cursor = base64.urlsafe_b64encode(f"audit:{offset + first}".encode()).decode()
        return AuditPage(
            records=[
                AuditRecord(
                    id=strawberry.ID(r.id), at=r.at, actor=r.actor, action=r.action,
                    input=r.input, before=r.before, after=r.after,
                )
                for r in rows[:first]
            ],
            end_cursor=cursor if more else None,
        )  # fmt: skip

    @strawberry.field(
        description="The department tree under `rootId` with its linear and check-and-balance "
        "links, now or as of a past moment. Null for an unknown root."
    )
    async def org_chart(
        self, info: CtxInfo, root_id: strawberry.ID, as_of: dt.datetime | None = None
    ) -> OrgChart | None:
        check_id(root_id, "rootId")
        try:
            when = as_utc(as_of or dt.datetime.now(dt.UTC), "asOf")
        except InvalidInput as exc:
            raise bad_input_from(exc) from None
        found = await get_org_chart(info.context.db, root_id, when)
        if found is None:
            return None
        return OrgChart(
            as_of=found.as_of,
            departments=[
                OrgChartNode(
                    id=strawberry.ID(d.id), name=d.name, depth=d.depth,
                    parent_id=strawberry.ID(d.parent_id) if d.parent_id else None,
                )
                for d in found.departments
            ],
            links=[
                OrgChartLink(
                    kind=LinkKind(x.kind), from_id=strawberry.ID(x.from_id),
                    to_id=strawberry.ID(x.to_id), note=x.note,
                )
                for x in found.links
            ],
        )  # fmt: skip
