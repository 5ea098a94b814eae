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


# --- one declaration, frozen, no dead keys --------------------------------------------------

import dataclasses  # noqa: E402
import re  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

from facilitator.config import REMOVED, SpeakersConfig  # noqa: E402
from facilitator.speakers.options import SpeakersOptions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "facilitator"
SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Config)}


def test_speaker_settings_are_declared_once():
    assert SpeakersConfig is SpeakersOptions
    assert Config().speakers == SpeakersOptions()


def test_every_section_is_frozen_and_changed_by_copy():
    config = Config()
    for name in SECTIONS:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(getattr(config, name), dataclasses.fields(getattr(config, name))[0].name, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.audio = None  # type: ignore[misc]
    changed = config.with_changes(audio={"channels": 2}, speakers={"method": "gmm"})
    assert (changed.audio.channels, changed.speakers.method) == (2, "gmm")
    assert (config.audio.channels, config.speakers.method) == (1, "auto")
    assert changed.turns is config.turns


def _config_toml() -> dict[str, dict[str, str]]:
    """config.toml's keys per section, the commented-out ones (`# key = value`) included."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in (ROOT / "config.toml").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\[(\w+)\]", line):
            current = sections.setdefault(match[1], {})
        elif current is not None and (match := re.match(r"(#\s*)?(\w+)\s*=", line)):
            current[match[2]] = "commented" if match[1] else "set"
    return sections


def test_config_toml_lists_every_field_and_nothing_else_with_the_defaults():
    listed = _config_toml()
    values = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    assert set(listed) == set(SECTIONS)
    defaults = Config()
    for name in SECTIONS:
        section = getattr(defaults, name)
        fields = [f.name for f in dataclasses.fields(section)]
        assert sorted(listed[name]) == sorted(fields), f"[{name}] in config.toml"
        for key in fields:
            if listed[name][key] == "commented":       # TOML has no "nothing": left out
                assert getattr(section, key) is None, f"[{name}] {key}"
            else:
                assert values[name][key] == getattr(section, key), f"[{name}] {key}"


def _reads(name: str) -> re.Pattern:
    """`.name` not followed by `=` (an assignment), or `getattr(x, "name"`."""
    return re.compile(rf"\.{name}\b(?!\s*=[^=])|getattr\([\w.]+,\s*[\"']{name}[\"']")


def test_every_config_field_is_read_somewhere():
    """A setting nobody reads is a lie in config.toml. (By name: a read of a field of the
    same name elsewhere hides it, so keep names specific.)"""
    own = {PACKAGE / "config.py", PACKAGE / "speakers" / "options.py"}
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))
                       if p not in own)
    unread = [f"[{name}] {f.name}" for name, kind in SECTIONS.items()
              for f in dataclasses.fields(kind) if not _reads(f.name).search(source)]
    unread += [f"section [{name}]" for name in SECTIONS if not _reads(name).search(source)]
    assert not unread, f"config fields nobody reads: {', '.join(unread)}"


def test_the_field_check_would_see_an_unread_field():
    assert _reads("handover_min_s").search("x = options.handover_min_s)")
    assert _reads("wrong_speaker_confidence").search('getattr(options, "wrong_speaker_confidence", 1)')
    assert not _reads("sample_rate").search("self.sample_rate = rate")


@pytest.mark.parametrize("section, key", sorted(REMOVED))
def test_a_removed_key_is_named_and_ignored(section, key, capsys):
    config = from_dict({section: {key: 16000 if key == "sample_rate" else "en"}}, "old.toml")
    assert config == Config()
    err = capsys.readouterr().err
    assert f"old.toml: [{section}] {key} was removed" in err and "ignored" in err


def test_removed_keys_are_not_fields():
    for section, key in REMOVED:
        assert key not in {f.name for f in dataclasses.fields(SECTIONS[section])}


def test_judge_settings():
    config = from_dict({"judge": {"embedding_model": "off", "embedding_threads": 2}})
    assert (config.judge.embedding_model, config.judge.embedding_threads) == ("off", 2)
    with pytest.raises(ConfigError, match="embedding_threads"):
        from_dict({"judge": {"embedding_threads": 0}})


def test_judge_embedding_settings_come_from_the_config_and_the_environment_overrides(
        monkeypatch, capsys):
    from facilitator.config import JudgeConfig
    from facilitator.judging import default_judge, embed

    monkeypatch.delenv(embed.ENV_MODEL, raising=False)
    monkeypatch.delenv(embed.ENV_THREADS, raising=False)
    try:
        judge = default_judge(JudgeConfig(model="structured", embedding_model="off", embedding_threads=3))
        assert judge.embedder is None and "without the paraphrase model" not in capsys.readouterr().err
        assert embed.model_setting() == ("off", "[judge] embedding_model")
        assert embed.threads_setting() == 3
        monkeypatch.setenv(embed.ENV_MODEL, "/elsewhere/model.onnx")
        monkeypatch.setenv(embed.ENV_THREADS, "2")
        assert embed.model_setting() == ("/elsewhere/model.onnx", embed.ENV_MODEL)
        assert embed.threads_setting() == 2
        with pytest.raises(embed.EmbeddingUnavailable, match="FACILITATOR_EMBEDDING_MODEL"):
            embed.model_path()
        monkeypatch.setenv(embed.ENV_THREADS, "many")
        with pytest.raises(embed.EmbeddingUnavailable, match="FACILITATOR_EMBEDDING_THREADS=many"):
            embed.threads_setting()
    finally:
        embed.configure()           # back to the defaults: the next judge loads the model


def test_end_of_turn_settings_are_range_checked():
    assert from_dict({"turns": {"end_model": "words+voice"}}).turns.end_model == "words+voice"
    with pytest.raises(ConfigError, match='end_model must be "fixed" or "words" or "words\\+voice"'):
        from_dict({"turns": {"end_model": "smart"}})
    with pytest.raises(ConfigError, match="least_end_s"):
        from_dict({"turns": {"least_end_s": 3.5, "incomplete_end_s": 2.8}})
    with pytest.raises(ConfigError, match="least_end_s"):
        from_dict({"turns": {"least_end_s": 0}})
    with pytest.raises(ConfigError, match="cue_read_ms"):
        from_dict({"turns": {"cue_read_ms": 200, "cue_end_ms": 100}})


def test_fluent_end_s_is_checked_against_least_end_s():
    with pytest.raises(ConfigError, match="fluent_end_s"):
        from_dict({"turns": {"fluent_end_s": 1.9, "least_end_s": 1.7}})
    with pytest.raises(ConfigError, match="fluent_end_s"):
        from_dict({"turns": {"fluent_end_s": 0}})
    assert from_dict({"turns": {"fluent_end_s": 1.7}}).turns.fluent_end_s == 1.7
