"""routing rules in a table, edited by a platform administrator and seeded from the shipped
default (incidents/desk/data/routing_rules.csv), and the first deploy's escalation cut-off: the
chain takes up only the reports received from now on (issue 16)

Revision ID: 0021_routing_rules
Revises: 0020_open_cases_index
Create Date: 2026-12-08 00:20:00
"""

import csv
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_routing_rules"
down_revision = "0020_open_cases_index"
branch_labels = None
depends_on = None

SHIPPED = Path(__file__).resolve().parents[2] / "incidents" / "desk" / "data" / "routing_rules.csv"
PERPETRATORS = "'students', 'school_staff', 'family', 'other_adult', 'unknown'"
PRIORITIES = "'critical', 'high', 'normal', 'low'"


def upgrade():
    rules = op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("perpetrator", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.String(length=32), nullable=True),
        sa.Column("holder", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            f"perpetrator IN ({PERPETRATORS})", name=op.f("ck_routing_rules_perpetrator")
        ),
        sa.CheckConstraint(f"priority IN ({PRIORITIES})", name=op.f("ck_routing_rules_priority")),
        sa.CheckConstraint(
            "holder IN ('school', 'desk', 'both')", name=op.f("ck_routing_rules_holder")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
        sa.UniqueConstraint("key", name=op.f("uq_routing_rules_key")),
        sa.UniqueConstraint("position", name=op.f("uq_routing_rules_position")),
    )
    with SHIPPED.open(encoding="utf-8") as handle:
        rows = [
            {
                "position": n,
                "key": row["key"],
                "perpetrator": row["perpetrator"] or None,
                "priority": row["priority"] or None,
                "holder": row["holder"],
            }
            for n, row in enumerate(csv.DictReader(handle), start=1)
        ]
    op.bulk_insert(rules, rows)
    cutoff = op.create_table(
        "escalation_cutoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_escalation_cutoff_single")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_cutoff")),
    )
    op.bulk_insert(cutoff, [{"id": 1, "since": datetime.now(UTC)}])


def downgrade():
    op.drop_table("escalation_cutoff")
    op.drop_table("routing_rules")
