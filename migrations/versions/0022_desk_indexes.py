"""indexes of the duty desk at national scale (issue 16): the reports nobody has answered yet
(ix_reports_unanswered: the escalation runner's candidates, every minute) and the reports the desk
holds (ix_reports_desk_held: its inbox by region, and the schools' pages that leave out what the
desk holds alone). Partial on both databases; the included columns on PostgreSQL only.

Revision ID: 0022_desk_indexes
Revises: 0021_routing_rules
Create Date: 2026-12-08 00:20:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0022_desk_indexes"
down_revision = "0021_routing_rules"
branch_labels = None
depends_on = None

UNANSWERED = sa.text("first_response_at IS NULL")
HELD = sa.text("routing <> 'school'")


def upgrade():
    op.create_index(
        "ix_reports_unanswered",
        "reports",
        ["created_at", "id"],
        postgresql_include=["priority", "routing"],
        postgresql_where=UNANSWERED,
        sqlite_where=UNANSWERED,
    )
    op.create_index(
        "ix_reports_desk_held",
        "reports",
        ["routing", "school_id", "id"],
        postgresql_include=["priority", "first_response_at", "created_at"],
        postgresql_where=HELD,
        sqlite_where=HELD,
    )


def downgrade():
    op.drop_index("ix_reports_desk_held", table_name="reports")
    op.drop_index("ix_reports_unanswered", table_name="reports")
