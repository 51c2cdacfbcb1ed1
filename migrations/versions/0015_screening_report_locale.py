"""screening names sexual violence and cyberbullying; a report keeps the language the child
wrote in (issue 20)

Revision ID: 0015_screening_report_locale
Revises: 0014_referral_totals
Create Date: 2026-12-07 20:45:00

The screening columns (of cases and of referral rules) are VARCHAR with a CHECK of the allowed
values: the CHECK is replaced by one that also allows the two new values. Reports made before
keep no language (NULL). The downgrade refuses while a case or a rule uses a new value (it
would break the CHECK), and drops the language.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_screening_report_locale"
down_revision = "0014_referral_totals"
branch_labels = None
depends_on = None

OLD = ("bullying", "peer_conflict", "peer_violence", "staff_violence", "home_violence",
       "self_harm", "not_safeguarding")
NEW = ("bullying", "peer_conflict", "peer_violence", "sexual_violence", "cyberbullying",
       "staff_violence", "home_violence", "self_harm", "not_safeguarding")
TABLES = ("cases", "referral_rules")


def _check(values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"screening IN ({listed})"


def _replace_check(values):
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot alter a CHECK, and copying the tables (batch mode) fails on the rows
        # that refer to them: the table's stored definition is rewritten in place, the way
        # SQLite documents for changes that do not touch the stored data
        # (https://sqlite.org/lang_altertable.html#otheralter, the last paragraph).
        for table in TABLES:
            sql = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar()
            old = _check(OLD if values == NEW else NEW)
            assert old in sql, f"{table}: the screening CHECK is not as expected"
            version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
            bind.exec_driver_sql("PRAGMA writable_schema = ON")
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (sql.replace(old, _check(values)), table),
            )
            bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
            bind.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    for table in TABLES:
        name = op.f(f"ck_{table}_screening")
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, _check(values))


def upgrade():
    _replace_check(NEW)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))


def downgrade():
    for table in TABLES:
        used = op.get_bind().execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE screening IN ('sexual_violence', 'cyberbullying')")
        ).scalar()
        if used:
            raise RuntimeError(
                f"{used} rows of {table} use a screening result this version does not know:"
                " change them first."
            )
    _replace_check(OLD)
    # Not in batch mode (see 0012): SQLite drops a plain column itself since 3.35.
    op.drop_column("reports", "locale")
