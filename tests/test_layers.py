"""The layers hold: the import contracts in `.importlinter` (the ones `.ci/run` checks with
`lint-imports`), every module of the package placed in a layer, the command-line modules
imported by the command line only, and no module over 400 lines."""

from __future__ import annotations

import configparser
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "facilitator"
CONFIG = ROOT / ".importlinter"
MAX_LINES = 400
CLI_MODULES = {"facilitator.__main__", "facilitator.cli", "facilitator.commands_sim",
               "facilitator.commands_run",
               "facilitator.speakers.cli", "facilitator.judging.cli", "facilitator.review.cli"}


def test_the_import_contracts_hold(capsys):
    code = lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report             # the broken contracts, with the imports that break them
    assert "Contracts: 4 kept, 0 broken." in report


def _top_level_modules() -> set[str]:
    names = {f"facilitator.{path.stem}" for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    names |= {f"facilitator.{path.parent.name}" for path in PACKAGE.glob("*/__init__.py")}
    return names


def test_every_module_of_the_package_is_in_a_layer():
    config = configparser.ConfigParser()
    config.read(CONFIG)
    layers = config["importlinter:contract:layers"]["layers"]
    placed = {name.strip() for line in layers.splitlines() for name in line.replace("|", ":").split(":")
              if name.strip()}
    assert _top_level_modules() - placed == set(), "new modules need a layer in .importlinter"
    assert placed - _top_level_modules() == set()


def test_only_the_command_line_imports_a_command_line_module():
    graph = grimp.build_graph("facilitator", cache_dir=None)
    for module in CLI_MODULES:
        importers = graph.find_modules_that_directly_import(module)
        assert importers <= CLI_MODULES, f"{module} imported by {sorted(importers - CLI_MODULES)}"


def test_no_module_is_over_400_lines():
    long = {str(path.relative_to(ROOT)): n for path in sorted(PACKAGE.rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"split these by meaning (at most {MAX_LINES} lines a module): {long}"
