"""Packaging: a built wheel holds the prompts and the judge's data, and works from them.

The wheel is built once per module from a copy of the sources (so the working tree gets no
build/ or egg-info), with no network: `pip wheel --no-deps --no-build-isolation --no-index`
uses the setuptools of this venv (the `test` extra asks for >= 70.1). Then it is unpacked,
which is what installing it does, and imported from another folder: the prompts must come
from the package data (importlib.resources), not from the repository. A few seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from facilitator import prompts
from facilitator.dialogue import Script

ROOT = Path(__file__).resolve().parents[1]
PROMPT_FILES = sorted(p.name for p in (ROOT / "prompts").glob("*.toml"))
SOURCES = ("pyproject.toml", "setup.py", "README.md", "facilitator", "prompts")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools", minversion="70.1")  # builds wheels by itself
    work = tmp_path_factory.mktemp("build")
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    out = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--no-cache-dir", "--quiet", "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=120, cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("facilitator-*.whl")
    return built


@pytest.fixture(scope="module")
def names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_holds_every_prompt_file(names):
    assert PROMPT_FILES, "prompts/*.toml should exist"
    for name in PROMPT_FILES:
        assert f"facilitator/prompts_data/{name}" in names
    assert not [n for n in names if n.startswith("prompts/")], "no top-level prompts package"


def test_wheel_holds_the_judge_data(names):
    assert "facilitator/judging/weights.json" in names
    assert "facilitator/judging/vocab.txt.gz" in names


def test_wheel_holds_every_subpackage(names):
    for init in (ROOT / "facilitator").rglob("__init__.py"):
        assert init.relative_to(ROOT).as_posix() in names


def test_training_code_stays_out_of_the_wheel(names, wheel):
    assert not [n for n in names if "fit_head" in n or "train_judge" in n]
    with zipfile.ZipFile(wheel) as archive:
        head = archive.read("facilitator/judging/head.py").decode()
    assert "def fit" not in head and "numpy" not in head.split('"""', 2)[2]


def test_installed_wheel_reads_its_own_prompts(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = (
        "import facilitator, sys\n"
        f"assert facilitator.__file__.startswith({str(site)!r}), facilitator.__file__\n"
        "from facilitator import prompts\n"
        f"assert str(prompts.prompts_dir()).startswith({str(site)!r}), prompts.prompts_dir()\n"
        "assert prompts.common()['commands']\n"
        "assert prompts.load_toml('feedback.toml')\n"
        "from facilitator.dialogue import Script\n"
        "assert Script.load('intentional_dialogue').steps\n"
        "from facilitator.judging.head import load_heads\n"
        "assert 'mirror_lexical' in load_heads()\n"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60,
                          cwd=elsewhere, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_scripts_load_by_name_or_by_path(tmp_path):
    by_name = Script.load("intentional_dialogue")
    copy = tmp_path / "my_script.toml"
    copy.write_text((ROOT / "prompts" / "intentional_dialogue.toml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    assert Script.load(str(copy)).steps.keys() == by_name.steps.keys()
    with pytest.raises(prompts.PromptsError, match="not found"):
        prompts.load_toml("no_such_script")
    with pytest.raises(prompts.PromptsError, match="not found"):
        prompts.load_toml(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[steps\n", encoding="utf-8")
    with pytest.raises(prompts.PromptsError, match="not valid TOML"):
        prompts.load_toml(str(bad))
