"""the regional child-protection duty desk (issue 16): a desk officer role scoped to a region or
the country, and on each report who holds it (the school, the desk, or both)

Revision ID: 0016_duty_desk
Revises: 0015_screening_report_locale
Create Date: 2026-12-07 20:40:00

Existing reports stay with their school (``routing = 'school'``).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016_duty_desk"
down_revision = "0015_screening_report_locale"
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "school_admin", "counselor", "teacher", "analyst", "partner")
NEW_ROLES = OLD_ROLES + ("desk_officer",)
SCOPE = (
    "(role IN ('school_admin', 'counselor', 'teacher') AND school_id IS NOT NULL"
    " AND body_id IS NULL)"
    " OR (role = 'partner' AND body_id IS NOT NULL AND school_id IS NULL)"
    " OR (role {analyst} AND school_id IS NULL AND body_id IS NULL)"
    " OR (role = 'admin' AND school_id IS NULL AND body_id IS NULL AND region_id IS NULL)"
)
OLD_SCOPE = SCOPE.format(analyst="= 'analyst'")
NEW_SCOPE = SCOPE.format(analyst="IN ('analyst', 'desk_officer')")


def _roles(values):
    return "role IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _user_checks(old_roles, old_scope, roles, scope):
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot change a CHECK in place, and batch mode's copy of ``users`` would drop
        # the old table, deleting in cascade the rows that refer to it (recovery codes). The
        # CHECKs are rewritten in the stored schema instead, as SQLite's documentation describes
        # for changes ALTER TABLE cannot make ("Making Other Kinds Of Table Schema Changes").
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        ).scalar()
        new_sql = sql.replace(_roles(old_roles), _roles(roles)).replace(old_scope, scope)
        if new_sql.count(_roles(roles)) != 1 or new_sql.count(scope) != 1:
            raise RuntimeError("users: the CHECK constraints are not those of the migrations")
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'", (new_sql,)
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.drop_constraint(op.f("ck_users_scope_matches_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", sa.text(_roles(roles)))
    op.create_check_constraint(op.f("ck_users_scope_matches_role"), "users", sa.text(scope))


ROUTING = "routing IN ('school', 'desk', 'both')"


def upgrade():
    # Not in batch mode: SQLite's batch copies the table, and dropping the old one would delete
    # in cascade the messages, files and forms that refer to the reports.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE reports ADD COLUMN routing VARCHAR(32) DEFAULT 'school' NOT NULL"
            f" CONSTRAINT ck_reports_routing CHECK ({ROUTING})"
        )
    else:
        op.add_column(
            "reports",
            sa.Column("routing", sa.String(length=32), server_default="school", nullable=False),
        )
        op.create_check_constraint(op.f("ck_reports_routing"), "reports", sa.text(ROUTING))
    op.create_index("ix_reports_routing", "reports", ["routing"], unique=False)
    _user_checks(OLD_ROLES, OLD_SCOPE, NEW_ROLES, NEW_SCOPE)


def downgrade():
    op.execute("DELETE FROM users WHERE role = 'desk_officer'")
    _user_checks(NEW_ROLES, NEW_SCOPE, OLD_ROLES, OLD_SCOPE)
    op.drop_index("ix_reports_routing", table_name="reports")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_reports_routing"), "reports", type_="check")
    # SQLite drops the column with its own CHECK (since 3.35).
    op.drop_column("reports", "routing")
