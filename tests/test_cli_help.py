"""The command line explains itself: every command has a description, every option a help text."""

from __future__ import annotations

import argparse

import pytest

from facilitator.cli import build_parser


def _commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub


def test_every_command_has_a_description_and_every_option_a_help():
    parser, sub = _commands()
    helps = {c.dest: c.help for c in sub._choices_actions}
    missing = []
    for name, command in sub.choices.items():
        if not helps.get(name):
            missing.append(f"{name}: no one-line help")
        if not command.description:
            missing.append(f"{name}: no description")
        for action in command._actions:
            if action.option_strings and action.help is None:
                missing.append(f"{name} {action.option_strings[0]}: no help")
            if action.help and ("../" in action.help or "facilitator/" in action.help):
                missing.append(f"{name} {action.option_strings}: help names an internal path")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("argv", [["--version"], ["run", "--help"], ["judge", "--help"]])
def test_version_and_help_exit_cleanly(argv, capsys):
    parser, _ = _commands()
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(argv)
    assert stop.value.code == 0 and capsys.readouterr().out


def test_config_is_accepted_before_and_after_the_command():
    parser, _ = _commands()
    assert parser.parse_args(["--config", "a.toml", "history"]).config == "a.toml"
    assert parser.parse_args(["history", "--config", "b.toml"]).config == "b.toml"
    assert parser.parse_args(["history"]).config is None
