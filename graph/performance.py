"""Performance of a manager, or of a department rolled up along the direct hierarchy, over a
period, in one round trip.

Per manager (their active primary clients): clients, new (增量) and existing (存量), new clients
won in the period (clients that reached ACTIVE through the pipeline while the manager was their
primary manager, whoever manages them now), balances and products per client from
active holdings, complaints opened and closed in the period with the average satisfaction of
those closed, and visits done in the period (all, and those on plan: to clients the manager was
then the primary manager of) against those planned: for each graded client, the days of the
period the manager was its primary manager divided by its plan's visit interval, the fractions
added up and rounded to the nearest visit. A department sums every
manager who is a member of it or of a department below it (`DIRECT_REPORT`, any depth), and
gives the same figures for each of its direct children, summed down each child's subtree.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any, Final, LiteralString

from pydantic import Field

from graph.bank_calendar import day_start, zone_name
from graph.db import Db
from graph.errors import InvalidInput
from graph.models import GraphModel, cents_to_decimal

MAX_PERIOD_DAYS: Final = 3660

# Each scope yields `entries` ({m: a manager, under: the direct child of the department whose
# subtree holds the manager, null for the department's own members}) and `children`.
MANAGER_SCOPE: Final[LiteralString] = """
MATCH (m:Manager {id: $id})
WITH [] AS children, [{m: m, under: null}] AS entries
"""
CHILDREN: Final[LiteralString] = """
COLLECT { MATCH (c:Department)-[:DIRECT_REPORT]->(d) WHERE NOT coalesce(c.archived, false)
          RETURN c {.id, .name} ORDER BY c.id } AS children
"""
DEPARTMENT_SCOPE: Final[LiteralString] = (
    """
MATCH (d:Department {id: $id})
WITH d, """
    + CHILDREN
    + """
OPTIONAL MATCH path = (sub:Department)-[:DIRECT_REPORT*0..32]->(d)
OPTIONAL MATCH (m:Manager)-[:MEMBER_OF]->(sub)
WITH children, m, CASE WHEN length(path) = 0 THEN null ELSE nodes(path)[-2].id END AS under
WITH children,
     collect(DISTINCT CASE WHEN m IS NOT NULL THEN {m: m, under: under} END) AS entries
