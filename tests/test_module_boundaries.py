"""Modules meet at their public names: no module of the package imports a private name (a
leading underscore) of another module, or reaches one through a module or name it imported.
Read with ``ast``, so nothing is imported to check it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "scripts" / "directory247"
#: Known, to be made public by the owners of those modules; strict, so a fix shows here.
KNOWN: dict[str, str] = {}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module(path: Path, root: Path) -> str:
    base = root / "scripts" if (root / "scripts") in path.parents else root
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source(path: Path, node: ast.ImportFrom, root: Path) -> str:
    """The absolute module name an ``import from`` reads from."""
    if not node.level:
        return node.module or ""
    package = _module(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def _ours(module: str) -> bool:
    return module.split(".")[0] in {"directory247", "bench"}


def private_uses(path: Path, root: Path = ROOT) -> list[str]:
    """``"<line>: <what>"`` for each private name of another module that ``path`` uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    imported: set[str] = set()  # local names bound to our modules or to names imported from them
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _ours(source := _source(path, node, root)):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {source} import {alias.name}")
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    found += [f"{node.lineno}: import {alias.name}" for part in alias.name.split(".") if _private(part)]
                    imported.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in imported:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return sorted(found, key=lambda use: int(use.split(":")[0]))


def _files() -> list[object]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(ROOT))
        known = KNOWN.get(name)
        marks = [pytest.mark.xfail(strict=True, reason=known)] if known else []
        files.append(pytest.param(path, id=name, marks=marks))
    return files


@pytest.mark.parametrize("path", _files())
def test_no_module_uses_another_modules_private_names(path: Path) -> None:
    assert private_uses(path) == []


def test_the_check_sees_what_it_must(tmp_path: Path) -> None:
    package = tmp_path / "scripts" / "directory247" / "trust"
    package.mkdir(parents=True)
    sample = package / "sample.py"
    sample.write_text(
        "from . import keys\n"
        "from .keys import _claim, preload_keys\n"
        "from ..errors import SignatureError\n"
        "import directory247.trust._hidden\n"
        "import os\n"
        "keys._parsed_keys.clear()\n"
        "preload_keys.__name__\n"
        "SignatureError._private\n"
        "os._exit\n"
    )
    assert private_uses(sample, tmp_path) == [
        "2: from directory247.trust.keys import _claim",
        "4: import directory247.trust._hidden",
        "6: keys._parsed_keys",
        "8: SignatureError._private",
    ]


#: The size a reader can hold in mind: a module, and a function of the trust package.
MODULE_LINES = 400
TRUST_FUNCTION_LINES = 60


def test_no_module_is_over_its_size() -> None:
    long = {str(path.relative_to(ROOT)): lines for path in sorted(PACKAGE.rglob("*.py"))
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert long == {}


def test_no_function_of_the_trust_package_is_over_its_size() -> None:
    long = []
    for path in sorted((PACKAGE / "trust").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - first + 1 > TRUST_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert long == []


def test_the_package_imports_no_stage_above_its_own() -> None:
    """The stages import downwards only: entry <- trust <- freshness (the root-signed
    reachability records) <- formats <- release <- gate <- site <- demo <- commands."""
    order = {"entry": 1, "trust": 2, "freshness": 3, "formats": 4, "release": 5, "gate": 6, "site": 7,
             "demo": 8, "commands": 9}
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        stage = path.relative_to(PACKAGE).parts[0]
        if stage not in order:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                parts = path.relative_to(PACKAGE).with_suffix("").parts
                base = list(parts[: len(parts) - node.level])
                target = (base + (node.module.split(".") if node.module else []))[:1]
                if target and target[0] in order and order[target[0]] > order[stage]:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {target[0]}")
    assert wrong == []
