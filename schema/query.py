"""Root queries of the core API: single nodes by id, and filtered, paginated lists."""

from __future__ import annotations

import strawberry

from graph import clients, departments, facilities, managers, products
from graph.errors import InvalidInput
from graph.pagination import MAX_PAGE_SIZE, decode_cursor
from schema.client360 import resolve_client
from schema.connections import Connection, to_connection
from schema.enums import (
    ClientKind,
    DepartmentFunction,
    FacilityStatus,
    KeyAccountGrade,
    ManagerLevel,
    ProductCategory,
)
from schema.errors import BadInput, bad_input_from, check_id, check_range
from schema.types import Client, CtxInfo, Department, Facility, Manager, Product

PAGE_DEFAULT = 20
PAGED = f"Page size `first`: default {PAGE_DEFAULT}, 1 to {MAX_PAGE_SIZE}. Ordered by id."


def _page_args(first: int, after: str | None) -> str | None:
    check_range(first, 1, MAX_PAGE_SIZE, "first")
    try:
        return decode_cursor(after)
    except InvalidInput as exc:
        raise bad_input_from(exc) from exc


def _optional_id(value: strawberry.ID | None, argument: str) -> str | None:
    return check_id(value, argument) if value is not None else None


def _name_filter(value: str | None, argument: str) -> str | None:
    if value is not None and not 1 <= len(value) <= 100:
        raise BadInput(argument, "must be 1 to 100 characters")
    return value


@strawberry.input(description="Client filters; all given ones must hold.")
class ClientFilter:
    name_contains: str | None = None
    kind: ClientKind | None = None
    grade: KeyAccountGrade | None = None
    primary_manager_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Clients whose primary manager is in this department's subtree."
    )


@strawberry.input
class ManagerFilter:
    name_contains: str | None = None
    level: ManagerLevel | None = None
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Members of this department or any department under it."
    )


@strawberry.input
class DepartmentFilter:
    name_contains: str | None = None
    function: DepartmentFunction | None = None
    include_archived: bool = False


@strawberry.input
class ProductFilter:
    name_contains: str | None = None
    category: ProductCategory | None = None


@strawberry.input(description="Facility filters; all given ones must hold.")
class FacilityFilter:
    status: FacilityStatus | None = None
    borrower_id: strawberry.ID | None = None
    granting_department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Granted by this department or any department under it."
    )
    unapproved: bool | None = strawberry.field(
        default=None,
        description="true: open facilities without an approval by a department independent of "
        "the granting one (no approval, or a dependent one: 审贷分离 not kept); false: the rest.",
    )


@strawberry.type
class CoreQuery:
    @strawberry.field(description="A client by id; null when there is none.")
    async def client(self, info: CtxInfo, id: strawberry.ID) -> Client | None:
        return await resolve_client(info, check_id(id))

    @strawberry.field(description=f"Clients. {PAGED}")
    async def clients(
        self,
        info: CtxInfo,
        first: int = PAGE_DEFAULT,
        after: str | None = None,
        filter: ClientFilter | None = None,
    ) -> Connection[Client]:
        cursor = _page_args(first, after)
        f = filter or ClientFilter()
        page = await clients.list_clients(
            info.context.db,
            first,
            cursor,
            clients.ClientFilter(
                name_contains=_name_filter(f.name_contains, "filter.nameContains"),
                kind=f.kind,
                grade=f.grade,
                primary_manager_id=_optional_id(f.primary_manager_id, "filter.primaryManagerId"),
                department_id=_optional_id(f.department_id, "filter.departmentId"),
                visible_to=info.context.loaders.visible_to,
            ),
        )
        return to_connection(page, Client.from_model, lambda c: c.id)

    @strawberry.field(description="A manager by id; null when there is none.")
    async def manager(self, info: CtxInfo, id: strawberry.ID) -> Manager | None:
        found = await info.context.loaders.manager.load(check_id(id))
        return Manager.from_model(found) if found else None

    @strawberry.field(description=f"Managers. {PAGED}")
    async def managers(
        self,
        info: CtxInfo,
        first: int = PAGE_DEFAULT,
        after: str | None = None,
        filter: ManagerFilter | None = None,
    ) -> Connection[Manager]:
        cursor = _page_args(first, after)
        f = filter or ManagerFilter()
        page = await managers.list_managers(
            info.context.db,
            first,
            cursor,
            managers.ManagerFilter(
                name_contains=_name_filter(f.name_contains, "filter.nameContains"),
                level=f.level,
                department_id=_optional_id(f.department_id, "filter.departmentId"),
            ),
        )
        return to_connection(page, Manager.from_model, lambda m: m.id)

    @strawberry.field(description="A department by id; null when there is none.")
    async def department(self, info: CtxInfo, id: strawberry.ID) -> Department | None:
        found = await info.context.loaders.department.load(check_id(id))
        return Department.from_model(found) if found else None

    @strawberry.field(description=f"Departments. {PAGED}")
    async def departments(
        self,
        info: CtxInfo,
        first: int = PAGE_DEFAULT,
        after: str | None = None,
        filter: DepartmentFilter | None = None,
    ) -> Connection[Department]:
        cursor = _page_args(first, after)
        f = filter or DepartmentFilter()
        page = await departments.list_departments(
            info.context.db,
            first,
            cursor,
            departments.DepartmentFilter(
                name_contains=_name_filter(f.name_contains, "filter.nameContains"),
                function=f.function,
                include_archived=f.include_archived,
            ),
        )
        return to_connection(page, Department.from_model, lambda d: d.id)

    @strawberry.field(description="A product by id; null when there is none.")
    async def product(self, info: CtxInfo, id: strawberry.ID) -> Product | None:
        found = await info.context.loaders.product.load(check_id(id))
        return Product.from_model(found) if found else None

    @strawberry.field(description=f"Products. {PAGED}")
    async def products(
        self,
        info: CtxInfo,
        first: int = PAGE_DEFAULT,
        after: str | None = None,
        filter: ProductFilter | None = None,
    ) -> Connection[Product]:
        cursor = _page_args(first, after)
        f = filter or ProductFilter()
        page = await products.list_products(
            info.context.db,
            first,
            cursor,
            products.ProductFilter(
                name_contains=_name_filter(f.name_contains, "filter.nameContains"),
                category=f.category,
            ),
        )
        return to_connection(page, Product.from_model, lambda p: p.id)

    @strawberry.field(description="A facility by id; null when there is none.")
    async def facility(self, info: CtxInfo, id: strawberry.ID) -> Facility | None:
        found = await facilities.get_facility(info.context.db, check_id(id))
        return Facility.from_model(found) if found else None

    @strawberry.field(description=f"Facilities across the bank, closed ones included. {PAGED}")
    async def facilities(
        self,
        info: CtxInfo,
        first: int = PAGE_DEFAULT,
        after: str | None = None,
        filter: FacilityFilter | None = None,
    ) -> Connection[Facility]:
        cursor = _page_args(first, after)
        f = filter or FacilityFilter()
        page = await facilities.list_facilities(
            info.context.db,
            first,
            cursor,
            facilities.FacilityFilter(
                status=f.status,
                borrower_id=_optional_id(f.borrower_id, "filter.borrowerId"),
                granting_department_id=_optional_id(
                    f.granting_department_id, "filter.grantingDepartmentId"
                ),
                unapproved=f.unapproved,
            ),
        )
        return to_connection(page, Facility.from_model, lambda x: x.id)
