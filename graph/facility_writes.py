"""Credit written one at a time: grant a facility, approve it, guarantee it.

A facility is granted by one department and approved by another that is independent of it
(审贷分离): not the granting department, nor its ancestor or descendant along `DIRECT_REPORT`,
the same independence a check-and-balance link needs. Approval takes the organisation's lock, so
no restructuring can change the tree between the check and the write. Archived clients take no
new facilities and give no new guarantees; nobody guarantees their own facility.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Final, LiteralString

from pydantic import Field

from graph.bank_calendar import zone_name
from graph.client_links import FACILITY_FIELDS, facility_from_map
from graph.client_writes import require_not_archived
from graph.clients import CLIENT_FIELDS
from graph.data_writes import Write, require, require_active_department, run_write
from graph.db import Db
from graph.departments import dependent
from graph.errors import Duplicate, InvalidInput, NotFound
from graph.input_checks import require_amount, require_currency, require_id
from graph.models import (
    Client,
    Facility,
    FacilityType,
    GraphModel,
    cents_to_decimal,
    decimal_to_cents,
)

ORG_LOCK: Final = "org"  # the lock restructuring takes (graph.restructure.LOCK_ORG)

CREATE_STATE: Final[LiteralString] = (
    """
OPTIONAL MATCH (f:Facility {id: $id})
OPTIONAL MATCH (c:Client {id: $borrowerId})
OPTIONAL MATCH (d:Department {id: $grantingDepartmentId})
RETURN f IS NOT NULL AS exists, c """
    + CLIENT_FIELDS
    + """ AS borrower, d IS NOT NULL AS departmentFound,
       coalesce(d.archived, false) AS departmentArchived
"""
)

CREATE_FACILITY: Final[LiteralString] = (
    """
MATCH (borrower:Client {id: $borrowerId}), (granter:Department {id: $grantingDepartmentId})
CREATE (f:Facility {id: $id, type: $type, limitCents: $limitCents, drawnCents: $drawnCents,
                    currency: $currency, status: 'ACTIVE'})
CREATE (borrower)-[:BORROWS]->(f)
CREATE (granter)-[:GRANTED {at: date({timezone: $tz})}]->(f)
RETURN f """
    + FACILITY_FIELDS
    + " AS facility"
)

APPROVAL_STATE: Final[LiteralString] = """
OPTIONAL MATCH (f:Facility {id: $facilityId})
OPTIONAL MATCH (a:Department {id: $approverId})
RETURN f IS NOT NULL AS found, a IS NOT NULL AS approverFound,
       coalesce(a.archived, false) AS approverArchived,
       COLLECT { MATCH (d:Department)-[:APPROVED]->(f) RETURN d.id } AS approvers,
       COLLECT { MATCH (g:Department)-[:GRANTED]->(f) RETURN g.id } AS granters
"""

# Granting departments the approver is not independent of.
DEPENDENT_GRANTERS: Final[LiteralString] = (
    "MATCH (g:Department)-[:GRANTED]->(:Facility {id: $facilityId}), "
    "(a:Department {id: $approverId}) WHERE " + dependent("g", "a") + " RETURN collect(g.id) AS ids"
)

APPROVE: Final[LiteralString] = (
    """
MATCH (a:Department {id: $approverId}), (f:Facility {id: $facilityId})
CREATE (a)-[:APPROVED {at: date({timezone: $tz})}]->(f)
RETURN f """
    + FACILITY_FIELDS
    + " AS facility"
)

GUARANTEE_STATE: Final[LiteralString] = (
    """
OPTIONAL MATCH (guarantor:Client {id: $guarantorId})
OPTIONAL MATCH (f:Facility {id: $facilityId})
RETURN guarantor """
    + CLIENT_FIELDS
    + """ AS guarantor, f.limitCents AS limitCents,
       COLLECT { MATCH (b:Client)-[:BORROWS]->(f) RETURN b.id }[0] AS borrowerId,
       COUNT { MATCH (:Client {id: $guarantorId})-[:GUARANTEES]->(f) } AS existing
"""
)

GUARANTEE: Final[LiteralString] = (
    """
