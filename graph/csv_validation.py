"""Check a whole CSV import before anything is written: references, duplicates and invariants.

Ids the import defines, link identities already seen and the client-manager rows go into a
scratch SQLite file rather than Python sets, so checking a file of a million rows takes the same
memory as checking a thousand. References the import does not define are looked up in the graph,
a batch at a time. Department links are few and are checked in memory as one tree.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Final, LiteralString

from neo4j import ManagedTransaction, Session

from graph.client_group import root_of
from graph.csv_reader import Problems, Row, read_rows
from graph.csv_tables import NodeKind, Table, check_row
from graph.departments import MAX_DEPTH
from graph.limits import CapitalBase
from graph.risk_settings import READ_SETTINGS, SETTINGS_ID, capital_base_from

BATCH: Final = 5000
# The column of each file bringing money in a currency the risk settings must convert.
MONEY_CURRENCIES: Final[dict[str, str]] = {
    "facilities": "currency",
    "clients": "unifiedLimitCurrency",
}
# Files whose rows may not point at an archived department, as the mutations refuse: archiving
# needs a department without members and ends its links, so an export holds none of these.
# (Facilities keep the departments that granted and approved them, archived or not.)
NOT_TO_ARCHIVED: Final = frozenset({"managers", "direct_links", "linear_links", "check_links"})

FIND_IDS: Final[dict[NodeKind, LiteralString]] = {
    # A department's extra says it is archived (no member or link may point at it), or else
    # gives its function (only a PRODUCT department offers products).
    NodeKind.DEPARTMENT: "UNWIND $ids AS id MATCH (n:Department {id: id}) "
    "RETURN n.id AS id, CASE WHEN n.archived THEN 'ARCHIVED' ELSE n.function END AS extra",
    NodeKind.MANAGER: "UNWIND $ids AS id MATCH (n:Manager {id: id}) "
    "RETURN n.id AS id, null AS extra",
    NodeKind.CLIENT: "UNWIND $ids AS id MATCH (n:Client {id: id}) RETURN n.id AS id, null AS extra",
    NodeKind.PRODUCT: "UNWIND $ids AS id MATCH (n:Product {id: id}) "
    "RETURN n.id AS id, null AS extra",
    # A facility's extra is its borrower and limit: a client may not guarantee its own
    # facility, nor guarantee more than the facility's limit.
    NodeKind.FACILITY: "UNWIND $ids AS id MATCH (n:Facility {id: id}) "
    "RETURN n.id AS id, COLLECT { MATCH (n)<-[:BORROWS]-(c:Client) RETURN c.id }[0] "
    "+ '\x1f' + toString(n.limitCents) AS extra",
}
# The top controller of each client the graph holds (itself when nothing controls it).
TOPS: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Client {id: id})
CALL (c) {
"""
    + root_of("c", "top")
    + """}
RETURN c.id AS id, top.id AS topId
"""
)
LIMIT_HOLDERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (c:Client {id: id}) WHERE c.unifiedLimitCents IS NOT NULL
RETURN collect(c.id) AS ids
"""
CLIENT_HISTORY_IN_GRAPH: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (c:Client {id: id})
RETURN c.id AS id, c.segment AS segment, c.status AS status
"""
GRAPH_PRIMARIES: Final[LiteralString] = """
UNWIND $ids AS id
OPTIONAL MATCH (c:Client {id: id})
OPTIONAL MATCH (m:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c)
RETURN id, count(c) > 0 AS known, collect(m.id) AS primaries, head(collect(c.status)) AS status
"""
# Few (managers who left or rest); the import cannot change whether a manager is active.
INACTIVE_MANAGERS: Final[LiteralString] = """
MATCH (m:Manager) WHERE m.active = false RETURN collect(m.id) AS ids
"""
# Products the graph has these departments offer.
GRAPH_OFFERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Department {id: id})-[:OFFERS]->(p:Product)
RETURN id, p.id AS productId ORDER BY id, productId
"""
# Guarantees already in the graph on facilities the import redefines (a new limit or borrower).
GRAPH_GUARANTEES_ON: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (g:Client)-[r:GUARANTEES]->(:Facility {id: id})
RETURN id, g.id AS guarantorId, r.amountCents AS amountCents
"""
# Facilities the graph holds closed, among those the import gives money drawn and no status.
GRAPH_CLOSED_FACILITIES: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (f:Facility {id: id}) WHERE f.status = 'CLOSED'
RETURN collect(f.id) AS ids
"""
# Client links the graph holds in the rows' direction or the other way (the API's relateClients
# refuses a link the two clients already have in either direction).
GRAPH_RELATED: Final[LiteralString] = """
UNWIND $rows AS r
MATCH (a:Client {id: r.fromId}), (b:Client {id: r.toId})
RETURN r.line AS line,
       EXISTS { (a)-[:RELATED_TO {kind: r.kind}]->(b) } AS same,
       EXISTS { (b)-[:RELATED_TO {kind: r.kind}]->(a) } AS reverse
