"""the number of students on a class's list, as the school records it (issue 17: reports per
100 students and students per counselor come from the school's own records)

Revision ID: 0013_classroom_students
Revises: 0012_school_name_ru
Create Date: 2026-12-07 19:40:00

Nullable: a class whose list the school has not entered counts as unknown, never as zero.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_classroom_students"
down_revision = "0012_school_name_ru"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("classrooms") as batch:
        batch.add_column(sa.Column("students", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_classrooms_students_range"), "students BETWEEN 0 AND 60"
        )


def downgrade():
    with op.batch_alter_table("classrooms") as batch:
        batch.drop_constraint(op.f("ck_classrooms_students_range"), type_="check")
        batch.drop_column("students")
