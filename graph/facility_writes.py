"""Credit written one at a time: grant a facility, approve it, guarantee it (and release the
guarantee), draw on it, repay it, change its limit and close it.

A facility is granted by one department and approved by another that is independent of it
(审贷分离): not the granting department, nor its ancestor or descendant along `DIRECT_REPORT`,
the same independence a check-and-balance link needs. Approval takes the organisation's lock, so
no restructuring can change the tree between the check and the write. Archived clients take no
new facilities and give no new guarantees; nobody guarantees their own facility.

Money is drawn only on an independently approved facility, never past its limit, and repaid at
most what is drawn. A facility is closed once nothing is drawn: it stays for history (with its
guarantees, now released) and counts in no exposure, circle or group total. A closed facility
takes no approval, guarantee, drawing, repayment or new limit.

A limit is lowered at most to what is drawn and to the largest guarantee on the facility. Raising
it is new credit: the approval given for the old limit is withdrawn (it stays in the audit
record), so nothing more is drawn until an independent department approves the facility again.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Final, LiteralString

from pydantic import Field

from graph.client_links import (
    FACILITY_FIELDS,
    FACILITY_STATUS,
    INDEPENDENTLY_APPROVED,
    facility_from_map,
)
from graph.client_writes import require_not_archived
from graph.clients import CLIENT_FIELDS
from graph.data_writes import Write, require_active_department, run_write
from graph.db import Db
from graph.departments import dependent
from graph.errors import Duplicate, NotFound, require
from graph.facilities import GET_FACILITY
from graph.input_checks import optional_text, require_amount, require_currency, require_id
from graph.models import (
    Client,
    Facility,
    FacilityStatus,
    FacilityType,
    GraphModel,
    cents_to_decimal,
    decimal_to_cents,
)
from graph.risk_settings import require_rated_currency

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
CREATE (f:Facility {id: $id, type: $type, limitCents: $limitCents, drawnCents: 0,
                    currency: $currency, status: 'ACTIVE'})
CREATE (borrower)-[:BORROWS]->(f)
CREATE (granter)-[:GRANTED {at: date({timezone: $tz})}]->(f)
RETURN f """
    + FACILITY_FIELDS
    + " AS facility"
)

APPROVAL_STATE: Final[LiteralString] = (
    """
OPTIONAL MATCH (f:Facility {id: $facilityId})
OPTIONAL MATCH (approver:Department {id: $approverId})
RETURN f IS NOT NULL AS found, """
    + FACILITY_STATUS
    + """ AS status,
       approver IS NOT NULL AS approverFound,
       coalesce(approver.archived, false) AS approverArchived,
       COLLECT { MATCH (d:Department)-[:APPROVED]->(f) RETURN d.id ORDER BY d.id } AS approvers,
       COLLECT { MATCH (g:Department)-[:GRANTED]->(f) RETURN g.id } AS granters,
       """
    + INDEPENDENTLY_APPROVED
    + """ AS independent
"""
)

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
    + """ AS guarantor, f.limitCents AS limitCents, """
    + FACILITY_STATUS
    + """ AS status,
       COLLECT { MATCH (b:Client)-[:BORROWS]->(f) RETURN b.id }[0] AS borrowerId,
       COUNT { MATCH (:Client {id: $guarantorId})-[:GUARANTEES]->(f) } AS existing
"""
)

# A facility's state before money moves or it closes; `independentApproval` as creditExposure
# judges it.
MOVE_STATE: Final[LiteralString] = (
    """
OPTIONAL MATCH (f:Facility {id: $facilityId})
RETURN f IS NOT NULL AS found, """
    + FACILITY_STATUS
    + """ AS status, f.limitCents AS limitCents,
       f.drawnCents AS drawnCents,
       COLLECT { MATCH (b:Client)-[:BORROWS]->(f) RETURN b """
    + CLIENT_FIELDS
    + """ }[0] AS borrower, """
    + INDEPENDENTLY_APPROVED
    + """ AS independentApproval
"""
)

SET_DRAWN: Final[LiteralString] = (
    "MATCH (f:Facility {id: $facilityId}) SET f.drawnCents = $drawnCents RETURN f "
    + FACILITY_FIELDS
    + " AS facility"
)

CLOSE: Final[LiteralString] = (
    "MATCH (f:Facility {id: $facilityId}) "
    "SET f.status = 'CLOSED', f.closedOn = date({timezone: $tz}), f.closeReason = $reason "
    "RETURN f " + FACILITY_FIELDS + " AS facility"
)

