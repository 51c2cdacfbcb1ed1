"""legal duties as clocks on a case, and the body's answer to a referral (issue 16)

Revision ID: 0019_case_duties
Revises: 0018_escalation
Create Date: 2026-12-07 23:20:00

Referrals sent before this revision have no answer deadline: they are never counted as
unanswered (nobody told the body it had one).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019_case_duties"
down_revision = "0018_escalation"
branch_labels = None
depends_on = None

DISPOSITION = "disposition IN ('accepted', 'declined', 'transferred', 'closed')"


def upgrade():
    op.create_table(
        "case_duties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "met_how",
            sa.Enum(
                "done",
                "referral",
                "not_needed",
                name="duty_met",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("met_note", sa.Text(), nullable=False),
        sa.Column("met_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_duties_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_case_duties_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["met_by_id"], ["users.id"], name=op.f("fk_case_duties_met_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_duties")),
        sa.UniqueConstraint("case_id", "kind", name="uq_case_duties_kind"),
    )
    op.create_index(op.f("ix_case_duties_case_id"), "case_duties", ["case_id"], unique=False)
    op.create_index(
        "ix_case_duties_school_due", "case_duties", ["school_id", "met_at", "due_at"], unique=False
    )
    # Not in batch mode on SQLite: a copy of ``referrals`` would drop the old table.
    op.add_column("referrals", sa.Column("answer_due_at", sa.DateTime(timezone=True)))
    op.add_column("referrals", sa.Column("disposition_at", sa.DateTime(timezone=True)))
    op.add_column("referrals", sa.Column("accepted_at", sa.DateTime(timezone=True)))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE referrals ADD COLUMN disposition VARCHAR(32)"
            f" CONSTRAINT ck_referrals_referral_disposition CHECK ({DISPOSITION})"
        )
    else:
        op.add_column("referrals", sa.Column("disposition", sa.String(length=32)))
        op.create_check_constraint(
            op.f("ck_referrals_referral_disposition"), "referrals", sa.text(DISPOSITION)
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_referrals_referral_disposition"), "referrals", type_="check")
    op.drop_column("referrals", "disposition")
    op.drop_column("referrals", "accepted_at")
    op.drop_column("referrals", "disposition_at")
    op.drop_column("referrals", "answer_due_at")
    op.drop_index("ix_case_duties_school_due", table_name="case_duties")
    op.drop_index(op.f("ix_case_duties_case_id"), table_name="case_duties")
    op.drop_table("case_duties")
