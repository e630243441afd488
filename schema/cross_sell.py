"""Relationship managers' questions: what to offer next and why, and who can introduce them."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Annotated

import strawberry

from graph.cross_sell_paths import (
    MAX_HOPS,
    CrossSellPath,
    get_cross_sell_opportunities,
    get_cross_sell_paths,
)
from graph.cross_sell_refresh import refresh_cross_sell
from graph.errors import GraphError
from graph.introductions import MAX_HOPS as MAX_INTRO_HOPS
from graph.introductions import find_introductions
from graph.products_per_client import get_products_per_client
from schema.eager import eager
from schema.errors import BadInput, check_id, check_range
from schema.mutation_errors import ValidationError, to_error_type
from schema.principal import require_self
from schema.types import Client, CtxInfo, Product

FIRST_CAP = 100


@strawberry.type(description="One link of a cross-sell chain, with its measures.")
class CrossSellStep:
    from_product_id: strawberry.ID
    to_product_id: strawberry.ID
    support: float
    confidence: float
    lift: float


@strawberry.type(description="A product to offer a client, and the chain that explains it.")
class CrossSellSuggestion:
    client_id: strawberry.Private[str]
    product_id: strawberry.Private[str]
    product_ids: list[strawberry.ID] = strawberry.field(
        description="From a product the client holds to the suggested one."
    )
    score: float = strawberry.field(
        description="Product of the chain's confidences; ties go to the stronger weakest lift."
    )
    steps: list[CrossSellStep]

    @classmethod
    def from_model(cls, p: CrossSellPath) -> CrossSellSuggestion:
        ids = p.product_ids
        return cls(
            client_id=p.client_id,
            product_id=p.product_id,
            product_ids=[strawberry.ID(i) for i in ids],
            score=p.score,
            steps=[
                CrossSellStep(
                    from_product_id=strawberry.ID(ids[i]), to_product_id=strawberry.ID(ids[i + 1]),
                    support=s.support, confidence=s.confidence, lift=s.lift,
                )
                for i, s in enumerate(p.steps)
            ],
        )  # fmt: skip

    @strawberry.field
    @eager
    async def product(self, info: CtxInfo) -> Product | None:
        found = await info.context.loaders.product.load(self.product_id)
        return Product.from_model(found) if found else None

    @strawberry.field
    @eager
    async def client(self, info: CtxInfo) -> Client | None:
        found = await info.context.loaders.client.load(self.client_id)
        return Client.from_model(found) if found else None


def _suggestions(
    info: CtxInfo, found: list[CrossSellPath] | None
) -> list[CrossSellSuggestion] | None:
    """The paths came with their offered products: primed, `product` costs no round trip."""
    if found is None:
        return None
    info.context.loaders.product.prime_many({p.product_id: p.product for p in found})
    return [CrossSellSuggestion.from_model(p) for p in found]


@strawberry.type(description="One hop of an introduction chain, with the kinds of link.")
class IntroductionHop:
    from_id: strawberry.ID
    to_id: strawberry.ID
    kinds: list[str]


@strawberry.type
class IntroductionPaths:
    chains: list[list[IntroductionHop]] = strawberry.field(
        description="Shortest chains, each from one of the manager's clients to the prospect "
        "(at most 20)."
    )
    reason: str | None = strawberry.field(
        description="Why there is none: ALREADY_CLIENT or NO_PATH_WITHIN_MAX_HOPS."
    )
    truncated: bool = strawberry.field(
        description="True when a cap left something out: more than 20 shortest chains, or a "
        "level of more than 5,000 clients that the search went beyond."
    )


@strawberry.type(description="Distinct products in active holdings per active client.")
class ProductsPerClient:
    active_clients: int
    clients_with_products: int
    holdings: int
    products_per_client: Decimal = strawberry.field(
        description="`holdings` / `activeClients` (a client holding nothing counts), to 2 places."
    )
    most: int


@strawberry.type
class CrossSellQuery:
    @strawberry.field(
        description=f"Products the client does not hold and may buy, reached from products it "
        f"holds along cross-sell chains of up to `maxHops` links (1-{MAX_HOPS}); best first, "
        f"`first` 1-{FIRST_CAP}. Null for an unknown client."
    )
    async def cross_sell_paths(
        self, info: CtxInfo, client_id: strawberry.ID, max_hops: int = 3, first: int = 10
    ) -> list[CrossSellSuggestion] | None:
        check_id(client_id, "clientId")
        check_range(max_hops, 1, MAX_HOPS, "maxHops")
        check_range(first, 1, FIRST_CAP, "first")
        if not await info.context.loaders.client_visible.load(client_id):
            return None
        found = await get_cross_sell_paths(info.context.db, client_id, max_hops, first)
        return _suggestions(info, found)

    @strawberry.field(
        description=f"The best (client, product, chain) openings across the manager's active "
        f"clients, chains of up to 3 links; `first` 1-{FIRST_CAP}."
    )
    async def cross_sell_opportunities(
        self, info: CtxInfo, manager_id: strawberry.ID, first: int = 20
    ) -> list[CrossSellSuggestion] | None:
        check_id(manager_id, "managerId")
        check_range(first, 1, FIRST_CAP, "first")
        require_self(info, manager_id, "managerId")
        found = await get_cross_sell_opportunities(info.context.db, manager_id, 3, first)
        return _suggestions(info, found)

    @strawberry.field(
        description=f"Warm introductions: the shortest chains (1-{MAX_INTRO_HOPS} client links) "
        "from the manager's clients to the prospect. Null for an unknown manager or prospect. "
        "Asked by a relationship manager, chains pass only through clients in their book."
    )
    async def introduction_paths(
        self,
        info: CtxInfo,
        manager_id: strawberry.ID,
        prospect_id: strawberry.ID,
        max_hops: int = 4,
    ) -> IntroductionPaths | None:
        check_id(manager_id, "managerId")
        check_id(prospect_id, "prospectId")
        check_range(max_hops, 1, MAX_INTRO_HOPS, "maxHops")
        require_self(info, manager_id, "managerId")
        found = await find_introductions(
            info.context.db, manager_id, prospect_id, max_hops, info.context.loaders.visible_to
        )
        if found is None:
            return None
        return IntroductionPaths(
            chains=[
                [
                    IntroductionHop(
                        from_id=strawberry.ID(h.from_id), to_id=strawberry.ID(h.to_id),
                        kinds=h.kinds,
                    )
                    for h in chain
                ]
                for chain in found.chains
            ],
            reason=found.reason,
            truncated=found.truncated,
        )  # fmt: skip

    @strawberry.field(
        description="Products per client for a manager (as primary), a department (rolled up "
        "over its direct subtree) or, with neither, the bank (taking one of the worker's "
        "whole-bank search slots). Null for an unknown scope."
    )
    async def products_per_client(
        self,
        info: CtxInfo,
        manager_id: strawberry.ID | None = None,
        department_id: strawberry.ID | None = None,
    ) -> ProductsPerClient | None:
        if manager_id is not None and department_id is not None:
            raise BadInput("departmentId", "give a manager or a department, not both")
        whole_bank = manager_id is None and department_id is None
        async with info.context.whole_bank_slot() if whole_bank else contextlib.nullcontext():
            found = await get_products_per_client(
                info.context.db,
                check_id(manager_id, "managerId") if manager_id else None,
                check_id(department_id, "departmentId") if department_id else None,
                info.context.loaders.visible_to,
            )
        if found is None:
            return None
        return ProductsPerClient(
            active_clients=found.active_clients,
            clients_with_products=found.clients_with_products,
            holdings=found.holdings,
            products_per_client=found.products_per_client,
            most=found.most,
        )


@strawberry.type(description="What a cross-sell refresh did.")
class CrossSellRefresh:
    clients: int
    links: int
    removed: int
    pinned_kept: int


RefreshCrossSellResult = Annotated[
    CrossSellRefresh | ValidationError, strawberry.union("RefreshCrossSellResult")
]


@strawberry.type
class CrossSellMutation:
    @strawberry.mutation(
        description="Recompute cross-sell links from active holdings in one transaction; pinned "
        "links are kept."
    )
    async def refresh_cross_sell(
        self, info: CtxInfo, min_support: float = 0.02, min_confidence: float = 0.1
    ) -> RefreshCrossSellResult:
        try:
            done = await refresh_cross_sell(info.context.db, min_support, min_confidence)
        except GraphError as exc:
            error = to_error_type(exc)
            assert isinstance(error, ValidationError)
            return error
        return CrossSellRefresh(
            clients=done.clients, links=done.links, removed=done.removed,
            pinned_kept=done.pinned_kept,
        )  # fmt: skip