# Guarantees on the facility above `$limitCents`.
GUARANTEES_ABOVE: Final[LiteralString] = (
    "MATCH (g:Client)-[r:GUARANTEES]->(:Facility {id: $facilityId}) "
    "WHERE r.amountCents > $limitCents RETURN collect(g.id) AS guarantorIds"
)

# The approvals of the facilities `$ids` removed, as (facility, approver) pairs (none: []). Used
# here one facility at a time, and by restructurings for those they would make count.
WITHDRAW_APPROVALS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (a:Department)-[approval:APPROVED]->(:Facility {id: id})
DELETE approval
RETURN collect({facilityId: id, approverId: a.id}) AS withdrawn
"""


def approvers_by_facility(withdrawn: list[dict[str, str]]) -> dict[str, list[str]]:
    """WITHDRAW_APPROVALS' pairs as each facility's approvers, in id order."""
    out: dict[str, list[str]] = {}
    for pair in withdrawn:
        out.setdefault(pair["facilityId"], []).append(pair["approverId"])
    return {f: sorted(a) for f, a in sorted(out.items())}


async def _withdraw(w: Write, facility_id: str) -> list[str]:
    row = await w.one(WITHDRAW_APPROVALS, ids=[facility_id])
    return approvers_by_facility(row["withdrawn"]).get(facility_id, [])


SET_LIMIT: Final[LiteralString] = (
    "MATCH (f:Facility {id: $facilityId}) SET f.limitCents = $limitCents RETURN f "
    + FACILITY_FIELDS
    + " AS facility"
)

GUARANTEE_HELD: Final[LiteralString] = (
    """
OPTIONAL MATCH (guarantor:Client {id: $guarantorId})
OPTIONAL MATCH (guarantor)-[r:GUARANTEES]->(:Facility {id: $facilityId})
RETURN guarantor """
    + CLIENT_FIELDS
    + """ AS guarantor, r.amountCents AS amountCents
