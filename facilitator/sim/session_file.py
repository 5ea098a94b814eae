"""A simulated session as a file: the partners' names and voices, the room they sit in, their
recorded voice samples, and what they say, in order (`facilitator simulate SESSION.toml`;
the built-in demo's is `prompts/demo_session.toml`).

`load_session(path)` reads and checks the whole file before anything is rendered or a model
loads; `render_session` then renders the text lines with the partners' voices. Every
mistake is a `SessionFileError` whose one-line message names the file, the place in it
("lines[3] (the [[lines]] at line 27)", "[room] reverb") and the fix. Recordings (a line's
or an interrupt's `audio`, the `[enroll]` samples) are paths relative to the file, in any
format PyAV decodes, at any rate, mono or stereo (mixed down).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection

import numpy as np

from facilitator.audio_files import AudioFileError, read_audio
from facilitator.sim.acoustics import DEFAULT_REVERB_S
from facilitator.sim.room import Line, render_lines
from facilitator.sim.voices import PARTNER_VOICES, speak_to_array
from facilitator.speech_engines import SpeechError

LABELS = ("A", "B")
ENROLL_STEPS = ("enroll_A", "enroll_B")
SECTIONS = {"names", "voices", "room", "enroll", "lines"}
LINE_KEYS = {"speaker", "step", "text", "audio", "interrupt"}
INTERRUPT_KEYS = {"speaker", "text", "audio", "at"}
ROOM_KEYS = {"reaction_s", "noise_snr_db", "reverb", "echo", "pause_s", "seed"}
FORMAT_HINT = "see the README's `facilitator simulate` section or examples/simulate.toml"


class SessionFileError(Exception):
    """A session file that cannot be used, worded with where the mistake is and the fix."""


@dataclass(frozen=True)
class RoomSettings:
    reaction_s: float = 0.6              # after the facilitator stops, before a partner starts
    noise_snr_db: float | None = None    # room noise this many dB below the speech; None: none
    reverb_s: float | None = None        # RT60 of the synthetic reverb; None: a dry room
    echo: bool = True                    # the microphone hears the facilitator's prompts
    pause_s: float = 1.0                 # the length of a "|" pause in a text line
    seed: int = 0                        # the room's noise and reverb are drawn from this


@dataclass
class SessionFile:
    path: Path
    names: dict[str, str] = field(default_factory=dict)
    voices: dict[str, str] = field(default_factory=lambda: dict(PARTNER_VOICES))
    room: RoomSettings = field(default_factory=RoomSettings)
    enroll: dict[str, Path] | None = None
    lines: list[Line] = field(default_factory=list)

    def playable(self) -> list[Line]:
        """The lines the room plays: with `[enroll]` recordings, not the enrollment answers."""
        if self.enroll is None:
            return list(self.lines)
        return [line for line in self.lines if line.step not in ENROLL_STEPS]


def load_session(path: str | Path, steps: Collection[str] | None = None) -> SessionFile:
    """The session file at `path`, checked. `steps`: the dialogue script's step names, which
    a line's `step` must be one of (besides enroll_A / enroll_B). Raises SessionFileError."""
    path = Path(path)
    text = _read(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SessionFileError(f"{path} is not valid TOML ({error}); fix that line ({FORMAT_HINT})") from None
    where = _Where(path, text)
    _only(data, SECTIONS, where, "the file", "section")
    session = SessionFile(path)
    session.names = _labelled(data, "names", where, _text)
    session.voices = {**PARTNER_VOICES, **_labelled(data, "voices", where, _text)}
    session.room = _room(data.get("room", {}), where)
    if "enroll" in data:
        enroll = _labelled(data, "enroll", where, _text)
        if set(enroll) != set(LABELS):
            raise SessionFileError(f"{path}: [enroll] needs both partners' recordings (A = \"a.wav\" "
                                   "and B = \"b.wav\"); give both, or leave [enroll] out to have "
                                   "the enroll_A / enroll_B lines answer the enrollment")
        session.enroll = {label: _recording_path(value, where, f"[enroll] {label}")
                          for label, value in enroll.items()}
        for label, file in session.enroll.items():
            _decode(file, where, f"[enroll] {label}")
    raw_lines = data.get("lines")
    if raw_lines is None or raw_lines == []:
        raise SessionFileError(f"{path} has no [[lines]]: add at least one, e.g. [[lines]] "
                               f"speaker = \"A\" text = \"...\" ({FORMAT_HINT})")
    if not isinstance(raw_lines, list) or not all(isinstance(item, dict) for item in raw_lines):
        raise SessionFileError(f"{path}: `lines` must be [[lines]] tables, one per line spoken ({FORMAT_HINT})")
    known_steps = None if steps is None else set(steps) | set(ENROLL_STEPS)
    session.lines = [_line(i, item, where, known_steps) for i, item in enumerate(raw_lines)]
    return session


def render_session(session: SessionFile, lines: list[Line] | None = None) -> list[Line]:
    """`lines` (default: the ones to play) rendered, text lines in the partners' voices. Each
    voice a text line uses is tried first, so an unknown one is named. Raises SessionFileError."""
    lines = session.playable() if lines is None else lines
    used = {line.speaker for line in lines if line.recording is None}
    used |= {line.interrupt["speaker"] for line in lines
             if line.interrupt and line.interrupt.get("recording") is None}
    for label in sorted(used):
        voice = session.voices[label]
        try:
            speak_to_array("Hello.", voice)
        except SpeechError as error:
            raise SessionFileError(f"{session.path}: [voices] {label} = {voice!r} cannot speak "
                                   f"({_one_line(error)}); give an espeak-ng voice such as \"en-us+m7\" "
                                   "(`espeak-ng --voices` lists them) or \"piper:joe\"") from None
    try:
        render_lines(lines, session.voices, session.room.pause_s)
    except SpeechError as error:
        raise SessionFileError(f"{session.path}: a line could not be rendered ({_one_line(error)})") from None
    return lines


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class _Where:
    """Names a place in the file: `lines[3] (the [[lines]] at line 27)`."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.base = path.parent
        self.line_numbers = [n for n, row in enumerate(text.splitlines(), start=1)
                             if re.match(r"\s*\[\[\s*lines\s*\]\]", row)]

    def line(self, index: int, field: str = "") -> str:
        """`lines[3] text (the [[lines]] at line 27)`."""
        at = f" (the [[lines]] at line {self.line_numbers[index]})" if index < len(self.line_numbers) else ""
        return f"lines[{index}]{' ' + field if field else ''}{at}"

    def error(self, place: str, problem: str) -> SessionFileError:
        return SessionFileError(f"{self.path}: {place}: {problem}")


def _read(path: Path) -> str:
    if not path.exists():
        raise SessionFileError(f"session file not found: {path}; give the path of a .toml "
                               f"session file ({FORMAT_HINT})")
    if path.is_dir():
        raise SessionFileError(f"{path} is a folder; give the path of a .toml session file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SessionFileError(f"{path} is not a text file (not UTF-8); a session file is TOML "
                               f"text ({FORMAT_HINT})") from None
    except OSError as error:
        raise SessionFileError(f"cannot read {path}: {error.strerror or error}") from None


def _only(table: dict, allowed: set[str], where: _Where, place: str, kind: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise where.error(place, f"unknown {kind} {unknown[0]!r}; the ones known are "
                                 f"{', '.join(sorted(allowed))} ({FORMAT_HINT})")


def _labelled(data: dict, section: str, where: _Where, check) -> dict[str, Any]:
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise where.error(section, f"must be a [{section}] table with A = ... and B = ...")
    _only(table, set(LABELS), where, f"[{section}]", "partner")
    return {label: check(value, where, f"[{section}] {label}") for label, value in table.items()}


def _text(value: Any, where: _Where, place: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.error(place, f"must be a non-empty text in quotes, not {value!r}")
    return value.strip()


def _number(value: Any, where: _Where, place: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(place, f"must be a number, not {value!r}")
    if not low <= value <= high:
        raise where.error(place, f"{value} is out of range; give a number from {low:g} to {high:g}")
    return float(value)


def _flag(value: Any, where: _Where, place: str) -> bool:
    if not isinstance(value, bool):
        raise where.error(place, f"must be true or false, not {value!r}")
    return value


def _room(table: Any, where: _Where) -> RoomSettings:
    if not isinstance(table, dict):
        raise where.error("room", "must be a [room] table (reaction_s, noise_snr_db, reverb, echo)")
    _only(table, ROOM_KEYS, where, "[room]", "setting")
    settings: dict[str, Any] = {}
    if "reaction_s" in table:
        settings["reaction_s"] = _number(table["reaction_s"], where, "[room] reaction_s", 0, 10)
    if "noise_snr_db" in table:
        settings["noise_snr_db"] = _number(table["noise_snr_db"], where, "[room] noise_snr_db", -10, 80)
    if "reverb" in table:
        reverb = table["reverb"]
        if isinstance(reverb, bool):
            settings["reverb_s"] = DEFAULT_REVERB_S if reverb else None
        else:
            try:
                settings["reverb_s"] = _number(reverb, where, "[room] reverb", 0.05, 3)
            except SessionFileError:
                raise where.error("[room] reverb", f"must be true, false or a reverb time in seconds "
                                                   f"(RT60, 0.05 to 3), not {reverb!r}") from None
    if "echo" in table:
        settings["echo"] = _flag(table["echo"], where, "[room] echo")
    if "pause_s" in table:
        settings["pause_s"] = _number(table["pause_s"], where, "[room] pause_s", 0, 10)
    if "seed" in table:
        if isinstance(table["seed"], bool) or not isinstance(table["seed"], int):
            raise where.error("[room] seed", f"must be a whole number, not {table['seed']!r}")
        settings["seed"] = table["seed"]
    return RoomSettings(**settings)


def _recording_path(value: Any, where: _Where, place: str) -> Path:
    name = _text(value, where, place)
    path = Path(name).expanduser()
    path = path if path.is_absolute() else where.base / path
    if not path.exists():
        raise where.error(place, f"audio file not found: {path} (paths are relative to the "
                                 f"session file's folder, {where.base})")
    return path


def _decode(path: Path, where: _Where, place: str) -> np.ndarray:
    try:
        audio = read_audio(path, "mix", what="recording")
    except AudioFileError as error:
        raise where.error(place, str(error)) from None
    if audio.size == 0 or not np.any(audio):
        raise where.error(place, f"{path} holds no sound; give a recording of the partner speaking")
    return audio


def _speaker(value: Any, where: _Where, place: str) -> str:
    label = value.strip().upper() if isinstance(value, str) else None
    if label not in LABELS:
        raise where.error(place, f"unknown speaker {value!r}; speaker is \"A\" or \"B\"")
    return label


def _said(item: dict, where: _Where, place: Callable[[str], str]) -> tuple[str, np.ndarray | None]:
    """(text, recording) of a line or an interrupt: exactly one of `text` and `audio`.
    `place(field)` names where a field is."""
    has_text, has_audio = "text" in item, "audio" in item
    if has_text == has_audio:
        problem = "has both text and audio" if has_text else "has neither text nor audio"
        raise where.error(place(""), f"{problem}; give exactly one: text = \"...\" (rendered with "
                                     "the partner's voice) or audio = \"file.wav\" (a recording)")
    if has_text:
        return _text(item["text"], where, place("text")), None
    path = _recording_path(item["audio"], where, place("audio"))
    return "", _decode(path, where, place("audio"))


def _line(index: int, item: dict, where: _Where, steps: set[str] | None) -> Line:
    def place(field: str) -> str:
        return where.line(index, field)

    _only(item, LINE_KEYS, where, place(""), "key")
    if "speaker" not in item:
        raise where.error(place(""), "has no speaker; add speaker = \"A\" or speaker = \"B\"")
    speaker = _speaker(item["speaker"], where, place("speaker"))
    step = None
    if "step" in item:
        step = _text(item["step"], where, place("step"))
        if steps is not None and step not in steps:
            raise where.error(place("step"), f"unknown step {step!r}; the dialogue's steps are "
                                             f"{', '.join(sorted(steps))}")
    text, recording = _said(item, where, place)
    interrupt = None
    if "interrupt" in item:
        interrupt = _interrupt(item["interrupt"], speaker, where,
                               lambda field: place(f"interrupt {field}".strip()))
    return Line(speaker, text, step, interrupt=interrupt, recording=recording, index=index)


def _interrupt(value: Any, speaker: str, where: _Where, place: Callable[[str], str]) -> dict:
    if not isinstance(value, dict):
        raise where.error(place(""), "must be a table: interrupt = { speaker = \"B\", text = \"...\", at = 1.0 }")
    _only(value, INTERRUPT_KEYS, where, place(""), "key")
    other = _speaker(value.get("speaker"), where, place("speaker"))
    if other == speaker:
        raise where.error(place("speaker"), f"the interrupt is by the other partner; give "
                                            f"speaker = \"{'B' if speaker == 'A' else 'A'}\"")
    text, recording = _said(value, where, place)
    at = _number(value.get("at", 1.0), where, place("at"), 0, 600)
    return {"speaker": other, "text": text, "recording": recording, "at": at}
