"""What control between two clients is, as a Cypher predicate on one `CONTROLS` link: the one
definition groups, exposure, unified limits and a client's links all read."""

from __future__ import annotations

from typing import Final, LiteralString


# A direct control link, bound to `{v}`: more than 50% of the shares, or control stated on another
# basis.
def _direct(v: LiteralString) -> LiteralString:
    return v + ".share > 50 OR " + v + ".basis <> 'EQUITY'"


# A control link, bound to `{v}` (`u` in CONTROL): direct control, or a minority stake of A in T
# that control adds up to. Y is A or a direct controller of A; what Y holds in T is its own
# equity stake plus the equity stakes of the clients it controls directly; more than 50% and
# the link counts. Aggregates cannot run inside a list predicate, hence `reduce` over a COLLECT;
# the names are prefixed `ctl_` so they cannot meet a caller's. CASE, unlike OR, is sure to read
# the minority part only for minority links (few). The stakes are added up as whole millionths
# of a percent: floats added in the COLLECT's (unfixed) order made 17.6 + 0.2 + 16.1 + 16.1,
# exactly 50 and so not control, come to more than 50.
def _adds_up(holders: LiteralString) -> LiteralString:
    """Whether one of `holders` (a list of clients, `ctl_a` bound to the link's holder and `ctl_t`
    to its target) holds more than 50% of `ctl_t` with the clients it controls directly."""
    return (
        "\n  any(ctl_y IN "
        + holders
        + """
      WHERE reduce(ctl_s = 0, ctl_x IN COLLECT {
              MATCH (ctl_z:Client)-[ctl_h:CONTROLS {basis: 'EQUITY'}]->(ctl_t)
              WHERE ctl_z = ctl_y OR EXISTS { (ctl_y)-[ctl_j:CONTROLS]->(ctl_z) WHERE """
        + _direct("ctl_j")
        + """ }
              RETURN toInteger(round(ctl_h.share * 1000000)) } | ctl_s + ctl_x) > 50000000)))
  END)"""
    )


# The link's holder and its direct controllers.
_HOLDER_AND_ITS_CONTROLLERS: Final[LiteralString] = (
    "[ctl_a] + COLLECT { MATCH (ctl_p:Client)-[ctl_k:CONTROLS]->(ctl_a)\n"
    "                                   WHERE " + _direct("ctl_k") + " RETURN ctl_p }"
)


def _link(v: LiteralString, holders: LiteralString) -> LiteralString:
    return (
        "(CASE WHEN " + _direct(v) + " THEN true ELSE all(ctl_a IN [startNode(" + v + ")] "
        "WHERE all(ctl_t IN [endNode(" + v + ")] WHERE" + _adds_up(holders)
    )


def control(v: LiteralString) -> LiteralString:
    return _link(v, _HOLDER_AND_ITS_CONTROLLERS)


CONTROL: Final[LiteralString] = control("u")
# The link's holder itself controls its target, directly or with the stakes of the clients it
# controls directly (where CONTROL also counts a subsidiary's stake its parent adds up to
# control with): whom a client's links name parent and subsidiary.
HOLDER_CONTROLS: Final[LiteralString] = _link("u", "[ctl_a]")