"""
)

RELEASE_GUARANTEE: Final[LiteralString] = (
    "MATCH (:Client {id: $guarantorId})-[r:GUARANTEES]->(f:Facility {id: $facilityId}) "
    "DELETE r RETURN f " + FACILITY_FIELDS + " AS facility"
)

SET_GUARANTEE_AMOUNT: Final[LiteralString] = (
    "MATCH (:Client {id: $guarantorId})-[r:GUARANTEES]->(f:Facility {id: $facilityId}) "
    "SET r.amountCents = $amountCents RETURN f " + FACILITY_FIELDS + " AS facility"
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
    currency: str
    granting_department_id: str


class GuaranteeWritten(GraphModel):
    guarantor: Client
    facility: Facility
    amount: Decimal


def require_open(facility_id: str, status: str) -> None:
    require(
        status != FacilityStatus.CLOSED,
        "FACILITY_OPEN",
        f"facility {facility_id!r} is closed",
        [facility_id],
    )


def clean_new_facility(new: NewFacility) -> NewFacility:
    require_id("id", new.id)
    require_id("borrowerId", new.borrower_id)
    require_id("grantingDepartmentId", new.granting_department_id)
    require_amount("limit", new.limit, positive=True)
    return new.model_copy(update={"currency": require_currency("currency", new.currency)})


async def create_facility(db: Db, actor: str, new: NewFacility) -> Facility:
    """Granted today with nothing drawn, and unapproved until `approve_facility`: money moves
    only through `draw_facility`, once approved."""
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
        await require_rated_currency(w, "currency", new.currency)
        row = await w.one(
            CREATE_FACILITY,
            id=new.id,
            borrowerId=new.borrower_id,
            grantingDepartmentId=new.granting_department_id,
            type=new.type.value,
            limitCents=decimal_to_cents(new.limit),
            currency=new.currency,
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
        await _moving(w, facility_id)  # borrower, then facility: not closed meanwhile
        state = await w.one(APPROVAL_STATE, facilityId=facility_id, approverId=approver_id)
        if not state["found"]:
            raise NotFound("Facility", facility_id)
        require_open(facility_id, state["status"])
        if not state["approverFound"]:
            raise NotFound("Department", approver_id)
        if state["independent"]:
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
        # An approval that is not independent (imported as recorded) is replaced, not kept
        # beside the one that counts.
        if state["approvers"]:
            await _withdraw(w, facility_id)
        row = await w.one(APPROVE, facilityId=facility_id, approverId=approver_id)
        w.facilities.add(facility_id)
        w.before = {"approvingDepartmentIds": state["approvers"]}
        w.after = {"approvingDepartmentIds": [approver_id]}
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
        # Guarantor and borrower, then the facility (not closed meanwhile): the order every
        # facility write takes them in, the borrower's audit link included.
        await _moving(w, facility_id, with_clients=[guarantor_id])
        state = await w.one(GUARANTEE_STATE, guarantorId=guarantor_id, facilityId=facility_id)
        if state["guarantor"] is None:
            raise NotFound("Client", guarantor_id)
        if state["existing"]:
            raise Duplicate("Guarantee", f"{guarantor_id}-GUARANTEES->{facility_id}")
        require_not_archived(state["guarantor"])
        require_open(facility_id, state["status"])
        require(
            state["borrowerId"] != guarantor_id,
            "NO_SELF_GUARANTEE",
            "a borrower cannot guarantee its own facility",
            [guarantor_id, facility_id],
        )
        _require_within_limit(
            decimal_to_cents(amount), state["limitCents"], guarantor_id, facility_id
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


async def release_guarantee(
    db: Db, actor: str, guarantor_id: str, facility_id: str, reason: str | None
) -> GuaranteeWritten:
    """The guarantor no longer guarantees the facility (its indirect exposure goes); the
    guarantee stays in the audit record. An archived guarantor's guarantees stay as they are,
    as its other links do, until the facility closes."""
    require_id("guarantorId", guarantor_id)
    require_id("facilityId", facility_id)
    reason = optional_text("reason", reason, 500)

    async def work(w: Write) -> GuaranteeWritten:
        _, state = await _held_guarantee(w, guarantor_id, facility_id)
        row = await w.one(RELEASE_GUARANTEE, guarantorId=guarantor_id, facilityId=facility_id)
        w.clients.add(guarantor_id)
        w.facilities.add(facility_id)
        w.before = {"amountCents": state["amountCents"]}
        w.after = {"amountCents": None, "reason": reason}
        return GuaranteeWritten(
            guarantor=Client.model_validate(state["guarantor"]),
            facility=facility_from_map(row["facility"]),
            amount=cents_to_decimal(state["amountCents"]),
        )

    inputs = {"guarantorId": guarantor_id, "facilityId": facility_id, "reason": reason}
    return await run_write(db, "releaseGuarantee", actor, inputs, work)


async def change_guarantee_amount(
    db: Db, actor: str, guarantor_id: str, facility_id: str, amount: Decimal, reason: str | None
) -> GuaranteeWritten:
    """A guarantee amended: raised or lowered, at most the facility's limit, while the facility
    is open and the guarantor not archived (whose guarantees stay as they are, as with a
    release). The facility's approval stands, as it does when a guarantee is added or released."""
    require_id("guarantorId", guarantor_id)
    require_id("facilityId", facility_id)
    require_amount("amount", amount, positive=True)
    reason = optional_text("reason", reason, 500)
    cents = decimal_to_cents(amount)

    async def work(w: Write) -> GuaranteeWritten:
        facility, state = await _held_guarantee(w, guarantor_id, facility_id)
        before = state["amountCents"]
        require(
            cents != before,
            "NO_OP",
            f"the guarantee of {guarantor_id!r} on {facility_id!r} is already {amount}",
            [guarantor_id, facility_id],
        )
        _require_within_limit(cents, facility["limitCents"], guarantor_id, facility_id)
        row = await w.one(
            SET_GUARANTEE_AMOUNT,
            guarantorId=guarantor_id,
            facilityId=facility_id,
            amountCents=cents,
        )
        w.clients.add(guarantor_id)
        w.facilities.add(facility_id)
        w.before = {"amountCents": before}
        w.after = {"amountCents": cents, "reason": reason}
        return GuaranteeWritten(
            guarantor=Client.model_validate(state["guarantor"]),
            facility=facility_from_map(row["facility"]),
            amount=cents_to_decimal(cents),
        )

    inputs = {"guarantorId": guarantor_id, "facilityId": facility_id, "amount": amount,
              "reason": reason}  # fmt: skip
    return await run_write(db, "changeGuaranteeAmount", actor, inputs, work)


def _require_within_limit(
    cents: int, limit_cents: int, guarantor_id: str, facility_id: str
) -> None:
    require(
        cents <= limit_cents,
        "GUARANTEE_WITHIN_LIMIT",
        "the guarantee exceeds the facility's limit",
        [guarantor_id, facility_id],
    )


