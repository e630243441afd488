"""The executor: graphql-core's, with a short path for plain leaf fields.

Most fields of a response are plain leaves, a scalar or enum read straight off its object (`id`,
`name`, `balance`...): 120 of the 170 fields of a client page. graphql-core gives each one the
full treatment (a resolve-info object, the resolver chain, awaitable checks, completion by type),
which on a client page costs about as much CPU as the driver spends on the page's query. For a
field that `guard_fields` gave a `LeafPlan`, and a principal its rule admits outright, the
executor reads the attribute and coerces it itself; so too for a manager reading a client the
request already knows is in the book. Anything else (a refused principal, a manager reading a
client the request has not yet checked, a null for a non-null field, a value that does not
coerce) goes the ordinary way, which raises or reports exactly as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.permissions import LEAF_PLAN, LeafPlan, reads_unchecked

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList
    from graphql.pyutils import Path


class RmGraphExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field_def = parent_type.fields.get(node.name.value)
        plan: LeafPlan | None = field_def.extensions.get(LEAF_PLAN) if field_def else None
        context = self.context_value
        if (
            plan is not None
            and not node.arguments
            and reads_unchecked(
                plan.rule,
                getattr(context, "principal", None),
                getattr(context, "loaders", None),
                source,
            )
        ):
            value = getattr(source, plan.attribute, Undefined)
            if value is None and not plan.non_null:
                return None
            if value is not None and value is not Undefined:
                try:
                    coerced = plan.leaf_type.coerce_output_value(value)
                except Exception:
                    coerced = None  # the ordinary path below reports it
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