MATCH (guarantor:Client {id: $guarantorId}), (f:Facility {id: $facilityId})
CREATE (guarantor)-[:GUARANTEES {amountCents: $amountCents}]->(f)
RETURN f """
    + FACILITY_FIELDS
    + " AS facility"
)


class NewFacility(GraphModel):
    id: str
    borrower_id: str
    type: FacilityType
    # Any Decimal the API parsed gets here, NaN included, so the checks can name the field.
    limit: Annotated[Decimal, Field(allow_inf_nan=True)]
    drawn: Annotated[Decimal, Field(allow_inf_nan=True)]
    currency: str
    granting_department_id: str


class GuaranteeWritten(GraphModel):
    guarantor: Client
    facility: Facility
    amount: Decimal


def clean_new_facility(new: NewFacility) -> NewFacility:
    require_id("id", new.id)
    require_id("borrowerId", new.borrower_id)
    require_id("grantingDepartmentId", new.granting_department_id)
    require_amount("limit", new.limit, positive=True)
    require_amount("drawn", new.drawn)
    if new.drawn > new.limit:
        raise InvalidInput("drawn", "must not exceed the limit")
    return new.model_copy(update={"currency": require_currency("currency", new.currency)})


async def create_facility(db: Db, actor: str, new: NewFacility) -> Facility:
    """Granted today, and unapproved until `approve_facility`."""
    new = clean_new_facility(new)

    async def work(w: Write) -> Facility:
        await w.lock_clients([new.borrower_id])
        await w.lock_departments([new.granting_department_id])  # not archived meanwhile
        state = await w.one(
            CREATE_STATE,
            id=new.id,
            borrowerId=new.borrower_id,
            grantingDepartmentId=new.granting_department_id,
        )
        if state["exists"]:
            raise Duplicate("Facility", new.id)
        if state["borrower"] is None:
            raise NotFound("Client", new.borrower_id)
        if not state["departmentFound"]:
            raise NotFound("Department", new.granting_department_id)
        require_not_archived(state["borrower"])
        require_active_department(state["departmentArchived"], new.granting_department_id)
        row = await w.one(
            CREATE_FACILITY,
            id=new.id,
            borrowerId=new.borrower_id,
            grantingDepartmentId=new.granting_department_id,
            type=new.type.value,
            limitCents=decimal_to_cents(new.limit),
            drawnCents=decimal_to_cents(new.drawn),
            currency=new.currency,
            tz=zone_name(),
        )
        w.facilities.add(new.id)
        w.clients.add(new.borrower_id)
        w.after = new.model_dump(by_alias=True, mode="json")
        return facility_from_map(row["facility"])

    inputs = new.model_dump(by_alias=True, mode="json")
    return await run_write(db, "createFacility", actor, inputs, work, ("Facility", new.id))


async def approve_facility(db: Db, actor: str, facility_id: str, approver_id: str) -> Facility:
    require_id("facilityId", facility_id)
    require_id("approvingDepartmentId", approver_id)

    async def work(w: Write) -> Facility:
        await w.lock(ORG_LOCK)
        state = await w.one(APPROVAL_STATE, facilityId=facility_id, approverId=approver_id)
        if not state["found"]:
            raise NotFound("Facility", facility_id)
        if not state["approverFound"]:
            raise NotFound("Department", approver_id)
        if state["approvers"]:
            raise Duplicate("Approval", facility_id)
        require_active_department(state["approverArchived"], approver_id)
        dependent = await w.one(DEPENDENT_GRANTERS, facilityId=facility_id, approverId=approver_id)
        require(
            not dependent["ids"],
            "APPROVAL_INDEPENDENCE",
            "the approver must be independent of the granting department: not the same "
            "department, nor its ancestor or descendant",
            [approver_id, *dependent["ids"]],
        )
        row = await w.one(APPROVE, facilityId=facility_id, approverId=approver_id, tz=zone_name())
        w.facilities.add(facility_id)
        w.before, w.after = {"approvingDepartmentId": None}, {"approvingDepartmentId": approver_id}
        return facility_from_map(row["facility"])

    inputs = {"facilityId": facility_id, "approvingDepartmentId": approver_id}
    return await run_write(db, "approveFacility", actor, inputs, work)


async def add_guarantee(
    db: Db, actor: str, guarantor_id: str, facility_id: str, amount: Decimal
) -> GuaranteeWritten:
    """The guarantee moves exposure to the guarantor (it never removes the borrower's); it is
    at most the facility's limit."""
    require_id("guarantorId", guarantor_id)
    require_id("facilityId", facility_id)
    require_amount("amount", amount, positive=True)

    async def work(w: Write) -> GuaranteeWritten:
        await w.lock_clients([guarantor_id])
        state = await w.one(GUARANTEE_STATE, guarantorId=guarantor_id, facilityId=facility_id)
        if state["guarantor"] is None:
            raise NotFound("Client", guarantor_id)
        if state["limitCents"] is None:
            raise NotFound("Facility", facility_id)
        if state["existing"]:
            raise Duplicate("Guarantee", f"{guarantor_id}-GUARANTEES->{facility_id}")
        require_not_archived(state["guarantor"])
        require(
            state["borrowerId"] != guarantor_id,
            "NO_SELF_GUARANTEE",
            "a borrower cannot guarantee its own facility",
            [guarantor_id, facility_id],
        )
        require(
            decimal_to_cents(amount) <= state["limitCents"],
            "GUARANTEE_WITHIN_LIMIT",
            "the guarantee exceeds the facility's limit",
            [guarantor_id, facility_id],
        )
        row = await w.one(
            GUARANTEE,
            guarantorId=guarantor_id,
            facilityId=facility_id,
            amountCents=decimal_to_cents(amount),
        )
        w.clients.add(guarantor_id)
        w.facilities.add(facility_id)
        w.after = {"amountCents": decimal_to_cents(amount)}
        return GuaranteeWritten(
            guarantor=Client.model_validate(state["guarantor"]),
            facility=facility_from_map(row["facility"]),
            amount=cents_to_decimal(decimal_to_cents(amount)),
        )

    inputs = {"guarantorId": guarantor_id, "facilityId": facility_id, "amount": amount}
    return await run_write(db, "addGuarantee", actor, inputs, work)
