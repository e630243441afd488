"""A group's unified credit limit (统一授信): one limit approved for the whole group, so that the
departments lending to its members lend within it rather than each on its own (多头授信).

It is held by the group's top controller: `creditExposure` reads it from the asked client's top
controller (or the client itself when nothing controls it), so a limit set on any other member
would never be read, and is refused (`GROUP_TOP`); a control link that would put a holder under
another controller is refused in turn (`UNIFIED_LIMIT_ON_TOP`, graph.client_link_writes). Set
while the client is archived, or to what it already is, it is refused too; `limit: null` removes
it, wherever it is held.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, LiteralString

from graph.client_group import root_of
from graph.client_link_writes import CONTROL_CYCLES
from graph.client_writes import changeable_client
from graph.clients import CLIENT_FIELDS
from graph.data_writes import Write, run_write
from graph.db import Db
from graph.errors import require
from graph.input_checks import optional_text, require_amount, require_currency, require_id
from graph.models import Client, decimal_to_cents
from graph.risk_settings import require_rated_currency

# The client's top controller, as creditExposure finds it (the client itself when nothing
# controls it, or when it is the smallest id of a cycle of control).
TOP_CONTROLLER: Final[LiteralString] = (
    """
MATCH (c:Client {id: $id})
CALL (c) {
"""
    + root_of("c", "top")
    + """}
RETURN c.unifiedLimitCents AS cents, c.unifiedLimitCurrency AS currency, top.id AS topId
"""
)

SET_UNIFIED_LIMIT: Final[LiteralString] = (
    """
MATCH (c:Client {id: $id})
SET c.unifiedLimitCents = $cents, c.unifiedLimitCurrency = $currency,
    c.version = coalesce(c.version, 0) + 1
RETURN c """
    + CLIENT_FIELDS
    + " AS client"
)


async def set_unified_limit(
    db: Db, actor: str, client_id: str, limit: Decimal | None, currency: str | None,
    reason: str | None, expected_version: int | None,
) -> Client:  # fmt: skip
    """Set (or with `limit` None remove) the unified limit of the group `client_id` tops."""
    require_id("clientId", client_id)
    if limit is not None:
        require_amount("limit", limit, positive=True)
        require_currency("currency", currency or "")
    currency = currency if limit is not None else None
    reason = optional_text("reason", reason, 500)
    cents = decimal_to_cents(limit) if limit is not None else None

    async def work(w: Write) -> Client:
        await w.lock(CONTROL_CYCLES)  # no control link moves the client meanwhile
        await changeable_client(w, client_id, expected_version, None)
        state = await w.one(TOP_CONTROLLER, id=client_id)
        require(
            # A limit left below the top (by older data) may always be removed.
            limit is None or state["topId"] == client_id,
            "GROUP_TOP",
            f"the top controller of {client_id!r}'s group is {state['topId']!r}: a unified limit "
            "is set on it",
            [client_id, state["topId"]],
        )
        require(
            (state["cents"], state["currency"]) != (cents, currency),
            "NO_OP",
            f"{client_id!r} already has this unified limit",
            [client_id],
        )
        if currency is not None:
            await require_rated_currency(w, "currency", currency)
        row = await w.one(SET_UNIFIED_LIMIT, id=client_id, cents=cents, currency=currency)
        w.clients.add(client_id)
        w.before = {"unifiedLimitCents": state["cents"], "unifiedLimitCurrency": state["currency"]}
        w.after = {"unifiedLimitCents": cents, "unifiedLimitCurrency": currency}
        return Client.model_validate(row["client"])

    inputs = {
        "clientId": client_id, "limit": limit, "currency": currency, "reason": reason,
        "expectedVersion": expected_version,
    }  # fmt: skip
    return await run_write(db, "setUnifiedLimit", actor, inputs, work)
