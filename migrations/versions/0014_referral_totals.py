"""referral totals by month and kind of body (stats_referral_months,
stats_referral_region_months): the national dashboard reads referrals from the monthly totals
like the rest, not from a scan of a year of live referrals (issue 19)

Revision ID: 0014_referral_totals
Revises: 0013_classroom_students
Create Date: 2026-12-07 20:45:00

The months already refreshed have no referral totals yet: their marks are removed, so that
every figure is counted live until the next ``flask insights refresh-stats`` (slower, never
wrong).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_referral_totals"
down_revision = "0013_classroom_students"
branch_labels = None
depends_on = None

MEASURES = ("referrals", "sent", "on_time", "due")


def _measures():
    return [
        *(sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES),
        *(sa.Column(f"{name}_key", sa.BigInteger(), nullable=False) for name in MEASURES),
    ]


def upgrade():
    op.create_table(
        "stats_referral_region_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("body_kind", sa.String(length=32), nullable=False),
        *_measures(),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_stats_referral_region_months_region_id_regions"),
        ),
        sa.PrimaryKeyConstraint(
            "month", "region_id", "body_kind", name=op.f("pk_stats_referral_region_months")
        ),
    )
    op.create_table(
        "stats_referral_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("body_kind", sa.String(length=32), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        *_measures(),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_stats_referral_months_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_stats_referral_months_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "month", "school_id", "body_kind", name=op.f("pk_stats_referral_months")
        ),
    )
    with op.batch_alter_table("stats_referral_months", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stats_referral_months_region_month", ["region_id", "month"], unique=False
        )
    op.execute("DELETE FROM stats_months")


def downgrade():
    with op.batch_alter_table("stats_referral_months", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_referral_months_region_month")
    op.drop_table("stats_referral_months")
    op.drop_table("stats_referral_region_months")
