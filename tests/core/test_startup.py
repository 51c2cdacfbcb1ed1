"""Start-up stays cheap (issue 19): importing and creating the app computes no Argon2 hash (one
costs ~150 ms and 64 MiB on every worker boot and every CLI command) and does not load
WeasyPrint (loaded when the first PDF is made)."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import sys
    import argon2._password_hasher as hasher
    import argon2.low_level as low

    hashed = []
    real = low.hash_secret

    def counting(*args, **kwargs):
        hashed.append(1)
        return real(*args, **kwargs)

    hasher.hash_secret = low.hash_secret = counting
    from app import create_app

    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                "INSTANCE_PATH": sys.argv[1]})
    print(len(hashed), "weasyprint" in sys.modules)
    """
)


def test_importing_and_creating_the_app_hashes_nothing_and_loads_no_weasyprint(tmp_path):
    result = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", PROBE, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    hashes, weasyprint = result.stdout.split()[-2:]
    assert hashes == "0", "an Argon2 hash was computed at start-up"
    assert weasyprint == "False", "WeasyPrint was loaded at start-up"


def test_an_unknown_email_still_pays_for_a_hash(app):
    """The dummy hash is made on first use: logging in with an unknown address still verifies
    against a real Argon2 hash (the same time as a known address with a wrong password)."""
    from school import services

    assert services.authenticate("nobody@example.invalid", "a wrong password") is None
    assert services.dummy_hash().startswith("$argon2id$")
    assert services.dummy_hash() == services.dummy_hash()  # made once
