"""The migrations build exactly the models' schema, and run down and up again."""

import subprocess

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from extensions import db


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A database of its own, next to the suite's one."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"{url.database}_mig"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_the_models_and_run_down_and_up(empty_database, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        summary = [
            (change[0], getattr(change[1], "name", None) or str(change[2:4]))
            if isinstance(change, tuple)
            else ("modify", str(change[0][2:4]))
            for change in diff
        ]
        assert summary == [], "models and migrations differ (run `flask db migrate`)"
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_authenticator_secrets_set_before_0005_are_encrypted_and_keep_working(
    empty_database, tmp_path
):
    import pyotp

    from school import security
    from school.models import User

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    secret = pyotp.random_base32()
    with app.app_context():
        upgrade(revision="0004_case_totals")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, full_name, role, password_hash, locale, active,"
                    " session_nonce, created_at, failed_logins, totp_secret, totp_last_step)"
                    " VALUES ('a@platform.kz', 'A', 'admin', 'x', 'kk', true, 'n',"
                    " '2026-01-01 00:00:00', 0, :secret, 0)"
                ),
                {"secret": secret},
            )
        upgrade()
        with db.engine.connect() as connection:
            stored = connection.scalar(text("SELECT totp_secret FROM users"))
        assert secret not in stored  # encrypted at rest
        user = db.session.scalar(db.select(User))
        assert user.totp_secret == secret  # and read back as before
        assert security.check_totp(user.totp_secret, pyotp.TOTP(secret).now(), None)
        db.session.remove()
        downgrade(revision="0004_case_totals")
        with db.engine.connect() as connection:
            assert connection.scalar(text("SELECT totp_secret FROM users")) == secret
        db.engine.dispose()


def test_a_downgrade_asks_first_and_takes_a_backup_before_it_runs(
    empty_database, tmp_path, monkeypatch
):
    """Issue 14, finding 9: `flask db downgrade` dropped the outbox, or every report, unasked."""
    import incidents.intake.receipts
    from core import mail
    from tests import factories
    from tests.incidents.factories import report

    monkeypatch.setattr(
        incidents.intake.receipts, "ARGON2", {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    )
    instance = tmp_path / "instance"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(instance),
        }
    )
    runner = app.test_cli_runner()

    def state() -> tuple:
        with db.engine.connect() as connection:
            return (
                connection.scalar(text("SELECT version_num FROM alembic_version")),
                connection.scalar(text("SELECT count(*) FROM reports")),
                connection.scalar(text("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL")),
            )

    with app.app_context():
        upgrade()
        report(factories.school(), description="Жоғалмауы керек")
        mail.queue_mail("counselor@school.kz", "A new report", "Open Qamqor to read it.")
        db.session.commit()
        before = state()
        assert before[1:] == (1, 1)

        # No answer (no terminal), "no", and the default answer; the default revision is -1.
        for args, answer in [(["base"], None), ([], "n\n"), (["0001_directory"], "\n")]:
            result = runner.invoke(args=["db", "downgrade", *args], input=answer)
            assert result.exit_code != 0, result.output
            assert "1 reports" in result.output and "1 notices not yet sent" in result.output
            assert state() == before  # nothing changed
            assert not (instance / "backups").exists()  # and nothing was written

        result = runner.invoke(args=["db", "downgrade", "--yes"])
        assert result.exit_code == 0, result.output
        [backup] = (instance / "backups").iterdir()
        assert f"backup written to {backup}" in result.output
        # The backup was taken before the downgrade: it holds the report and the unsent notice.
        if db.engine.dialect.name == "sqlite":
            copy = create_engine(f"sqlite:///{backup / 'database.sqlite3'}")
            with copy.connect() as connection:
                assert connection.scalar(text("SELECT count(*) FROM reports")) == 1
                assert connection.scalar(text("SELECT count(*) FROM mail_outbox")) == 1
                assert (
                    connection.scalar(text("SELECT version_num FROM alembic_version")) == before[0]
                )
            copy.dispose()
        else:
            listing = subprocess.run(  # noqa: S603 - a fixed program, our own file
                ["pg_restore", "--list", str(backup / "database.dump")],  # noqa: S607 - pg_restore from PATH, as core.backup runs it
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            assert "TABLE DATA public reports" in listing
            assert "TABLE DATA public mail_outbox" in listing
        with db.engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) != before[0]
        db.session.remove()
        db.engine.dispose()