"""
)
FIGURES: Final[LiteralString] = """
UNWIND entries AS e
WITH children, e.m AS m, e.under AS under
CALL (m) {
  OPTIONAL MATCH (m)-[:MANAGES {role: 'PRIMARY'}]->(c:Client) WHERE c.status = 'ACTIVE'
  WITH c,
       COLLECT { MATCH (c)-[h:HOLDS]->() WHERE h.active
                 RETURN {b: h.balanceCents, consented: coalesce(h.consented, true)} AS x } AS held,
       COLLECT { MATCH (p:ManagementPlan) WHERE p.grade = c.grade RETURN p.visitEveryDays }[0]
         AS every
  RETURN count(c) AS clients,
         count(CASE WHEN c.segment = 'NEW' THEN 1 END) AS newClients,
         count(CASE WHEN c.segment = 'EXISTING' THEN 1 END) AS existingClients,
         sum(reduce(total = 0, x IN held | total + coalesce(x.b, 0))) AS balanceCents,
         // products per client counts only holdings the client consented to (DOMAIN §5)
         sum(size([x IN held WHERE x.consented])) AS holdings
}
// Visits owed: for each graded active client, the days of the period the manager was its primary
// manager (now, or before a transfer: `MANAGED`) divided by its plan's interval, so a client
// transferred mid-period is owed visits by each manager for their own part of it. Fractions, added
// up before rounding (in Python, per manager and per roll-up): rounded client by client, a month
// of February or a client shared mid-month owed nothing.
CALL (m) {
  OPTIONAL MATCH (m)-[r:MANAGES|MANAGED]->(c:Client)
  WHERE r.role = 'PRIMARY' AND c.status = 'ACTIVE' AND c.grade IS NOT NULL
  WITH c, COLLECT { MATCH (p:ManagementPlan) WHERE p.grade = c.grade RETURN p.visitEveryDays }[0]
         AS every,
       CASE WHEN r.since IS NULL OR r.since < date($from) THEN date($from) ELSE r.since END
         AS held,
       CASE WHEN r.until IS NULL OR r.until > date($to) + duration('P1D')
            THEN date($to) + duration('P1D') ELSE r.until END AS released
  WITH every, CASE WHEN released > held THEN duration.inDays(held, released).days ELSE 0 END
         AS days
  RETURN sum(CASE WHEN every IS NULL OR every <= 0 THEN 0.0 ELSE toFloat(days) / every END)
         AS visitsOwed
}
CALL (m) {
  RETURN COUNT { MATCH (move:PipelineMove)-[:WON_BY]->(m)
                 WHERE move.at >= datetime($start) AND move.at < datetime($end) } AS won
}
CALL (m) {
  OPTIONAL MATCH (i:Interaction)-[:BY]->(m)
  WHERE (i.at >= datetime($start) AND i.at < datetime($end))
     OR (i.closedAt >= datetime($start) AND i.closedAt < datetime($end))
  WITH i, i.at >= datetime($start) AND i.at < datetime($end) AS inPeriod,
       i.closedAt >= datetime($start) AND i.closedAt < datetime($end) AS closedInPeriod
  // On plan: to a client the manager was then the primary manager of (the bank's day of the
  // visit in their stint), and graded and active, as visits owed count it.
  RETURN count(CASE WHEN i.kind = 'VISIT' AND inPeriod THEN 1 END) AS visitsDone,
         count(CASE WHEN i.kind = 'VISIT' AND inPeriod AND EXISTS {
                 MATCH (i)-[:WITH]->(c:Client)<-[r:MANAGES|MANAGED]-(m)
                 WHERE r.role = 'PRIMARY' AND c.status = 'ACTIVE' AND c.grade IS NOT NULL
                 WITH r, date(datetime({datetime: i.at, timezone: $tz})) AS day
                 WHERE (r.since IS NULL OR r.since <= day) AND (r.until IS NULL OR r.until > day)
               } THEN 1 END) AS visitsOnPlan,
         count(CASE WHEN i.kind = 'COMPLAINT' AND inPeriod THEN 1 END) AS complaintsOpened,
         count(CASE WHEN i.kind = 'COMPLAINT' AND closedInPeriod THEN 1 END) AS complaintsClosed,
         sum(CASE WHEN i.kind = 'COMPLAINT' AND closedInPeriod THEN i.satisfaction ELSE 0 END)
           AS satisfactionSum
}
RETURN m.id AS managerId, m.name AS name, under, children, clients, newClients,
       existingClients, won, balanceCents, holdings, visitsOwed, visitsDone, visitsOnPlan,
       complaintsOpened, complaintsClosed, satisfactionSum
