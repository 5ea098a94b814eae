"""Reads the dialogue scripts and every spoken sentence from the `prompts/` folder.

The folder sits at the top of the repository and is installed as the package data
`facilitator.prompts_data` (see pyproject.toml and setup.py), read through
importlib.resources, so a plain `pip install .` carries it. A source checkout that was
never installed (or an older editable install) falls back to the folder itself.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

PACKAGE = "facilitator.prompts_data"
SOURCE_DIR = Path(__file__).resolve().parent.parent / "prompts"


class PromptsError(Exception):
    pass


def prompts_dir() -> Traversable:
    """The shipped prompt files: the installed package data, else `prompts/` of a checkout."""
    try:
        return resources.files(PACKAGE)
    except ModuleNotFoundError:
        if SOURCE_DIR.is_dir():
            return SOURCE_DIR
    raise PromptsError("the prompt files are missing; reinstall facilitator (pip install .)")


def resource(filename: str) -> Traversable:
    """One shipped prompt file by its file name (e.g. "feedback.toml"), to open or read."""
    return prompts_dir().joinpath(filename)


@lru_cache(maxsize=None)
def load_toml(name_or_path: str) -> dict:
    """A shipped file by name ("common", "feedback.toml"), or any TOML file by its path."""
    path = Path(name_or_path)
    if path.suffix and (path.is_absolute() or path.exists()):
        source: Traversable = path
    else:
        source = resource(name_or_path if path.suffix else f"{name_or_path}.toml")
    try:
        text = source.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        raise PromptsError(f"prompt file not found: {source}") from None
    except OSError as error:
        raise PromptsError(f"cannot read {source}: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PromptsError(f"{source} is not valid TOML: {error}") from None


def common() -> dict:
    return load_toml("common")


def fill(template: str, **names: str) -> str:
    class Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return template.format_map(Keep(names))
