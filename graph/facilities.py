"""Facilities by id and across the bank, a page at a time: where a risk officer looks for credit
granted without an independent approval (审贷分离), whoever the borrower."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, LiteralString

from graph.client_links import (
    FACILITY_FIELDS,
    FACILITY_STATUS,
    INDEPENDENTLY_APPROVED,
    OPEN_FACILITY,
    facility_from_map,
)
from graph.db import Db
from graph.models import Facility, FacilityStatus, Page
from graph.pagination import build_page

GET_FACILITY: Final[LiteralString] = (
    "MATCH (f:Facility {id: $id}) RETURN f " + FACILITY_FIELDS + " AS facility"
)

# Each filter is off when its parameter is null. The department filter takes the department's
# whole direct subtree, as team figures do.
FACILITY_FILTER: Final[LiteralString] = (
    """
      ($status IS NULL OR """
    + FACILITY_STATUS
    + """ = $status)
  AND ($borrowerId IS NULL OR EXISTS { MATCH (:Client {id: $borrowerId})-[:BORROWS]->(f) })
  AND ($departmentId IS NULL OR EXISTS {
    MATCH (f)<-[:GRANTED]-(:Department)-[:DIRECT_REPORT*0..]->(:Department {id: $departmentId}) })
  AND ($unapproved IS NULL OR ("""
    + OPEN_FACILITY
    + " AND NOT "
    + INDEPENDENTLY_APPROVED
    + ") = $unapproved)"
)

LIST_FACILITIES: Final[LiteralString] = (
    "CALL () { MATCH (f:Facility) WHERE "
    + FACILITY_FILTER
    + " RETURN count(f) AS total }"
    + " CALL () { MATCH (f:Facility) WHERE ($after IS NULL OR f.id > $after) AND "
    + FACILITY_FILTER
    + " WITH f ORDER BY f.id LIMIT $limit RETURN collect(f "
    + FACILITY_FIELDS
    + ") AS facilities }"
    + " RETURN total, facilities"
)

# The same, found from the borrower's index entry rather than by reading every facility.
LIST_BORROWERS_FACILITIES: Final[LiteralString] = (
    "MATCH (:Client {id: $borrowerId})-[:BORROWS]->(f:Facility) WHERE "
    + FACILITY_FILTER
    + " WITH collect(f) AS found"
    + " CALL (found) { UNWIND found AS f WITH f WHERE $after IS NULL OR f.id > $after"
    + " WITH f ORDER BY f.id LIMIT $limit RETURN collect(f "
    + FACILITY_FIELDS
    + ") AS facilities }"
    + " RETURN size(found) AS total, facilities"
)


@dataclass(frozen=True)
class FacilityFilter:
    status: FacilityStatus | None = None
    borrower_id: str | None = None
    granting_department_id: str | None = None
    # True: open facilities without an independent approval; False: all others.
    unapproved: bool | None = None


async def get_facility(db: Db, facility_id: str) -> Facility | None:
    records = await db.read(GET_FACILITY, {"id": facility_id})
    return facility_from_map(records[0]["facility"]) if records else None


async def list_facilities(
    db: Db, first: int, after: str | None, filt: FacilityFilter
) -> Page[Facility]:
    records = await db.read(
        LIST_FACILITIES if filt.borrower_id is None else LIST_BORROWERS_FACILITIES,
        {
            "after": after,
            "limit": first + 1,
            "status": filt.status.value if filt.status else None,
            "borrowerId": filt.borrower_id,
            "departmentId": filt.granting_department_id,
            "unapproved": filt.unapproved,
        },
    )
    record = records[0]
    rows = [facility_from_map(row) for row in record["facilities"]]
    return build_page(rows, first, record["total"])
