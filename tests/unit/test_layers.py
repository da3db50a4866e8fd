"""The folder a module sits in says what it may import (ARCHITECTURE.md); this keeps it true.

A plain AST walk over src/vidplat, so it needs neither import-linter nor importing the
code. import-linter checks the same layers (and indirect chains) in `.ci/run`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

DOMAIN = "vidplat.domain"
ADAPTERS = "vidplat.adapters"
BOOTSTRAP = "vidplat.bootstrap"
ENTRYPOINTS = "vidplat.entrypoints"


@dataclass(frozen=True, slots=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.rule}"


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


# A rule takes (importing module, imported name) and returns why it is wrong, or None.
Rule = Callable[[str, str], str | None]


def domain_stays_pure(module: str, imported: str) -> str | None:
    if not within(module, DOMAIN):
        return None
    if imported.partition(".")[0] in sys.stdlib_module_names or within(imported, DOMAIN):
        return None
    return "the domain may import only the standard library and vidplat.domain"


def adapters_stay_below_the_composition_root(module: str, imported: str) -> str | None:
    if within(module, ADAPTERS) and (within(imported, ENTRYPOINTS) or within(imported, BOOTSTRAP)):
        return "adapters may not import entrypoints or bootstrap"
    return None


def only_entrypoints_import_entrypoints(module: str, imported: str) -> str | None:
    if within(imported, ENTRYPOINTS) and not within(module, ENTRYPOINTS):
        return "nothing outside vidplat.entrypoints may import it"
    return None


RULES: tuple[Rule, ...] = (
    domain_stays_pure,
    adapters_stay_below_the_composition_root,
    only_entrypoints_import_entrypoints,
)


def imported_names(source: str, module: str, *, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted name) of everything the source imports, wherever it sits."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                # `from vidplat import entrypoints` reaches vidplat.entrypoints: report the full name.
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and _is_dynamic_import(node.func)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def check(module: str, source: str, *, is_package: bool = False, rules: tuple[Rule, ...] = RULES) -> list[Violation]:
    return [
        Violation(module, line, imported, reason)
        for line, imported in imported_names(source, module, is_package=is_package)
        for rule in rules
        if (reason := rule(module, imported)) is not None
    ]


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def package_modules() -> tuple[tuple[str, str, bool], ...]:
    """(module name, source, is_package) for every module under src/vidplat."""
    return tuple(
        (module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted((SRC / "vidplat").rglob("*.py"))
    )


def assert_kept(rule: Rule) -> None:
    found = [
        str(violation)
        for module, source, is_package in package_modules()
        for violation in check(module, source, is_package=is_package, rules=(rule,))
    ]
    assert not found, "\n".join(found)


# --- the real tree ---------------------------------------------------------------------


def test_the_walk_sees_the_domain_package() -> None:
    modules = {module for module, _, _ in package_modules()}
    assert {DOMAIN, f"{DOMAIN}.ports", f"{DOMAIN}.errors"} <= modules


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    assert_kept(domain_stays_pure)


def test_adapters_never_import_entrypoints_or_bootstrap() -> None:
    assert_kept(adapters_stay_below_the_composition_root)


def test_nothing_outside_entrypoints_imports_entrypoints() -> None:
    assert_kept(only_entrypoints_import_entrypoints)


# --- the checker itself: it must report what it is meant to catch ------------------------


def test_checker_reports_a_domain_module_importing_frameworks_and_outer_layers() -> None:
    source = (
        "from __future__ import annotations\n"
        "import sqlalchemy.orm\n"
        "from litestar import Litestar\n"
        "from vidplat.adapters.sql import SqlUnitOfWork\n"
        "from vidplat import settings\n"
        "import importlib\n"
        "importlib.import_module('redis')\n"
    )

    found = {(v.line, v.imported) for v in check("vidplat.domain.videos.model", source)}

    assert found == {
        (2, "sqlalchemy.orm"),
        (3, "litestar.Litestar"),
        (4, "vidplat.adapters.sql.SqlUnitOfWork"),
        (5, "vidplat.settings"),
        (7, "redis"),
    }


def test_checker_accepts_the_standard_library_and_domain_imports_in_the_domain() -> None:
    source = (
        "from __future__ import annotations\n"
        "import uuid\n"
        "from collections.abc import Sequence\n"
        "from typing import TYPE_CHECKING\n"
        "from vidplat.domain.errors import NotFound\n"
        "from vidplat.domain import ports\n"
    )

    assert check("vidplat.domain.videos.model", source) == []


def test_checker_resolves_relative_imports() -> None:
    source = "from ...adapters import sql\nfrom . import model\nfrom .. import errors\n"

    found = [v.imported for v in check("vidplat.domain.videos.use_cases", source)]

    assert found == ["vidplat.adapters.sql"]


def test_checker_reports_adapters_and_bootstrap_importing_entrypoints() -> None:
    adapter = check("vidplat.adapters.saq.jobs", "from vidplat.entrypoints.worker import settings\n")
    root = check("vidplat.bootstrap", "import vidplat.entrypoints.http.app\n")
    upward = check("vidplat.adapters.sql.uow", "from vidplat.bootstrap import build\n")

    assert [v.rule for v in adapter] == [
        "adapters may not import entrypoints or bootstrap",
        "nothing outside vidplat.entrypoints may import it",
    ]
    assert [v.imported for v in root] == ["vidplat.entrypoints.http.app"]
    assert [v.imported for v in upward] == ["vidplat.bootstrap.build"]


def test_checker_lets_entrypoints_import_each_other() -> None:
    source = "from vidplat.entrypoints.http.app import create_app\nfrom vidplat.bootstrap import build\n"

    assert check("vidplat.entrypoints.cli", source) == []
