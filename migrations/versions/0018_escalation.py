"""escalation chains (issue 16): each school's ordered contacts and working hours, the steps
taken for a report, and whether a report arrived within its school's working hours

Revision ID: 0018_escalation
Revises: 0017_audit_chains
Create Date: 2026-12-07 23:10:00

Existing reports keep ``arrived_in_hours`` empty (not counted by day or night).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018_escalation"
down_revision = "0017_audit_chains"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("night", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "window_minutes BETWEEN 1 AND 240", name=op.f("ck_school_contacts_window")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_contacts_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_school_contacts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_contacts")),
        sa.UniqueConstraint("school_id", "position", name=op.f("uq_school_contacts_position")),
        sa.UniqueConstraint("school_id", "user_id", name=op.f("uq_school_contacts_person")),
    )
    op.create_index(
        op.f("ix_school_contacts_school_id"), "school_contacts", ["school_id"], unique=False
    )
    op.create_table(
        "school_hours",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.String(length=16), nullable=False),
        sa.Column("opens_minute", sa.Integer(), nullable=False),
        sa.Column("closes_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "opens_minute >= 0 AND opens_minute < closes_minute", name=op.f("ck_school_hours_span")
        ),
        sa.CheckConstraint("closes_minute <= 1440", name=op.f("ck_school_hours_day")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_hours_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_school_hours")),
    )
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("window_minutes", sa.Integer(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_escalation_steps_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_escalation_steps_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"],
            name=op.f("fk_escalation_steps_acknowledged_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_steps")),
        sa.UniqueConstraint("report_id", "step", name=op.f("uq_escalation_steps_step")),
    )
    op.create_index(
        op.f("ix_escalation_steps_report_id"), "escalation_steps", ["report_id"], unique=False
    )
    # Not in batch mode: SQLite's batch copies the table, and dropping the old one would delete
    # in cascade the messages, files and forms that refer to the reports.
    op.execute("ALTER TABLE reports ADD COLUMN arrived_in_hours BOOLEAN")


def downgrade():
    op.drop_column("reports", "arrived_in_hours")
    op.drop_index(op.f("ix_escalation_steps_report_id"), table_name="escalation_steps")
    op.drop_table("escalation_steps")
    op.drop_table("school_hours")
    op.drop_index(op.f("ix_school_contacts_school_id"), table_name="school_contacts")
    op.drop_table("school_contacts")
