import pytest

from facilitator.config import Config, ConfigError, from_dict, load


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load()
    assert isinstance(config, Config)
    assert config.turns.frame_ms == 30


def test_repository_config_is_valid():
    from pathlib import Path

    config = load(Path(__file__).resolve().parent.parent / "config.toml")
    assert config.transcription.model == "default"


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="unknown key 'pause_sec' in \\[turns\\]"):
        from_dict({"turns": {"pause_sec": 1}})


def test_unknown_section_is_named():
    with pytest.raises(ConfigError, match="unknown section \\[turn\\]"):
        from_dict({"turn": {}})


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match="\\[turns\\] complete_end_s should be float"):
        from_dict({"turns": {"complete_end_s": "long"}})


def test_int_accepted_for_float_and_range_checked():
    assert from_dict({"turns": {"complete_end_s": 2, "incomplete_end_s": 3}}).turns.complete_end_s == 2.0
    with pytest.raises(ConfigError, match="frame_ms"):
        from_dict({"turns": {"frame_ms": 25}})


def test_corrupt_toml_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[turns\npause_ms = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path)


def test_cli_reports_bad_config(tmp_path, capsys):
    from facilitator.cli import main

    path = tmp_path / "config.toml"
    path.write_text("[speech]\nengine = 'festival'\n")
    with pytest.raises(SystemExit) as stop:
        main(["--config", str(path), "run", "--input", "nothing.wav"])
    assert stop.value.code == 2
    assert "[speech] engine" in capsys.readouterr().err