"""
GRAPH_CHECK_LINKS: Final[LiteralString] = """
MATCH (a:Department)-[:CHECKS]->(b:Department) RETURN a.id AS checker, b.id AS checked
"""
GRAPH_REPORTING_LINES: Final[LiteralString] = """
MATCH (m:Manager)-[:REPORTS_TO]->(boss:Manager) RETURN m.id AS manager, boss.id AS boss
"""
GRAPH_DIRECT_LINKS: Final[LiteralString] = """
MATCH (child:Department)-[:DIRECT_REPORT]->(parent:Department)
RETURN child.id AS child, parent.id AS parent
"""

SCRATCH_SCHEMA: Final = """
CREATE TABLE ids (kind TEXT, id TEXT, file TEXT, line INT, extra TEXT,
                  PRIMARY KEY (kind, id)) WITHOUT ROWID;
CREATE TABLE seen (file TEXT, key TEXT, line INT, PRIMARY KEY (file, key)) WITHOUT ROWID;
CREATE TABLE deferred (kind TEXT, id TEXT, file TEXT, line INT, col TEXT);
CREATE TABLE manages (client TEXT, manager TEXT, role TEXT, line INT);
CREATE INDEX manages_client ON manages (client);
-- facility rows with money drawn and an empty status, which keeps the graph's
CREATE TABLE drawn_keeping_status (id TEXT PRIMARY KEY, line INT) WITHOUT ROWID;
"""


class ScratchIndex:
    """What the import defines, on disk; closed (and deleted with its folder) after the check."""

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "import-index.sqlite")
        # Scratch data: no journal or fsync, and a small fixed cache.
        self.db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8000;"
            + SCRATCH_SCHEMA
        )

    def define(
        self, kind: NodeKind, id_: str, file: str, line: int, extra: str | None
    ) -> int | None:
        """Record an id; the line of its earlier definition when it is a duplicate."""
        try:
            self.db.execute(
                "INSERT INTO ids VALUES (?, ?, ?, ?, ?)", (kind.value, id_, file, line, extra)
            )
            return None
        except sqlite3.IntegrityError:
            row = self.db.execute(
                "SELECT line FROM ids WHERE kind = ? AND id = ?", (kind.value, id_)
            ).fetchone()
            return int(row[0])

    def see(self, file: str, key: str, line: int) -> int | None:
        """Record a link; the line it was seen on first when it is a repeat."""
        try:
            self.db.execute("INSERT INTO seen VALUES (?, ?, ?)", (file, key, line))
            return None
        except sqlite3.IntegrityError:
            return self.seen_on(file, key)

    def seen_on(self, file: str, key: str) -> int | None:
        row = self.db.execute(
            "SELECT line FROM seen WHERE file = ? AND key = ?", (file, key)
        ).fetchone()
        return None if row is None else int(row[0])

    def find(self, kind: NodeKind, id_: str) -> tuple[bool, str | None]:
        row = self.db.execute(
            "SELECT extra FROM ids WHERE kind = ? AND id = ?", (kind.value, id_)
        ).fetchone()
        return (row is not None, row[0] if row else None)

    def close(self) -> None:
        self.db.close()


def fetch(
    tx: ManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> list[dict[str, Any]]:
    return [record.data() for record in tx.run(statement, params)]


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class Validator:
    """Checks each file in dependency order, then what spans files (`finish`)."""

    session: Session
    index: ScratchIndex
    problems: Problems
    rows_read: dict[str, int] = field(default_factory=dict)
    _direct: list[tuple[str, str, int]] = field(default_factory=list)
    _checks: list[tuple[str, str, int]] = field(default_factory=list)
    _inactive: set[str] = field(default_factory=set)
    _reports: list[tuple[str, str | None, int]] = field(default_factory=list)
    _capital: CapitalBase | None = None  # the risk settings, read once
    _limits: list[tuple[str, int]] = field(default_factory=list)  # clients given a unified limit
    # Direct control rows of controls.csv: controlled -> (controller, line).
    _controlled: dict[str, tuple[str, int]] = field(default_factory=dict)

    def check_file(self, table: Table, path: Path, on_rows: Any = None) -> None:
        read = 0
        for batch in chunks(read_rows(path, table, self.problems), BATCH):
            read += len(batch)
            self._check_batch(table, batch)
            if on_rows is not None:
                on_rows(table.file, len(batch))
        self.rows_read[table.file] = read
        self._check_deferred(table)

    def _graph_ids(self, kind: NodeKind, ids: Iterable[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for chunk in chunks(sorted(set(ids)), BATCH):
            records = self.session.execute_read(fetch, FIND_IDS[kind], {"ids": chunk})
            found.update((r["id"], r["extra"]) for r in records)
        return found

    def _check_batch(self, table: Table, batch: list[Row]) -> None:
        file = table.file
        identity = table.identity_keys
        wanted: dict[NodeKind, set[str]] = defaultdict(set)
        known: dict[tuple[NodeKind, str], str | None] = {}
        # A department the graph holds archived stays archived when the file restates it (the
        # `archived` column restores a new one as archived, but archives or revives none the
        # graph holds): members, links and products still may not point at it.
        archived: set[str] = set()
        in_graph: dict[str, str | None] = {}
        if table.section == "departments":
            ids = {row.values["id"] for row in batch if "id" in row.values}
            in_graph = self._graph_ids(NodeKind.DEPARTMENT, ids)
            archived = {id_ for id_, extra in in_graph.items() if extra == "ARCHIVED"}
        for row in batch:
            values = row.values
            for header, message in check_row(table, values):
                self.problems.add(file, row.line, header, message)
            if table.defines is not None and "id" in values:
                extra = None
                if table.section == "facilities":
                    extra = f"{values.get('borrowerId')}\x1f{values.get('limitCents')}"
                    if values.get("drawnCents") and values.get("status") is None:
                        self.index.db.execute(
                            "INSERT OR IGNORE INTO drawn_keeping_status VALUES (?, ?)",
                            (values["id"], row.line),
                        )
                if table.section == "clients":
                    extra = values.get("status")
                if table.section == "departments":
                    self._check_archived(file, row, in_graph, archived)
                    restored = values.get("archived") is True and values["id"] not in in_graph
                    extra = (
                        "ARCHIVED"
                        if values["id"] in archived or restored
                        else values.get("function")
                    )
                earlier = self.index.define(table.defines, values["id"], file, row.line, extra)
                if earlier is not None:
                    self.problems.add(file, row.line, "id", f"repeats the id of line {earlier}")
            elif table.defines is None and all(k in values for k in identity):
                key = _link_key(values[k] for k in identity)
                earlier = self.index.see(file, key, row.line)
                if earlier is not None:
                    self.problems.add(
                        file,
                        row.line,
                        None,
                        f"repeats the link of line {earlier} ({', '.join(table.identity)})",
                    )
            for column in table.columns:
                value = values.get(column.row_key)
                if column.refers_to is None or value is None:
                    continue
                if column.refers_to is table.defines:
                    self.index.db.execute(
                        "INSERT INTO deferred VALUES (?, ?, ?, ?, ?)",
                        (column.refers_to.value, value, file, row.line, column.name),
                    )
                    continue
                present, extra = self.index.find(column.refers_to, value)
                if present:
                    known[(column.refers_to, value)] = extra
                else:
                    wanted[column.refers_to].add(value)
            if table.section == "manages" and "clientId" in values and "managerId" in values:
                self.index.db.execute(
                    "INSERT INTO manages VALUES (?, ?, ?, ?)",
                    (values["clientId"], values["managerId"], values.get("role"), row.line),
                )
            if table.section == "managers" and row.ok:
                self._reports.append((values["id"], values.get("reportsToId"), row.line))
            if table.section == "direct_links" and row.ok:
                self._direct.append((values["fromId"], values["toId"], row.line))
            if table.section == "check_links" and row.ok:
                self._checks.append((values["fromId"], values["toId"], row.line))
            if table.section == "clients" and row.ok and values.get("unifiedLimitCents"):
                self._limits.append((values["id"], row.line))
            if (
                table.section == "controls"
                and row.ok
                and (values["basis"] != "EQUITY" or values["share"] > 50)
            ):
                self._controlled[values["toId"]] = (values["fromId"], row.line)
        for kind, ids in wanted.items():
            for id_, extra in self._graph_ids(kind, ids).items():
                known[(kind, id_)] = extra
        for row in batch:
            for column in table.columns:
                value = row.values.get(column.row_key)
                if column.refers_to is None or value is None or column.refers_to is table.defines:
                    continue
                if (column.refers_to, value) not in known:
                    self.problems.add(
                        file,
                        row.line,
                        column.name,
                        f"refers to {column.refers_to.value} {value!r}, which is neither in the "
                        "graph nor in this import",
                    )
                elif (
                    column.refers_to is NodeKind.DEPARTMENT
                    and table.section in NOT_TO_ARCHIVED
                    and known[(column.refers_to, value)] == "ARCHIVED"
                ):
                    self.problems.add(
                        file, row.line, column.name, f"department {value!r} is archived"
                    )
                elif column.refers_to is NodeKind.DEPARTMENT and table.section == "products":
                    function = known[(column.refers_to, value)]
                    if function != "PRODUCT":
                        self.problems.add(
                            file, row.line, column.name,
                            f"department {value!r} is archived" if function == "ARCHIVED"
                            else f"department {value!r} is not a product department (its "
                            f"function is {function}): products are offered by product "
                            "departments",
                        )  # fmt: skip
            if table.section == "guarantees":
                self._check_guarantee(file, row, known)
            money = MONEY_CURRENCIES.get(table.section)
            code = row.values.get(money) if money else None
            closed = row.values.get("status") == "CLOSED"  # in no exposure
            if money and code is not None and not closed and not self._rated(code):
                self.problems.add(
                    file, row.line, money,
                    f"{code} has no exchange rate to the reporting currency in the risk "
                    "settings: an admin sets one first (setRiskSettings fxRates)",
                )  # fmt: skip
        if table.section == "clients":
            self._check_segments(file, batch)
        if table.section == "related":
            self._check_reverse_links(file, batch)

    def _check_archived(
        self, file: str, row: Row, in_graph: dict[str, str | None], archived: set[str]
    ) -> None:
        """The `archived` column restores a department as it was (an export into an empty
        graph); archiving one the graph holds, or reviving one, is the mutations' work (an
        archived department has no member, link or product, which they check)."""
        given, id_ = row.values.get("archived"), row.values.get("id")
        if given is True and id_ in in_graph and id_ not in archived:
            self.problems.add(
                file, row.line, "archived",
                "the graph holds this department active: archive it with archiveDepartment",
            )  # fmt: skip
        if given is False and id_ in archived:
            self.problems.add(
                file, row.line, "archived",
                "the graph holds this department archived: an import does not revive it",
            )  # fmt: skip

    def _rated(self, currency: str) -> bool:
        """Whether the risk settings convert `currency` (every exposure read meeting money in
        one they do not is refused), as the mutations bringing money in require."""
        if self._capital is None:
            [row] = self.session.execute_read(fetch, READ_SETTINGS, {"settingsId": SETTINGS_ID})
            self._capital = capital_base_from(row)
        return not self._capital.unrated([currency])

    def _check_guarantee(
        self, file: str, row: Row, known: dict[tuple[NodeKind, str], str | None]
    ) -> None:
        facility = known.get((NodeKind.FACILITY, row.values.get("facilityId", "")))
        if facility is None:
            return
        borrower, _, limit = facility.partition("\x1f")
        if borrower == row.values.get("guarantorId"):
            self.problems.add(file, row.line, "guarantorId", "guarantees its own facility")
        amount = row.values.get("amountCents")
        if amount is not None and limit.isdigit() and amount > int(limit):
            self.problems.add(file, row.line, "amount", "is above the facility's limit")

    def _check_reverse_links(self, file: str, batch: list[Row]) -> None:
        """Two clients are linked once per kind, in one direction (its roles say which way):
        a new link is refused when they are linked the other way already, in the graph or in
        an earlier line. A link the graph already holds as given is restated, not new, so the
        export of a graph that has both directions still imports back into it."""
        rows = [
            r for r in batch if all(r.values.get(k) is not None for k in ("fromId", "toId", "kind"))
        ]
        params = {"rows": [{**r.values, "line": r.line} for r in rows]}
        in_graph = {
            record["line"]: record
            for record in self.session.execute_read(fetch, GRAPH_RELATED, params)
        }
        for row in rows:
            found = in_graph.get(row.line)
            if found is not None and found["same"]:
                continue
            values = row.values
            if found is not None and found["reverse"]:
                self.problems.add(
                    file, row.line, None,
                    f"the graph links {values['toId']!r} to {values['fromId']!r} as "
                    f"{values['kind']} already (the other way): give that link, not a second one",
                )  # fmt: skip
                continue
            reverse = _link_key((values["toId"], values["fromId"], values["kind"]))
            earlier = self.index.seen_on(file, reverse)
            if earlier is not None and earlier < row.line:
                self.problems.add(
                    file, row.line, None,
                    f"links the two clients of line {earlier} the other way, as the same kind: "
                    "a link is given once, in one direction",
                )  # fmt: skip

    def _check_segments(self, file: str, batch: list[Row]) -> None:
        """An existing (存量) client never becomes new (增量), an active client never becomes a
        prospect again, and a prospect becomes an active new client only through the pipeline
        (movePipeline, which credits the manager who won it): each as the mutations keep it."""
        asked = {
            r.values["id"]: (r.line, r.values.get("segment"), r.values.get("status"))
            for r in batch
            if "id" in r.values
            and (r.values.get("segment") == "NEW" or r.values.get("status") == "PROSPECT")
        }
        if not asked:
            return
        records = self.session.execute_read(fetch, CLIENT_HISTORY_IN_GRAPH, {"ids": sorted(asked)})
        for record in records:
            line, segment, status = asked[record["id"]]
            if record["segment"] == "EXISTING" and segment == "NEW":
                self.problems.add(
                    file, line, "segment",
                    "the client is existing (存量) in the graph and can never become new (增量)",
                )  # fmt: skip
            if record["status"] == "PROSPECT" and status == "ACTIVE" and segment == "NEW":
                self.problems.add(
                    file, line, "status",
                    "the client is a prospect in the graph: it becomes an active new (增量) "
                    "client only through the development pipeline (movePipeline to ACTIVE)",
                )  # fmt: skip
            if record["status"] == "ACTIVE" and status == "PROSPECT":
                self.problems.add(
                    file, line, "status",
                    "the client is active in the graph and does not become a prospect again "
                    "(archive it when the relationship ends)",
                )  # fmt: skip

    def _check_deferred(self, table: Table) -> None:
        """References to ids of the same file (a manager's boss), once the file is read."""
        if table.defines is None:
            return
        missing = self.index.db.execute(
            "SELECT d.id, d.line, d.col FROM deferred d LEFT JOIN ids i "
            "ON i.kind = d.kind AND i.id = d.id WHERE d.file = ? AND i.id IS NULL",
            (table.file,),
        ).fetchall()
        in_graph = self._graph_ids(table.defines, (m[0] for m in missing))
        for id_, line, col in missing:
            if id_ not in in_graph:
                self.problems.add(
                    table.file,
                    line,
                    col,
                    f"refers to {table.defines.value} {id_!r}, which is neither in the graph "
                    "nor in this import",
                )

    def finish(self) -> None:
        self._check_unified_limits()
        self._check_primary_managers()
        self._check_redefined_facilities()
        self._check_closed_facilities()
        self._check_product_departments()
        self._check_department_tree()
        self._check_reporting_lines()

    def _check_unified_limits(self) -> None:
        """A group's unified limit (统一授信) sits on its top controller, the only client it is
        read from (as setUnifiedLimit keeps it): not on a client that a row of controls.csv
        controls directly, nor on one the graph has controlled."""
        for chunk in chunks(self._limits, BATCH):
            lines = dict(chunk)
            records = self.session.execute_read(fetch, TOPS, {"ids": list(lines)})
            tops = {r["id"]: r["topId"] for r in records}
            for client, line in chunk:
                direct = self._controlled.get(client)
                top = direct[0] if direct else tops.get(client, client)
                if top != client:
                    self.problems.add(
                        "clients.csv", line, "unifiedLimit",
                        f"{client!r} is controlled (by {top!r}): a group's unified limit is set "
                        "on its top controller",
                    )  # fmt: skip
        # A limit the graph keeps (an empty cell keeps it) on a client a row puts under control.
        given = {client for client, _ in self._limits}
        for chunk in chunks(sorted(set(self._controlled) - given), BATCH):
            [held] = self.session.execute_read(fetch, LIMIT_HOLDERS, {"ids": chunk})
            for client in held["ids"]:
                controller, line = self._controlled[client]
                self.problems.add(
                    "controls.csv", line, "toId",
                    f"{client!r} holds its group's unified limit, which is read from the top "
                    f"controller only: remove it (setUnifiedLimit) before {controller!r} "
                    "controls it",
                )  # fmt: skip

    def _check_reporting_lines(self) -> None:
        """Reporting lines stay a forest: no manager above themselves (the import's rows
        replace the graph's line for the managers they define)."""
        if not any(boss is not None for _, boss, _ in self._reports):
            return
        records = self.session.execute_read(fetch, GRAPH_REPORTING_LINES, {})
        boss_of: dict[str, str] = {r["manager"]: r["boss"] for r in records}
        for manager, boss, _ in self._reports:
            if boss is None:
                boss_of.pop(manager, None)
            else:
                boss_of[manager] = boss
        cyclic = _on_cycles(boss_of)
        for manager, _, line in self._reports:
            if manager in cyclic:
                self.problems.add(
                    "managers.csv", line, "reportsToId",
                    f"would put manager {manager!r} above themselves (a cycle of reporting "
                    "lines)",
                )  # fmt: skip

    def _check_closed_facilities(self) -> None:
        """A closed facility has nothing drawn: a row that draws on one the graph holds closed
        must reopen it (status ACTIVE)."""
        rows = self.index.db.execute("SELECT id, line FROM drawn_keeping_status")
        for chunk in chunks(rows, BATCH):
            lines = dict(chunk)
            [closed] = self.session.execute_read(
                fetch, GRAPH_CLOSED_FACILITIES, {"ids": list(lines)}
            )
            for facility in closed["ids"]:
                self.problems.add(
                    "facilities.csv", lines[facility], "drawn",
                    "the graph holds this facility closed: a closed facility has nothing drawn "
                    "(status ACTIVE reopens it)",
                )  # fmt: skip

    def _check_product_departments(self) -> None:
        """A department the import makes other than a product department offers no product the
        graph has it offer, unless the import moves that product to another department."""
        departments = self.index.db.execute(
            "SELECT id, line, extra FROM ids "
            "WHERE kind = 'Department' AND extra NOT IN ('PRODUCT', 'ARCHIVED')"
        )
        for chunk in chunks(departments, BATCH):
            defined = {id_: (line, function) for id_, line, function in chunk}
            records = self.session.execute_read(fetch, GRAPH_OFFERS, {"ids": list(defined)})
            offered: dict[str, list[str]] = defaultdict(list)
            for r in records:
                present, _ = self.index.find(NodeKind.PRODUCT, r["productId"])
                if not present:  # a product row names its department, checked with the row
                    offered[r["id"]].append(r["productId"])
            for id_, products in offered.items():
                line, function = defined[id_]
                self.problems.add(
                    "departments.csv", line, "function",
                    f"the graph has this department offer products {products}: it stays a "
                    f"PRODUCT department, not {function}, unless products.csv moves them",
                )  # fmt: skip

    def _check_redefined_facilities(self) -> None:
        """A facility the import redefines keeps the guarantees the graph holds on it within its
        new limit, and none by its new borrower (guarantees the import restates are checked
        with their own rows)."""
        facilities = self.index.db.execute(
            "SELECT id, line, extra FROM ids WHERE kind = 'Facility'"
        )
        for chunk in chunks(facilities, BATCH):
            defined = {id_: (line, extra) for id_, line, extra in chunk}
            records = self.session.execute_read(fetch, GRAPH_GUARANTEES_ON, {"ids": list(defined)})
            for r in records:
                guarantor, facility = r["guarantorId"], r["id"]
                restated = self.index.db.execute(
                    "SELECT 1 FROM seen WHERE file = 'guarantees.csv' AND key = ?",
                    (_link_key((guarantor, facility)),),  # guarantees.csv's identity
                ).fetchone()
                if restated is not None:
                    continue
                line, extra = defined[facility]
                borrower, _, limit = (extra or "").partition("\x1f")
                if borrower == guarantor:
                    self.problems.add(
                        "facilities.csv", line, "borrowerId",
                        f"{guarantor!r} guarantees this facility: it cannot borrow it",
                    )  # fmt: skip
                if limit.isdigit() and r["amountCents"] > int(limit):
                    self.problems.add(
                        "facilities.csv", line, "limit",
                        f"is below the {r['amountCents'] / 100:.2f} {guarantor!r} guarantees",
                    )  # fmt: skip

    def _check_primary_managers(self) -> None:
        """After the import every client has at most one primary manager, and every client not
        archived has one (the import's rows replace the graph's for the same pair)."""
        clients = self.index.db.execute(
            "SELECT id FROM ids WHERE kind = 'Client' UNION SELECT client FROM manages"
        )
        [inactive] = self.session.execute_read(fetch, INACTIVE_MANAGERS, {})
        self._inactive = set(inactive["ids"])
        for chunk in chunks((c[0] for c in clients), BATCH):
            records = self.session.execute_read(fetch, GRAPH_PRIMARIES, {"ids": chunk})
            in_graph = {r["id"]: (set(r["primaries"]), r["status"]) for r in records if r["known"]}
            for client in chunk:
                primaries, status = in_graph.get(client, (set(), None))
                self._check_primary(client, primaries, status)

    def _check_primary(self, client: str, graph_primaries: set[str], status: str | None) -> None:
        rows = self.index.db.execute(
            "SELECT manager, role, line FROM manages WHERE client = ?", (client,)
        ).fetchall()
        restated = {manager for manager, _, _ in rows}
        primaries = (graph_primaries - restated) | {m for m, role, _ in rows if role == "PRIMARY"}
        if len(primaries) > 1:
            for _, role, line in rows:
                if role == "PRIMARY":
                    self.problems.add(
                        "client_managers.csv",
                        line,
                        "role",
                        f"client {client!r} would have {len(primaries)} primary managers "
                        f"({', '.join(sorted(primaries))}); a client has exactly one "
                        "(transfer ownership with transferClient or demote the other here)",
                    )
            return
        defined = self.index.db.execute(
            "SELECT line, extra FROM ids WHERE kind = 'Client' AND id = ?", (client,)
        ).fetchone()
        if primaries:
            self._check_active_primary(client, primaries.pop(), rows, defined, status)
            return
        if defined is not None:
            line, status = defined
            if status != "ARCHIVED":
                self.problems.add(
                    "clients.csv",
                    line,
                    "id",
                    f"client {client!r} has no primary manager: add a PRIMARY row for it in "
                    "client_managers.csv",
                )
            return
        for _, _, line in rows:
            self.problems.add(
                "client_managers.csv",
                line,
                "role",
                f"client {client!r} would be left without a primary manager",
            )

    def _check_active_primary(
        self, client: str, primary: str, rows: list[Any], defined: Any, graph_status: str | None
    ) -> None:
        """An active client's primary manager is active, as the mutations keep it."""
        status = defined[1] if defined is not None else graph_status
        if status != "ACTIVE" or primary not in self._inactive:
            return
        message = (
            f"manager {primary!r} is not active and cannot be primary manager of active "
            f"client {client!r}"
        )
        named = [line for manager, role, line in rows if manager == primary and role == "PRIMARY"]
        if named:
            self.problems.add("client_managers.csv", named[0], "managerId", message)
        elif defined is not None:
            self.problems.add("clients.csv", defined[0], "status", message)

    def _check_department_tree(self) -> None:
        """Direct links stay a forest; a checker stays independent of whom it checks."""
        if not self._direct and not self._checks:
            return
        records = self.session.execute_read(fetch, GRAPH_DIRECT_LINKS, {})
        parent: dict[str, str] = {r["child"]: r["parent"] for r in records}
        before = dict(parent)
        for child, new_parent, line in self._direct:
            old = parent.get(child)
            if old is not None and old != new_parent:
                self.problems.add(
                    "direct_reports.csv",
                    line,
                    "toId",
                    f"department {child!r} would have two direct parents ({old!r} and "
                    f"{new_parent!r}); move it with moveDepartment instead",
                )
                continue
            parent[child] = new_parent
        cyclic = _on_cycles(parent)
        for child, _, line in self._direct:
            if child in cyclic:
                self.problems.add(
                    "direct_reports.csv",
                    line,
                    "toId",
                    f"would put department {child!r} under itself (a cycle of direct links)",
                )
        for checker, checked, line in self._checks:
            if _dependent(parent, checker, checked):
                self.problems.add(
                    "check_links.csv",
                    line,
                    "fromId",
                    f"{checker!r} is a direct ancestor or descendant of {checked!r}: "
                    "a checking department must be independent of the one it checks",
                )
        if self._direct and not cyclic:
            self._check_depth(before, parent)
            self._check_graph_checks(before, parent)

    def _check_depth(self, before: dict[str, str], parent: dict[str, str]) -> None:
        """At most MAX_DEPTH direct links above any department, as the restructurings keep it:
        a direct link the import adds or moves is refused when a department at or below its
        child would be deeper. Linear in the departments (the tree has no cycle here)."""
        depth: dict[str, int] = {}
        for node in parent:
            climb: list[str] = []
            at: str | None = node
            while at is not None and at not in depth:
                climb.append(at)
                at = parent.get(at)
            known = -1 if at is None else depth[at]
            for below in reversed(climb):  # from the highest found down to `node`
                known += 1
                depth[below] = known
        # Every department on the chain above a too-deep one; each chain is walked up once.
        under_deep: set[str] = set()
        for node, links in depth.items():
            at = node if links > MAX_DEPTH else None
            while at is not None and at not in under_deep:
                under_deep.add(at)
                at = parent.get(at)
        for child, new_parent, line in self._direct:
            if child in under_deep and before.get(child) != new_parent:
                self.problems.add(
                    "direct_reports.csv", line, "toId",
                    f"would put a department at or under {child!r} more than {MAX_DEPTH} direct "
                    "links below its root",
                )  # fmt: skip

    def _check_graph_checks(self, before: dict[str, str], after: dict[str, str]) -> None:
        """New direct links keep the graph's check links independent (those the import
        restates were checked above; those dependent already stay as recorded)."""
        restated = {(a, b) for a, b, _ in self._checks}
        for r in self.session.execute_read(fetch, GRAPH_CHECK_LINKS, {}):
            pair = (r["checker"], r["checked"])
            if pair in restated or _dependent(before, *pair) or not _dependent(after, *pair):
                continue
            moved = set(_ancestors(after, pair[0])) | set(_ancestors(after, pair[1]))
            for child, new_parent, line in self._direct:
                if child in moved and before.get(child) != new_parent:  # rows that change it
                    self.problems.add(
                        "direct_reports.csv",
                        line,
                        "toId",
                        f"would make {pair[0]!r}, which checks {pair[1]!r}, its direct "
                        "ancestor or descendant: a checking department must stay independent",
                    )


def _link_key(values: Iterable[Any]) -> str:
    """How a link's identity (its identity columns' values, in order) is kept in `seen`."""
    return "\x1f".join(str(v) for v in values)


def _on_cycles(parent: dict[str, str]) -> set[str]:
    """The nodes on a cycle of parent links (departments' direct links, managers' reporting
    lines): each walked up once (a long chain checked link by link from every node was
    quadratic: 37 s for 20,000 links)."""
    done: set[str] = set()
    cyclic: set[str] = set()
    for start in parent:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = parent.get(node)
        if node is not None and node in on_path:
            cyclic.update(path[path.index(node) :])
        done.update(path)
    return cyclic


def _dependent(parent: dict[str, str], a: str, b: str) -> bool:
    return a in _ancestors(parent, b) or b in _ancestors(parent, a)


def _ancestors(parent: dict[str, str], start: str | None) -> list[str]:
    """The chain above `start` (itself included), stopping if it ever loops."""
    chain: list[str] = []
    seen: set[str] = set()
    node = start
    while node is not None and node not in seen:
        seen.add(node)
        chain.append(node)
        node = parent.get(node)
    return chain
