"""Holdings written one at a time: record a client's balance in a product, and close a holding.

A closed holding is kept (`active: false`) so history and `includeClosed` reads still show it.
Archived clients take no new holdings; a product's audience must suit the client (individual
products for individuals, corporate products for corporate and interbank clients).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final, LiteralString

from graph.client_writes import require_not_archived
from graph.clients import CLIENT_FIELDS
from graph.data_writes import Write, run_write
from graph.db import Db
from graph.errors import NotFound, require
from graph.input_checks import optional_text, require_amount, require_id, require_past_date
from graph.models import (
    Client,
    GraphModel,
    Holding,
    Product,
    cents_to_decimal,
    decimal_to_cents,
)
from graph.products import PRODUCT_FIELDS

# A holding recorded before consent was kept is taken as consented.
HOLDING_FIELDS: Final[LiteralString] = (
    "{.balanceCents, .since, .active, consented: coalesce(h.consented, true)}"
)

STATE: Final[LiteralString] = (
    """
OPTIONAL MATCH (c:Client {id: $clientId})
OPTIONAL MATCH (p:Product {id: $productId})
RETURN c """
    + CLIENT_FIELDS
    + " AS client, p "
    + PRODUCT_FIELDS
    + """ AS product,
       COLLECT { MATCH (c)-[h:HOLDS]->(p) RETURN h """
    + HOLDING_FIELDS
    + """ }[0] AS holding
"""
)

# A new or reopened holding starts today unless told otherwise; an open one keeps its start.
RECORD: Final[LiteralString] = (
    """
MATCH (c:Client {id: $clientId}), (p:Product {id: $productId})
MERGE (c)-[h:HOLDS]->(p)
SET h.since = coalesce($since, CASE WHEN h.active THEN h.since END, date({timezone: $tz})),
    h.balanceCents = $balanceCents, h.active = true
RETURN h """
    + HOLDING_FIELDS
    + " AS holding"
)

CLOSE: Final[LiteralString] = (
    """
MATCH (:Client {id: $clientId})-[h:HOLDS]->(:Product {id: $productId})
SET h.active = false
RETURN h """
    + HOLDING_FIELDS
    + " AS holding"
)

SET_CONSENT: Final[LiteralString] = (
    """
MATCH (:Client {id: $clientId})-[h:HOLDS]->(:Product {id: $productId})
SET h.consented = $consented
RETURN h """
    + HOLDING_FIELDS
    + " AS holding"
)


class HoldingWritten(GraphModel):
    client: Client
    product: Product
    holding: Holding


def holding_id(client_id: str, product_id: str) -> str:
    return f"{client_id}-HOLDS->{product_id}"


def _suits(audience: str, kind: str) -> bool:
    if audience == "INDIVIDUAL":
        return kind == "INDIVIDUAL"
    return audience != "CORPORATE" or kind != "INDIVIDUAL"


def _written(client: dict[str, Any], product: dict[str, Any], h: dict[str, Any]) -> HoldingWritten:
    c, p = Client.model_validate(client), Product.model_validate(product)
    return HoldingWritten(
        client=c,
        product=p,
        holding=Holding(
            client_id=c.id,
            product_id=p.id,
            balance=cents_to_decimal(h["balanceCents"]),
            since=h["since"],
            active=h["active"],
            consented=h["consented"],
        ),
    )


async def _state(
    w: Write, client_id: str, product_id: str, visible_to: str | None
) -> dict[str, Any]:
    await w.lock_clients([client_id])
    await w.lock_products([product_id])  # its audience holds still while we check it
    state = await w.one(STATE, clientId=client_id, productId=product_id)
    if state["client"] is None:
        raise NotFound("Client", client_id)
    await w.require_in_book(visible_to, [client_id])
    if state["product"] is None:
        raise NotFound("Product", product_id)
    return state


async def record_holding(
    db: Db, actor: str, client_id: str, product_id: str, balance: Decimal,
    since: dt.date | None, visible_to: str | None = None,
) -> HoldingWritten:  # fmt: skip
    """Opens the holding, or sets the balance of the one the client has (reopening it if it was
    closed)."""
    require_id("clientId", client_id)
    require_id("productId", product_id)
    require_amount("balance", balance)
    if since is not None:
        require_past_date("since", since)

    async def work(w: Write) -> HoldingWritten:
        state = await _state(w, client_id, product_id, visible_to)
        client, product = state["client"], state["product"]
        require_not_archived(client)
        require(
            _suits(product["audience"], client["kind"]),
            "PRODUCT_AUDIENCE",
            f"a {product['audience']} product is not for a {client['kind']} client",
            [client_id, product_id],
        )
        row = await w.one(
            RECORD,
            clientId=client_id,
            productId=product_id,
            since=since,
            balanceCents=decimal_to_cents(balance),
        )
        w.clients.add(client_id)
        w.products.add(product_id)
        w.before = {"holding": state["holding"]}
        w.after = {"holding": row["holding"]}
        return _written(client, product, row["holding"])

    inputs = {"clientId": client_id, "productId": product_id, "balance": balance, "since": since}
    return await run_write(db, "recordHolding", actor, inputs, work)


async def close_holding(
    db: Db, actor: str, client_id: str, product_id: str, visible_to: str | None = None
) -> HoldingWritten:
    """Also for an archived client: winding down what the client held, as repaying and closing
    its facilities are. Its holdings would otherwise stay active for good."""
    require_id("clientId", client_id)
    require_id("productId", product_id)

    async def work(w: Write) -> HoldingWritten:
        state = await _state(w, client_id, product_id, visible_to)
        if state["holding"] is None:
            raise NotFound("Holding", holding_id(client_id, product_id))
        require(
            state["holding"]["active"],
            "HOLDING_ACTIVE",
            "the holding is already closed",
            [client_id, product_id],
        )
        row = await w.one(CLOSE, clientId=client_id, productId=product_id)
        w.clients.add(client_id)
        w.products.add(product_id)
        w.before, w.after = {"active": True}, {"active": False}
        return _written(state["client"], state["product"], row["holding"])

    inputs = {"clientId": client_id, "productId": product_id}
    return await run_write(db, "closeHolding", actor, inputs, work)


async def set_holding_consent(
    db: Db, actor: str, client_id: str, product_id: str, consented: bool, reason: str | None
) -> HoldingWritten:
    """The risk side records a holding opened without the client's consent (found by a complaint
    or a review), or restores it: the holding stays on record, open or closed as it is, and
    counts in products per client and the cross-sell measures only while consented."""
    require_id("clientId", client_id)
    require_id("productId", product_id)
    reason = optional_text("reason", reason, 500)

    async def work(w: Write) -> HoldingWritten:
        state = await _state(w, client_id, product_id, None)
        if state["holding"] is None:
            raise NotFound("Holding", holding_id(client_id, product_id))
        was = state["holding"]["consented"]
        require(
            was != consented,
            "NO_OP",
            f"the holding is already {'consented' if consented else 'marked unconsented'}",
            [client_id, product_id],
        )
        row = await w.one(
            SET_CONSENT, clientId=client_id, productId=product_id, consented=consented
        )
        w.clients.add(client_id)
        w.products.add(product_id)
        w.before = {"consented": was}
        w.after = {"consented": consented, "reason": reason}
        return _written(state["client"], state["product"], row["holding"])

    inputs = {"clientId": client_id, "productId": product_id, "consented": consented}
    return await run_write(db, "setHoldingConsent", actor, inputs, work)
