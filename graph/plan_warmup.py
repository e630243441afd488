"""Plans for the key reads, made when the API starts rather than on its first requests.

Neo4j plans a statement the first time it sees its text (and parameter types), then caches the
plan. The key reads are long statements: planning the client page takes 1-3.5 s on a warm
server and more on one just started, against a transaction timeout of 5 s. So the first client
pages after every start of the API's database would be slow, or fail with TIMEOUT. Running each
key read once for an id that matches nothing plans and compiles it, and costs nothing more; on
a server that already has the plans cached it takes a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Final

from graph.client_page import PageArgs, get_client_page
from graph.cross_sell_paths import get_cross_sell_paths
from graph.db import Db
from graph.exposure import get_credit_exposure
from graph.performance import Scope, get_performance
from graph.relationship_graph import RelationKind, get_neighbourhood

NO_SUCH_ID: Final = "rmgraph-plan-warm-up"  # matches no node: the reads find nothing


async def warm_key_plans(db: Db) -> float:
    """Runs each key read once, as the API asks it by default (a manager's variants too, whose
    parameter types differ); returns the seconds it took. `db` should allow planning time."""
    started = time.monotonic()
    kinds = sorted(RelationKind)
    for visible_to in (None, NO_SUCH_ID):
        await get_client_page(db, NO_SUCH_ID, PageArgs(), visible_to)
        await get_neighbourhood(db, NO_SUCH_ID, 2, kinds, 200, visible_to)
    await get_credit_exposure(db, NO_SUCH_ID, 4)
    await get_cross_sell_paths(db, NO_SUCH_ID, 3, 10)
    # A department's performance reads its whole subtree: on the 100,000-client bank the root's,
    # planned on a server just started, took 5.6 s of a 5 s limit (1.4 s once planned).
    today = dt.date.today()
    for scope in Scope:
        await get_performance(db, scope, NO_SUCH_ID, today.replace(day=1), today)
    return time.monotonic() - started