def test_administrators_made_before_0010_stay_confirmed(empty_database, tmp_path):
    """Issue 15: 0008 confirmed only the counselors; an administrator that exists already must
    not wait for confirmation (and so not lose the right to make and confirm accounts)."""
    from school.models import User

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        upgrade(revision="0009_audit_keyed")
        with db.engine.begin() as connection:
            for email, role in (("a@platform.kz", "admin"), ("t@region.kz", "analyst")):
                connection.execute(
                    text(
                        "INSERT INTO users (email, full_name, role, password_hash, locale,"
                        " active, session_nonce, created_at, must_change_password)"
                        " VALUES (:email, 'A', :role, 'x', 'kk', true, 'n',"
                        " '2026-01-01 00:00:00', false)"
                    ),
                    {"email": email, "role": role},
                )
        upgrade()
        users = {user.email: user for user in db.session.scalars(db.select(User))}
        assert not users["a@platform.kz"].awaits_confirmation
        assert users["a@platform.kz"].case_access_confirmed_at is not None
        assert users["t@region.kz"].case_access_confirmed_at is None  # not a confirmed role
        db.session.remove()
        downgrade(revision="0009_audit_keyed")  # keeps the mark: it means nothing there
        with db.engine.connect() as connection:
            stamp = text("SELECT case_access_confirmed_at FROM users WHERE role = 'admin'")
            assert connection.scalar(stamp) is not None
        db.engine.dispose()


def test_0015_lets_cases_and_rules_use_the_new_screening_results(empty_database, tmp_path):
    """The CHECK of the screening columns is replaced (on SQLite too, where the tables cannot be
    copied); down again, and up, keeps it working."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    insert = (
        "INSERT INTO referral_rules (key, screening, target, within_hours, note, active, updated_at)"
        " VALUES (:key, :screening, 'police', 24, '', true, CURRENT_TIMESTAMP)"
    )
    with app.app_context():
        upgrade(revision="0014_referral_totals")
        with db.engine.begin() as connection, pytest.raises(Exception):  # noqa: B017, PT011
            connection.execute(text(insert), {"key": "a", "screening": "cyberbullying"})
        upgrade()
        downgrade(revision="0014_referral_totals")
        upgrade()
        with db.engine.begin() as connection:
            for n, value in enumerate(("cyberbullying", "sexual_violence")):
                connection.execute(text(insert), {"key": f"k{n}", "screening": value})
            with pytest.raises(Exception):  # noqa: B017, PT011
                connection.execute(text(insert), {"key": "x", "screening": "made_up"})
        db.engine.dispose()


def test_0021_seeds_the_routing_rules_and_sets_the_escalation_cut_off(empty_database, tmp_path):
    """Issue 16: the routing rules start as the shipped default, and escalation starts from the
    migration's time, not from the first report ever received."""
    from datetime import UTC, datetime, timedelta

    from incidents.desk import routing
    from incidents.desk.escalation_models import EscalationCutoff

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        upgrade()
        seeded = db.session.scalars(
            db.select(routing.RoutingRuleRow).order_by(routing.RoutingRuleRow.position)
        )
        assert tuple(row.rule() for row in seeded) == routing.shipped()
        [cutoff] = db.session.scalars(db.select(EscalationCutoff))
        assert abs(cutoff.since - datetime.now(UTC)) < timedelta(minutes=10)
        db.session.remove()
        db.engine.dispose()
