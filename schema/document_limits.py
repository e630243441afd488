"""Depth, aliases and estimated size of a document, measured once per fragment.

Strawberry's depth and alias limiters walk into a fragment again at every spread of it, so a
document of fragments that each spread the previous one twice (a few hundred bytes, well within
the token limit) made them run for minutes, blocking the worker. Here each fragment is measured
once per operation and its figures are added up wherever it is spread.

The size is an estimate of the fields a response can hold: a list field counts as many times as
its `first` (or `limit`) asks, or its default; a connection's `first` (`clients(first: 5)`) sizes
the list below it (`edges`); a list with no such argument counts as `UNSIZED_LIST` (or its own cap,
`UNSIZED_CAPS`). A page size given by a variable counts as the most the field allows
(`VARIABLE_LIST`, or its `SIZE_CAPS`), whatever the variable's default: validation sees no
variable values, and its verdict is cached for the document whatever values come with it later.
A literal counts within the field's range (a negative one must not cancel out the rest). Nested
lists multiply, so a few aliases of lists within lists that would build megabytes are refused
before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from graph.client_group import MEMBER_CAP
from graph.guarantee_circles import MAX_FIRST as CIRCLES_MAX
from graph.key_accounts import CHANGES_LISTED as GRADE_CHANGES_LISTED
from graph.org_chart import MAX_NODES as ORG_CHART_MAX
from graph.relationship_graph import MAX_LIMIT as RELATIONSHIP_GRAPH_MAX

UNSIZED_LIST: Final = 10  # a link list without a page size: a client's managers, a path
VARIABLE_LIST: Final = 100  # the largest `first` most lists take
SIZE_ARGUMENTS: Final = ("first", "limit")
# Fields whose size argument goes above VARIABLE_LIST, at the most their resolvers accept.
SIZE_CAPS: Final[dict[tuple[str, str], int]] = {
    ("Query", "relationshipGraph"): RELATIONSHIP_GRAPH_MAX,
    ("Query", "guaranteeCircles"): CIRCLES_MAX,
}
# Unsized lists that can hold more than UNSIZED_LIST, at the most they return.
UNSIZED_CAPS: Final[dict[tuple[str, str], int]] = {
    ("ClientGroup", "members"): MEMBER_CAP,
    ("OrgChart", "departments"): ORG_CHART_MAX,
    ("GradeClientsSuccess", "changed"): GRADE_CHANGES_LISTED,
}


@dataclass(frozen=True)
class Shape:
    depth: int = 0  # nested selections, as Strawberry's depth limiter counts them
    aliases: int = 0
    size: int = 0  # estimated fields in the response


@dataclass
class _Measure:
    context: ValidationContext
    fragments: dict[str, FragmentDefinitionNode]
    done: dict[tuple[str, int | None], Shape] = field(default_factory=dict)
    measuring: set[str] = field(default_factory=set)
    aliases_of: dict[str, int] = field(default_factory=dict)  # a fragment's, in introspection

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, size: int | None
    ) -> Shape:
        """`size`: a connection's page size, for the first unsized list below it."""
        depth = aliases = total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                shape = self.field(selection, parent, size)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.context.schema.get_type(condition.name.value) if condition else parent
                shape = self.selections(selection.selection_set, inner, size)
            elif isinstance(selection, FragmentSpreadNode):
                shape = self.spread(selection.name.value, size)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                continue
            depth = max(depth, shape.depth)
            aliases += shape.aliases
            total += shape.size
        return Shape(depth, aliases, total)

    def spread(self, name: str, size: int | None) -> Shape:
        key = (name, size)
        if key in self.done:
            return self.done[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.measuring:
            return Shape()  # unknown or cyclic: graphql-core's own rules report it
        self.measuring.add(name)
        parent = self.context.schema.get_type(fragment.type_condition.name.value)
        shape = self.selections(fragment.selection_set, parent, size)
        self.measuring.discard(name)
        self.done[key] = shape
        return shape

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, size: int | None) -> Shape:
        aliases = 1 if node.alias else 0
        name = node.name.value
        definition = (
            parent.fields.get(name)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        if name.startswith("__"):
            # Introspection: GraphiQL's own query is deep (graphql-core bounds its depth), but
            # its aliases count, or 150 copies of the schema cost seconds under one alias cap.
            nested = self.aliases_in(node.selection_set) if node.selection_set else 0
            return Shape(0, aliases + nested, 1)
        if definition is None:
            # A field the schema lacks (graphql-core reports it): depth and aliases as written.
            if node.selection_set is None:
                return Shape(0, aliases, 1)
            inner = self.selections(node.selection_set, None, None)
            return Shape(1 + inner.depth, aliases + inner.aliases, 1 + inner.size)
        key = (parent.name if parent is not None else "", name)
        asked = self.page_size(node, definition.args, SIZE_CAPS.get(key, VARIABLE_LIST))
        is_list = isinstance(get_nullable_type(definition.type), GraphQLList)
        times = (asked or size or UNSIZED_CAPS.get(key, UNSIZED_LIST)) if is_list else 1
        if node.selection_set is None:
            return Shape(0, aliases, times)
        inner = self.selections(
            node.selection_set, get_named_type(definition.type), None if is_list else asked
        )
        return Shape(1 + inner.depth, aliases + inner.aliases, times * (1 + inner.size))

    def aliases_in(self, selection_set: SelectionSetNode) -> int:
        count = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                count += 1 if selection.alias else 0
                if selection.selection_set is not None:
                    count += self.aliases_in(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                count += self.aliases_in(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name not in self.aliases_of and fragment is not None:
                    if name in self.measuring:
                        continue  # cyclic: graphql-core's own rules report it
                    self.measuring.add(name)
                    self.aliases_of[name] = self.aliases_in(fragment.selection_set)
                    self.measuring.discard(name)
                count += self.aliases_of.get(name, 0)
        return count

    @staticmethod
    def page_size(node: FieldNode, args: dict[str, Any], cap: int) -> int | None:
        for name in SIZE_ARGUMENTS:
            if name not in args:
                continue
            given = next((a.value for a in node.arguments or () if a.name.value == name), None)
            if isinstance(given, IntValueNode):
                return min(max(int(given.value), 1), cap)
            if isinstance(given, VariableNode):
                return cap
            default = args[name].default_value
            return default if isinstance(default, int) else None
        return None


def measure(context: ValidationContext, operation: OperationDefinitionNode) -> Shape:
    fragments = {
        d.name.value: d
        for d in context.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    root = {
        OperationType.QUERY: context.schema.query_type,
        OperationType.MUTATION: context.schema.mutation_type,
        OperationType.SUBSCRIPTION: context.schema.subscription_type,
    }[operation.operation]
    return _Measure(context, fragments).selections(operation.selection_set, root, None)


def document_limits(max_depth: int, max_aliases: int, max_size: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper, with more aliases, or estimated larger than
    these (the messages as Strawberry's limiters word them, for depth and aliases)."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for operation in context.document.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                shape = measure(context, operation)
                name = operation.name.value if operation.name else "anonymous"
                if shape.depth > max_depth:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}", operation
                        )
                    )
                if shape.aliases > max_aliases:
                    context.report_error(
                        GraphQLError(f"{shape.aliases} aliases found. Allowed: {max_aliases}")
                    )
                if shape.size > max_size:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' could answer about {shape.size:,} fields; the most one "
                            f"request may ask for is {max_size:,}: ask for smaller pages",
                            operation,
                        )
                    )

    return DocumentLimits
