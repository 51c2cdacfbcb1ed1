"""The ground knows nothing of what stands on it: ``core`` imports no package of the app, and
``school`` none of ``incidents``, ``curriculum`` or ``insights``. Read from the files' syntax
(every import, also inside a function), not from what happens to be loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "school", "incidents", "curriculum", "insights")
BELOW = {
    "core": set(PACKAGES) - {"core"},
    "school": {"incidents", "curriculum", "insights"},
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upward_imports(root: Path, package: str) -> list[str]:
    banned = BELOW[package]
    return [
        f"{path.relative_to(root).as_posix()}:{line}: {module}"
        for path in sorted((root / package).rglob("*.py"))
        for line, module in imported_packages(path)
        if module.split(".")[0] in banned
    ]


@pytest.mark.parametrize("package", sorted(BELOW))
def test_a_lower_package_imports_none_above_it(package):
    assert upward_imports(ROOT, package) == []


def test_an_import_inside_a_function_counts(tmp_path):
    (tmp_path / "school").mkdir()
    (tmp_path / "school" / "access.py").write_text(
        "def scope():\n    from incidents.intake.models import Report\n    return Report\n",
        encoding="utf-8",
    )
    assert upward_imports(tmp_path, "school") == ["school/access.py:2: incidents.intake.models"]