ORDER BY managerId
"""


class Scope(Enum):
    MANAGER = MANAGER_SCOPE + FIGURES
    DEPARTMENT = DEPARTMENT_SCOPE + FIGURES


class Figures(GraphModel):
    clients: int = 0
    new_clients: int = 0
    existing_clients: int = 0
    won: int = 0
    balance: Decimal = Decimal("0.00")
    holdings: int = 0
    products_per_client: float = 0.0
    visits_planned: int = 0
    visits_done: int = 0
    visits_on_plan: int = 0
    complaints_opened: int = 0
    complaints_closed: int = 0
    average_satisfaction: float | None = None


class ManagerFigures(GraphModel):
    manager_id: str
    name: str
    figures: Figures


class DepartmentFigures(GraphModel):
    department_id: str
    name: str
    figures: Figures


class Performance(GraphModel):
    scope: str  # MANAGER or DEPARTMENT
    id: str
    period_from: dt.date
    period_to: dt.date
    total: Figures
    managers: list[ManagerFigures]
    # A department's direct children, each summed down its own subtree (empty for a manager);
    # with the department's own members they make up the total.
    children: list[DepartmentFigures] = Field(default_factory=list)


def _figures(rows: list[dict[str, Any]]) -> Figures:
    """Sums of the rows; ratios from the sums, so a roll-up is never an average of averages."""
    keys = ("clients", "newClients", "existingClients", "won", "holdings", "visitsDone",
            "visitsOnPlan", "complaintsOpened", "complaintsClosed", "satisfactionSum",
            "balanceCents")  # fmt: skip
    total = {k: sum(int(r[k] or 0) for r in rows) for k in keys}
    owed = sum(float(r["visitsOwed"] or 0.0) for r in rows)
    return Figures(
        clients=total["clients"],
        new_clients=total["newClients"],
        existing_clients=total["existingClients"],
        won=total["won"],
        balance=cents_to_decimal(total["balanceCents"]),
        holdings=total["holdings"],
        products_per_client=round(total["holdings"] / total["clients"], 2)
        if total["clients"]
        else 0.0,
        visits_planned=visits_from(owed),
        visits_done=total["visitsDone"],
        visits_on_plan=total["visitsOnPlan"],
        complaints_opened=total["complaintsOpened"],
        complaints_closed=total["complaintsClosed"],
        average_satisfaction=round(total["satisfactionSum"] / total["complaintsClosed"], 2)
        if total["complaintsClosed"]
        else None,
    )


def visits_from(owed: float) -> int:
    """Visits owed, to the nearest whole visit (a half up). The fractions come from days over
    whole intervals, so a sum a hair off a half is float error, not a real half."""
    return int(Decimal(repr(owed)).quantize(Decimal("0.000001")).to_integral_value(ROUND_HALF_UP))


EARLIEST: Final = dt.date(1900, 1, 1)
LATEST: Final = dt.date(2999, 12, 31)


def check_period(start: dt.date, end: dt.date) -> int:
    if not (start >= EARLIEST and end <= LATEST):
        raise InvalidInput("period", f"must lie between {EARLIEST} and {LATEST}")
    if end < start:
        raise InvalidInput("period", "ends before it starts")
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise InvalidInput("period", f"is longer than {MAX_PERIOD_DAYS} days")
    return days


async def get_performance(
    db: Db, scope: Scope, node_id: str, start: dt.date, end: dt.date
) -> Performance | None:
    check_period(start, end)
    records = await db.read(
        scope.value,
        {
            "id": node_id,
            "from": start.isoformat(),
            "to": end.isoformat(),
            # The period's days are the bank's (graph.bank_calendar), given as UTC instants.
            "start": day_start(start).astimezone(dt.UTC).isoformat(),
            "end": day_start(end + dt.timedelta(days=1)).astimezone(dt.UTC).isoformat(),
            "tz": zone_name(),
        },
    )
    rows = [r.data() for r in records]
    if rows:
        children = rows[0]["children"]
    elif scope is Scope.MANAGER:
        return None
    else:
        found = await db.read(DEPARTMENT_CHILDREN, {"id": node_id})
        if not found:
            return None
        children = found[0]["children"]
    return Performance(
        scope=scope.name,
        id=node_id,
        period_from=start,
        period_to=end,
        total=_figures(rows),
        managers=[
            ManagerFigures(manager_id=r["managerId"], name=r["name"], figures=_figures([r]))
            for r in rows
        ],
        children=[
            DepartmentFigures(
                department_id=c["id"],
                name=c["name"],
                figures=_figures([r for r in rows if r["under"] == c["id"]]),
            )
            for c in children
        ],
    )


# A department without managers anywhere below it: its children, all at zero.
DEPARTMENT_CHILDREN: Final[LiteralString] = "MATCH (d:Department {id: $id}) RETURN " + CHILDREN