async def _held_guarantee(
    w: Write, guarantor_id: str, facility_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An open facility's state and the guarantor's guarantee of it (amountCents), held as
    `_moving` holds them; NotFound without one, refused for an archived guarantor (whose
    guarantees stay as they are, as its other links do)."""
    facility = await _moving(w, facility_id, with_clients=[guarantor_id])
    state = await w.one(GUARANTEE_HELD, guarantorId=guarantor_id, facilityId=facility_id)
    if state["guarantor"] is None:
        raise NotFound("Client", guarantor_id)
    if state["amountCents"] is None:
        raise NotFound("Guarantee", f"{guarantor_id}-GUARANTEES->{facility_id}")
    require_not_archived(state["guarantor"])
    return facility, state


async def _moving(w: Write, facility_id: str, with_clients: Sequence[str] = ()) -> dict[str, Any]:
    """The facility's state, held (locked) until the transaction ends: its borrower and
    `with_clients` first, in one sorted batch, then the facility, the order every write takes
    them in (the audit record's link to the borrower would otherwise lock it last); NotFound, or
    refused when closed."""
    found = await w.one(MOVE_STATE, facilityId=facility_id)
    locked = {found["borrower"]["id"]} if found["borrower"] is not None else set()
    await w.lock_clients([*locked, *with_clients])
    await w.lock_facilities([facility_id])
    state = await w.one(MOVE_STATE, facilityId=facility_id)
    if not state["found"]:
        raise NotFound("Facility", facility_id)
    borrower = state["borrower"]["id"] if state["borrower"] is not None else None
    if borrower is not None and borrower not in locked:
        # An import lent it to another client in between; the facility's lock holds it there now.
        await w.lock_clients([borrower])
        state = await w.one(MOVE_STATE, facilityId=facility_id)
    require_open(facility_id, state["status"])
    if borrower is not None:
        w.clients.add(borrower)  # the audit record shows on the borrower too
    return state


async def _set_drawn(w: Write, facility_id: str, before: int, after: int) -> Facility:
    row = await w.one(SET_DRAWN, facilityId=facility_id, drawnCents=after)
    w.facilities.add(facility_id)
    w.before, w.after = {"drawnCents": before}, {"drawnCents": after}
    return facility_from_map(row["facility"])


async def draw_facility(db: Db, actor: str, facility_id: str, amount: Decimal) -> Facility:
    """The borrower draws `amount` more: only once independently approved (审贷分离 before the
    money leaves), never past the limit, and not for an archived borrower."""
    require_id("facilityId", facility_id)
    require_amount("amount", amount, positive=True)
    cents = decimal_to_cents(amount)

    async def work(w: Write) -> Facility:
        state = await _moving(w, facility_id)  # the borrower not archived meanwhile
        if state["borrower"] is not None:
            require_not_archived(state["borrower"])
        require(
            state["independentApproval"],
            "FACILITY_APPROVED",
            f"facility {facility_id!r} has no independent approval: approve it before drawing",
            [facility_id],
        )
        drawn = state["drawnCents"] + cents
        require(
            drawn <= state["limitCents"],
            "DRAWN_WITHIN_LIMIT",
            f"drawing {amount} would take facility {facility_id!r} past its limit "
            f"({cents_to_decimal(state['limitCents'])}, {cents_to_decimal(state['drawnCents'])} "
            "drawn)",
            [facility_id],
        )
        return await _set_drawn(w, facility_id, state["drawnCents"], drawn)

    inputs = {"facilityId": facility_id, "amount": amount}
    return await run_write(db, "drawFacility", actor, inputs, work)


async def repay_facility(db: Db, actor: str, facility_id: str, amount: Decimal) -> Facility:
    """The borrower repays `amount`, at most what is drawn."""
    require_id("facilityId", facility_id)
    require_amount("amount", amount, positive=True)
    cents = decimal_to_cents(amount)

    async def work(w: Write) -> Facility:
        state = await _moving(w, facility_id)
        require(
            cents <= state["drawnCents"],
            "REPAID_WITHIN_DRAWN",
            f"repaying {amount} is more than facility {facility_id!r} has drawn "
            f"({cents_to_decimal(state['drawnCents'])})",
            [facility_id],
        )
        return await _set_drawn(w, facility_id, state["drawnCents"], state["drawnCents"] - cents)

    inputs = {"facilityId": facility_id, "amount": amount}
    return await run_write(db, "repayFacility", actor, inputs, work)


async def change_facility_limit(
    db: Db, actor: str, facility_id: str, limit: Decimal, reason: str | None
) -> Facility:
    """A new limit for an open facility: lowered no further than what is drawn and the largest
    guarantee on it; raised only for a borrower that is not archived, and then unapproved until
    approved again (the raise is new credit, and 审贷分离 applies to it)."""
    require_id("facilityId", facility_id)
    require_amount("limit", limit, positive=True)
    reason = optional_text("reason", reason, 500)
    cents = decimal_to_cents(limit)

    async def work(w: Write) -> Facility:
        # A raise withdraws the approval, a relationship to a department a restructuring may be
        # merging away: the organisation's lock first, as approveFacility takes it.
        await w.lock(ORG_LOCK)
        state = await _moving(w, facility_id)  # the borrower not archived meanwhile
        before = state["limitCents"]
        require(
            cents != before,
            "NO_OP",
            f"facility {facility_id!r} already has the limit {cents_to_decimal(before)}",
            [facility_id],
        )
        require(
            cents >= state["drawnCents"],
            "DRAWN_WITHIN_LIMIT",
            f"facility {facility_id!r} has {cents_to_decimal(state['drawnCents'])} drawn, more "
            f"than the new limit {limit}: repay it first",
            [facility_id],
        )
        # Guarantees are added under the facility's lock, which _moving holds.
        above = await w.one(GUARANTEES_ABOVE, facilityId=facility_id, limitCents=cents)
        require(
            not above["guarantorIds"],
            "GUARANTEE_WITHIN_LIMIT",
            f"guarantees on facility {facility_id!r} exceed the new limit {limit}",
            [facility_id, *above["guarantorIds"]],
        )
        w.before, w.after = {"limitCents": before}, {"limitCents": cents, "reason": reason}
        if cents > before:
            if state["borrower"] is not None:
                require_not_archived(state["borrower"])
            w.before["approvingDepartmentIds"] = await _withdraw(w, facility_id)
            w.after["approvingDepartmentIds"] = []
        row = await w.one(SET_LIMIT, facilityId=facility_id, limitCents=cents)
        w.facilities.add(facility_id)
        return facility_from_map(row["facility"])

    inputs = {"facilityId": facility_id, "limit": limit, "reason": reason}
    return await run_write(db, "changeFacilityLimit", actor, inputs, work)


async def withdraw_approval(db: Db, actor: str, facility_id: str, reason: str | None) -> Facility:
    """An open facility's approval withdrawn (the approving department's decision annulled):
    nothing more is drawn until approveFacility approves it again; what is drawn stays."""
    require_id("facilityId", facility_id)
    reason = optional_text("reason", reason, 500)

    async def work(w: Write) -> Facility:
        # An approval is a link to a department a restructuring may be merging away: the
        # organisation's lock first, as approving takes it.
        await w.lock(ORG_LOCK)
        await _moving(w, facility_id)
        withdrawn = await _withdraw(w, facility_id)
        if not withdrawn:
            raise NotFound("Approval", facility_id)
        row = await w.one(GET_FACILITY, id=facility_id)
        w.facilities.add(facility_id)
        w.before = {"approvingDepartmentIds": withdrawn}
        w.after = {"approvingDepartmentIds": [], "reason": reason}
        return facility_from_map(row["facility"])

    inputs = {"facilityId": facility_id, "reason": reason}
    return await run_write(db, "withdrawApproval", actor, inputs, work)


async def close_facility(db: Db, actor: str, facility_id: str, reason: str | None) -> Facility:
    """Closed once fully repaid; kept for history, counted in no exposure."""
    require_id("facilityId", facility_id)
    reason = optional_text("reason", reason, 500)

    async def work(w: Write) -> Facility:
        state = await _moving(w, facility_id)
        require(
            state["drawnCents"] == 0,
            "FACILITY_REPAID",
            f"facility {facility_id!r} still has {cents_to_decimal(state['drawnCents'])} drawn: "
            "repay it before closing",
            [facility_id],
        )
        row = await w.one(CLOSE, facilityId=facility_id, reason=reason)
        w.facilities.add(facility_id)
        w.before = {"status": FacilityStatus.ACTIVE.value}
        w.after = {"status": FacilityStatus.CLOSED.value, "reason": reason}
        return facility_from_map(row["facility"])

    inputs = {"facilityId": facility_id, "reason": reason}
    return await run_write(db, "closeFacility", actor, inputs, work)
