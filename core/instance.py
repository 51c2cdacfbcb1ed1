"""Secrets generated once into the instance folder (the receipt pepper, the audit chain's key)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_secret(instance: Path, name: str) -> bytes:
    """The secret in ``instance/name``, generated on first use (safe for workers starting
    together: written aside, then linked into place only if nobody was first)."""
    path = instance / name
    if not path.exists():
        tmp = instance / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker was first: its secret is the one
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()
