"""Constraints and indexes, created by an idempotent migration that `make run` and the tests run."""

from __future__ import annotations

from typing import Final, LiteralString

from neo4j import Driver

from graph.grading import seed_grading
from graph.key_accounts import seed_key_accounts
from graph.models import decimal_to_cents
from graph.risk_settings import DEFAULT_BASE, SETTINGS_ID, rate_columns

LABELS: Final = ("Client", "Manager", "Department", "Product", "Facility")

STATEMENTS: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT client_id IF NOT EXISTS FOR (n:Client) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT manager_id IF NOT EXISTS FOR (n:Manager) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT department_id IF NOT EXISTS FOR (n:Department) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT product_id IF NOT EXISTS FOR (n:Product) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT facility_id IF NOT EXISTS FOR (n:Facility) REQUIRE n.id IS UNIQUE",
    "CREATE TEXT INDEX client_name_text IF NOT EXISTS FOR (n:Client) ON (n.name)",
    "CREATE INDEX client_kind IF NOT EXISTS FOR (n:Client) ON (n.kind)",
    "CREATE INDEX client_grade IF NOT EXISTS FOR (n:Client) ON (n.grade)",
    "CREATE INDEX client_status IF NOT EXISTS FOR (n:Client) ON (n.status)",
    "CREATE TEXT INDEX manager_name_text IF NOT EXISTS FOR (n:Manager) ON (n.name)",
    "CREATE INDEX manager_level IF NOT EXISTS FOR (n:Manager) ON (n.level)",
    "CREATE TEXT INDEX department_name_text IF NOT EXISTS FOR (n:Department) ON (n.name)",
    "CREATE INDEX product_category IF NOT EXISTS FOR (n:Product) ON (n.category)",
    "CREATE INDEX facility_type IF NOT EXISTS FOR (n:Facility) ON (n.type)",
    "CREATE INDEX manages_role IF NOT EXISTS FOR ()-[r:MANAGES]-() ON (r.role)",
    "CREATE CONSTRAINT risk_settings_id IF NOT EXISTS FOR (n:RiskSettings) REQUIRE n.id IS UNIQUE",
    # Restructuring serialises on one lock node; unique, so even its first MERGE cannot race.
    "CREATE CONSTRAINT org_lock_id IF NOT EXISTS FOR (n:OrgLock) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT audit_record_id IF NOT EXISTS FOR (n:AuditRecord) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX org_link_period IF NOT EXISTS FOR (n:OrgLinkPeriod) ON (n.fromId, n.toId)",
    # The managers' system (grading data, key-account plans, pipeline, interactions).
    "CREATE CONSTRAINT grading_scheme_id IF NOT EXISTS FOR (n:GradingScheme) "
    "REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT grade_id IF NOT EXISTS FOR (n:Grade) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT grade_requirement_id IF NOT EXISTS FOR (n:GradeRequirement) "
    "REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT grade_change_id IF NOT EXISTS FOR (n:GradeChange) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT key_account_settings_id IF NOT EXISTS FOR (n:KeyAccountSettings) "
    "REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT management_plan_grade IF NOT EXISTS FOR (n:ManagementPlan) "
    "REQUIRE n.grade IS UNIQUE",
    "CREATE CONSTRAINT pipeline_move_id IF NOT EXISTS FOR (n:PipelineMove) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT interaction_id IF NOT EXISTS FOR (n:Interaction) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX interaction_at IF NOT EXISTS FOR (n:Interaction) ON (n.at)",
)

AWAIT_INDEXES: Final = "CALL db.awaitIndexes(300)"

# Moves to ACTIVE recorded before wins were credited (WON_BY): credited to the client's primary
# manager now, the best the graph still knows. Idempotent: only moves without a WON_BY.
CREDIT_EARLIER_WINS: Final[LiteralString] = """
MATCH (move:PipelineMove {toStage: 'ACTIVE'})-[:OF]->(c:Client)
WHERE NOT EXISTS { (move)-[:WON_BY]->() }
MATCH (m:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c)
CREATE (move)-[:WON_BY]->(m)
"""

# The capital base starts at the defaults of graph.risk_settings until an admin changes it.
DEFAULT_RISK_SETTINGS: Final[LiteralString] = """
MERGE (s:RiskSettings {id: $id})
ON CREATE SET s.profile = $profile, s.tier1CapitalCents = $tier1, s.netCapitalCents = $net,
              s.updatedAt = datetime(), s.updatedBy = 'migration'
// Settings saved before currencies were kept: CNY, and the placeholder rates.
SET s.currency = coalesce(s.currency, $currency),
    s.fxCurrencies = coalesce(s.fxCurrencies, $fxCurrencies),
    s.fxRates = CASE WHEN s.fxRates IS NULL THEN $fxRates ELSE s.fxRates END
"""


def migrate(driver: Driver, database: str) -> None:
    """Create what is missing; existing constraints and indexes are left as they are."""
    for statement in STATEMENTS:
        driver.execute_query(statement, database_=database)
    driver.execute_query(AWAIT_INDEXES, database_=database)
    base = DEFAULT_BASE
    driver.execute_query(
        DEFAULT_RISK_SETTINGS,
        {
            "id": SETTINGS_ID,
            "profile": base.profile.value,
            "tier1": decimal_to_cents(base.tier1_capital),
            "net": decimal_to_cents(base.net_capital),
            "currency": base.currency,
            **rate_columns(base.fx_rates),
        },
        database_=database,
    )
    seed_grading(driver, database)
    seed_key_accounts(driver, database)
    driver.execute_query(CREDIT_EARLIER_WINS, database_=database)
