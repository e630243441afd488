"""Products written one at a time: create (offered by a product department) and update.

Products carry no version (the loader writes none), so updates apply to the latest state. A
product's audience must suit the clients who hold it: individual products only to individuals,
corporate products to corporate and interbank clients.
"""

from __future__ import annotations

from typing import Any, Final, LiteralString

from graph.data_writes import Write, require_active_department, run_write
from graph.db import Db
from graph.errors import Duplicate, InvalidInput, NotFound, require
from graph.input_checks import require_id, require_range, require_text
from graph.models import GraphModel, Product, ProductAudience, ProductCategory
from graph.products import PRODUCT_FIELDS

CREATE_STATE: Final[LiteralString] = """
OPTIONAL MATCH (p:Product {id: $id})
OPTIONAL MATCH (d:Department {id: $departmentId})
RETURN p IS NOT NULL AS exists, d IS NOT NULL AS departmentFound,
       coalesce(d.archived, false) AS departmentArchived, d.function AS departmentFunction
"""

CREATE_PRODUCT: Final[LiteralString] = (
    """
MATCH (d:Department {id: $departmentId})
CREATE (p:Product {id: $id, name: $name, category: $category, audience: $audience,
                   riskLevel: $riskLevel})
CREATE (d)-[:OFFERS]->(p)
RETURN p """
    + PRODUCT_FIELDS
    + " AS product"
)

PRODUCT_STATE: Final[LiteralString] = (
    "OPTIONAL MATCH (p:Product {id: $id}) RETURN p " + PRODUCT_FIELDS + " AS product"
)

# Active holders a new audience would not suit (the first 20).
UNSUITED_HOLDERS: Final[LiteralString] = """
MATCH (c:Client)-[h:HOLDS {active: true}]->(:Product {id: $id})
WHERE ($audience = 'INDIVIDUAL' AND c.kind <> 'INDIVIDUAL')
   OR ($audience = 'CORPORATE' AND c.kind = 'INDIVIDUAL')
WITH c ORDER BY c.id LIMIT 20
RETURN collect(c.id) AS clientIds
"""

UPDATE_PRODUCT: Final[LiteralString] = (
    "MATCH (p:Product {id: $id}) SET p += $changes RETURN p " + PRODUCT_FIELDS + " AS product"
)


class NewProduct(GraphModel):
    id: str
    name: str
    category: ProductCategory
    audience: ProductAudience
    risk_level: int
    department_id: str


class ProductChanges(GraphModel):
    name: str | None = None
    category: ProductCategory | None = None
    audience: ProductAudience | None = None
    risk_level: int | None = None


def clean_changes(changes: ProductChanges) -> dict[str, Any]:
    given = changes.model_fields_set
    for name in given:
        if getattr(changes, name) is None:
            raise InvalidInput(ProductChanges.model_fields[name].alias or name, "must not be null")
    clean: dict[str, Any] = {}
    if changes.name is not None:
        clean["name"] = require_text("name", changes.name)
    if changes.risk_level is not None:
        clean["riskLevel"] = require_range("riskLevel", changes.risk_level, 1, 5)
    if changes.category is not None:
        clean["category"] = changes.category.value
    if changes.audience is not None:
        clean["audience"] = changes.audience.value
    if not clean:
        raise InvalidInput("input", "names no field to change")
    return clean


async def create_product(db: Db, actor: str, new: NewProduct) -> Product:
    new = new.model_copy(
        update={
            "id": require_id("id", new.id),
            "name": require_text("name", new.name),
            "risk_level": require_range("riskLevel", new.risk_level, 1, 5),
            "department_id": require_id("departmentId", new.department_id),
        }
    )

    async def work(w: Write) -> Product:
        await w.lock_departments([new.department_id])  # not archived while it gains a product
        state = await w.one(CREATE_STATE, id=new.id, departmentId=new.department_id)
        if state["exists"]:
            raise Duplicate("Product", new.id)
        if not state["departmentFound"]:
            raise NotFound("Department", new.department_id)
        require_active_department(state["departmentArchived"], new.department_id)
        require(
            state["departmentFunction"] == "PRODUCT",
            "PRODUCT_DEPARTMENT",
            "products are offered by product departments",
            [new.department_id],
        )
        row = await w.one(CREATE_PRODUCT, **new.model_dump(by_alias=True, mode="json"))
        w.products.add(new.id)
        w.after = new.model_dump(by_alias=True, mode="json")
        return Product.model_validate(row["product"])

    inputs = new.model_dump(by_alias=True, mode="json")
    return await run_write(db, "createProduct", actor, inputs, work, ("Product", new.id))


async def update_product(db: Db, actor: str, product_id: str, changes: ProductChanges) -> Product:
    require_id("productId", product_id)
    clean = clean_changes(changes)

    async def work(w: Write) -> Product:
        await w.lock_products([product_id])  # no new holder while we check the holders
        state = await w.one(PRODUCT_STATE, id=product_id)
        if state["product"] is None:
            raise NotFound("Product", product_id)
        if "audience" in clean:
            unsuited = await w.one(UNSUITED_HOLDERS, id=product_id, audience=clean["audience"])
            require(
                not unsuited["clientIds"],
                "PRODUCT_AUDIENCE",
                f"active holders are not {clean['audience']} clients",
                [product_id, *unsuited["clientIds"]],
            )
        row = await w.one(UPDATE_PRODUCT, id=product_id, changes=clean)
        w.products.add(product_id)
        w.before = {k: state["product"].get(k) for k in clean}
        w.after = clean
        return Product.model_validate(row["product"])

    inputs = {"productId": product_id, "changes": clean}
    return await run_write(db, "updateProduct", actor, inputs, work)
