"""The apps lean one way: ccop ← grants ← proposals ← activities. No module of an app imports an
app above it: not in a function, not under TYPE_CHECKING, not in a migration, management
command or template tag. A lower app reaches a higher one only through string model references
("proposals.Proposal"), arguments, or the app registry (the home page's panels, ccop.home)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

LAYERS = ("ccop", "grants", "proposals", "activities")
ROOT = Path(settings.BASE_DIR)


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in `source`, a module of
    `package` (dotted), relative imports resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if node.module is None:  # "from . import x": x may be a module of that package
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def upward_imports(app: str, path: Path, source: str) -> list[str]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    rank = LAYERS.index(app)
    problems = []
    for line, module in imported_modules(source, package):
        top = module.split(".")[0]
        if top in LAYERS and LAYERS.index(top) > rank:
            problems.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({app} sits below {top})")
    return problems


def app_modules(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "__pycache__" not in p.parts)


def test_every_app_is_checked():
    assert set(LAYERS) <= {a.split(".")[0] for a in settings.INSTALLED_APPS}
    for app in LAYERS:
        assert any("migrations" in p.parts for p in app_modules(app)), f"{app}: migrations not scanned"


@pytest.mark.parametrize("app", LAYERS)
def test_no_import_runs_up(app):
    problems = []
    for path in app_modules(app):
        problems += upward_imports(app, path, path.read_text(encoding="utf-8"))
    assert not problems, "imports that run up the layers:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from proposals.models import Proposal", True),
        ("import activities.services", True),
        ("def f():\n    from grants import selectors\n", True),
        ("if TYPE_CHECKING:\n    import proposals\n", True),
        ("from ccop.models import CoP", False),
        ("from . import services", False),
        ("from .. import models", False),
        ("x = 'proposals.Proposal'", False),
    ],
)
def test_the_check_finds_an_upward_import(source, found):
    path = ROOT / "ccop" / "management" / "commands" / "example.py"
    assert bool(upward_imports("ccop", path, source)) is found
