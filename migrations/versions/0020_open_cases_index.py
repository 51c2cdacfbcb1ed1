"""an index of the open cases per school (ix_cases_open_school): the caseload of the programme
evidence page reads the open cases from it, not from a scan of every case (issues 17 and 19)

Revision ID: 0020_open_cases_index
Revises: 0019_case_duties
Create Date: 2026-12-07 23:30:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020_open_cases_index"
down_revision = "0019_case_duties"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_cases_open_school",
        "cases",
        ["school_id", "id"],
        postgresql_where=sa.text("state <> 'closed'"),
        sqlite_where=sa.text("state <> 'closed'"),
    )


def downgrade():
    op.drop_index("ix_cases_open_school", table_name="cases")
