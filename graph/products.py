"""Products: by id, listed, who offers them and where they cross-sell to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, LiteralString

from graph.db import Db
from graph.models import GraphModel, Page, Product, ProductCategory
from graph.pagination import build_page

PRODUCT_FIELDS: Final[LiteralString] = "{.id, .name, .category, .audience, .riskLevel}"

GET_PRODUCTS: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (p:Product {id: id}) RETURN p " + PRODUCT_FIELDS + " AS product"
)

PRODUCT_FILTER: Final[LiteralString] = """
      ($nameContains IS NULL OR p.name CONTAINS $nameContains)
  AND ($category IS NULL OR p.category = $category)
"""

LIST_PRODUCTS: Final[LiteralString] = (
    "CALL () { MATCH (p:Product) WHERE "
    + PRODUCT_FILTER
    + " RETURN count(p) AS total }"
    + " CALL () { MATCH (p:Product) WHERE ($after IS NULL OR p.id > $after) AND "
    + PRODUCT_FILTER
    + " WITH p ORDER BY p.id LIMIT $limit RETURN collect(p "
    + PRODUCT_FIELDS
    + ") AS products }"
    + " RETURN total, products"
)

OFFERED_BY: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (d:Department)-[:OFFERS]->(:Product {id: id})
WITH id, d ORDER BY d.id
RETURN id, collect(d.id) AS departmentIds
"""

CROSS_SELLS_FROM: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Product {id: id})-[r:CROSS_SELLS_TO]->(o:Product)
WITH id, o, r ORDER BY r.lift DESC, o.id
RETURN id, o.id AS toId, r.support AS support, r.confidence AS confidence, r.lift AS lift,
       coalesce(r.pinned, false) AS pinned
"""


class CrossSellLink(GraphModel):
    from_id: str
    to_id: str
    support: float
    confidence: float
    lift: float
    pinned: bool


@dataclass(frozen=True)
class ProductFilter:
    name_contains: str | None = None
    category: ProductCategory | None = None


async def get_products(db: Db, ids: Sequence[str]) -> dict[str, Product]:
    records = await db.read(GET_PRODUCTS, {"ids": list(ids)})
    products = (Product.model_validate(r["product"]) for r in records)
    return {p.id: p for p in products}


async def list_products(
    db: Db, first: int, after: str | None, filt: ProductFilter
) -> Page[Product]:
    records = await db.read(
        LIST_PRODUCTS,
        {
            "after": after,
            "limit": first + 1,
            "nameContains": filt.name_contains,
            "category": filt.category.value if filt.category else None,
        },
    )
    record = records[0]
    rows = [Product.model_validate(row) for row in record["products"]]
    return build_page(rows, first, record["total"])


async def get_offering_departments(db: Db, ids: Sequence[str]) -> dict[str, list[str]]:
    records = await db.read(OFFERED_BY, {"ids": list(ids)})
    return {r["id"]: list(r["departmentIds"]) for r in records}


async def get_cross_sells(db: Db, ids: Sequence[str]) -> dict[str, list[CrossSellLink]]:
    records = await db.read(CROSS_SELLS_FROM, {"ids": list(ids)})
    out: dict[str, list[CrossSellLink]] = defaultdict(list)
    for r in records:
        out[r["id"]].append(
            CrossSellLink(
                from_id=r["id"],
                to_id=r["toId"],
                support=r["support"],
                confidence=r["confidence"],
                lift=r["lift"],
                pinned=r["pinned"],
            )
        )
    return out
