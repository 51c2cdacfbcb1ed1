"""the monthly totals keep, beside each count, the key of the rows it counts (the sum of their
ids), so that a count read from the totals is published as the same rows counted live
(``insights.stats.published_count``, issue 13, finding 8)

Revision ID: 0011_statistics_keys
Revises: 0010_admin_confirmation
Create Date: 2026-12-07 20:10:00

The totals are a cache: the upgrade empties them and forgets which months were refreshed, so
the pages count the reports themselves (slower, never wrong) until the next
``flask --app app insights refresh-stats`` fills them again with their keys. The downgrade drops
the key columns and keeps the totals.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_statistics_keys"
down_revision = "0010_admin_confirmation"
branch_labels = None
depends_on = None



def _count_columns():
    # The count columns of the totals as they stand at this revision (insights.rollup).
    bind = op.get_bind()
    columns = [c["name"] for c in sa.inspect(bind).get_columns("stats_report_months")]
    return [c for c in columns if c not in ("month", "school_id", "region_id")]


def upgrade():
    for table in ("stats_report_months", "stats_region_months", "stats_response_hours",
                  "stats_case_months", "stats_case_region_months", "stats_months"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    names = _count_columns()
    for table in ("stats_report_months", "stats_region_months"):
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.add_column(
                    sa.Column(f"{name}_key", sa.BigInteger(), nullable=False, server_default="0")
                )
    for table in ("stats_case_months", "stats_case_region_months"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("n_key", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade():
    names = [c for c in _count_columns() if c.endswith("_key")]
    for table in ("stats_report_months", "stats_region_months"):
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.drop_column(name)
    for table in ("stats_case_months", "stats_case_region_months"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("n_key")
