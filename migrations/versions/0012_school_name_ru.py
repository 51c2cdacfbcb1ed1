"""schools carry their Russian name next to the Kazakh one: a child finds the school by either
(issue 20: «школа 1» found nothing where the name existed only in Kazakh)

Revision ID: 0012_school_name_ru
Revises: 0011_statistics_keys
Create Date: 2026-12-07 19:50:00

Existing schools keep their one name in ``name``; their Russian name is empty until an
administrator fills it in.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_school_name_ru"
down_revision = "0011_statistics_keys"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_ru", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade():
    # Not in batch mode: SQLite's batch copies the table, and dropping the old one fails on the
    # reports that refer to it; SQLite drops a plain column itself since 3.35.
    op.drop_column("schools", "name_ru")
