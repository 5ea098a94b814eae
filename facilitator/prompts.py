"""Reads the dialogue scripts and every spoken sentence from the `prompts/` folder."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class PromptsError(Exception):
    pass


def prompts_dir() -> Path:
    """`prompts/` beside the package (a source checkout or an editable install)."""
    for candidate in (PACKAGE_ROOT / "prompts", Path.cwd() / "prompts"):
        if candidate.is_dir():
            return candidate
    raise PromptsError("the prompts/ folder is missing; reinstall facilitator from its repository")


@lru_cache(maxsize=None)
def load_toml(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if not path.suffix:
        path = prompts_dir() / f"{name_or_path}.toml"
    elif not path.is_absolute() and not path.exists():
        path = prompts_dir() / path
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromptsError(f"prompt file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise PromptsError(f"{path} is not valid TOML: {error}") from None


def common() -> dict:
    return load_toml("common")


def fill(template: str, **names: str) -> str:
    class Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return template.format_map(Keep(names))
