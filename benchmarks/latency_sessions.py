"""The latency benchmark's scripted sessions, rendered once into WAV files (see latency.py).

Three sessions, each with two kinds of partners' voices:

- "demo":     the lines of prompts/demo_session.toml, as `facilitator demo` plays them.
- "paused":   the same lines; the turns of the send / mirror / summary / validate / empathize
              steps are split at their clauses and spoken with pauses of 0.8, 1.0, 1.2, 1.5 s.
- "finished": FINISHED_LINES: turns that end on a finished thought *without* the step's cue
              (a message, a mirror without "did I get that?", a summary, a validation, an
              empathy line, short answers such as "Yes, exactly."), several holding
              mid-thought pauses ("|"): after "when", "and", "because", between a subject and
              its verb, between two sentences of one message.

- "fluent":   FINISHED_LINES spoken without their "|" pauses: partners who pause only as
              briefly as their voice does between sentences (the facilitator learns each
              partner's pace: facilitator/turn_end/pacing.py).

Partners: "espeak" (espeak-ng "en-us" for A, "en-us+f3" for B, as the demo) or "piper"
("piper:joe+low" for A, "piper:joe+high" for B, facilitator/sim/voices.py).

A pause is the silence between the loud parts of two phrases: each phrase's own padding
(espeak-ng's ~0.35 s, Piper's ~0.15 s) is cut at the phrase's inner edges before the pause
is put in, so that a 1.5 s pause is 1.5 s of silence with either voice (`join_phrases`).
The demo's own "|" (render_lines, 1.0 s plus padding) is left as `facilitator demo` plays it.

`render(...)` writes one WAV per line and a manifest (JSON) per session; `load(...)` reads
them back as the room's lines. Rendering needs espeak-ng or Piper; loading needs neither.
"""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
BLOCK = 160                         # 10 ms
LOUD = 500                          # a 10 ms block louder than this is speech (int16 peak)
SESSIONS = ("demo", "paused", "finished", "fluent")
PARTNERS = {"espeak": {"A": "en-us", "B": "en-us+f3"},
            "piper": {"A": "piper:joe+low", "B": "piper:joe+high"}}
PAUSES = [0.8, 1.0, 1.2, 1.5]
PAUSED_STEPS = ("send", "mirror", "summary", "validate", "empathize")
CLAUSE = re.compile(r"(?<=[,.])\s+|\s+(?=(?:when|because|and|that you) )")
QUICK_LINES = 7                     # --quick: the first 7 lines of demo and paused ...
QUICK_UNTIL_STEP = "empathy_confirm"   # ... and the finished session's first round

# (speaker, step, text): "|" is a pause inside the turn (lengths: PAUSES, in turn).
FINISHED_LINES: list[tuple[str, str, str]] = [
    ("A", "enroll_A", "Today was quiet. I read in the garden for most of the morning, and after "
                      "lunch I called my sister to hear about her new job."),
    ("B", "enroll_B", "My day went by quickly. I drove to the office early, spent the afternoon "
                      "fixing a printer that kept jamming, and picked up groceries on the way home."),
    ("A", "appointment", "Sam, I would like to have a dialogue with you about last Saturday."),
    ("B", "availability", "Sure, I have time for that right now."),
    ("A", "send", "I felt hurt when | you checked your phone during dinner with my parents. | "
                  "I wanted us to enjoy that evening together."),
    ("B", "mirror", "What I hear you saying is that you felt hurt when I checked my phone during "
                    "dinner with your parents, and | you wanted us to enjoy that evening together."),
    ("A", "confirm", "Yes, exactly."),
    ("A", "more", "No, that's all."),
    ("B", "summary", "Let me see if I got it all. You felt hurt when I checked my phone during "
                     "dinner with your parents, and you | wanted us to enjoy that evening together."),
    ("A", "summary_confirm", "Yes, that's right."),
    ("B", "validate", "You make sense, because that dinner mattered to you, and my phone | "
                      "took me away from it."),
    ("B", "empathize", "I imagine you might be feeling hurt, and maybe a little lonely."),
    ("A", "empathy_confirm", "Yes, that's how I feel."),
    ("B", "send", "I feel worried when | the bills are left until the last day, because | then "
                  "I lie awake at night."),
    ("A", "mirror", "What I hear you saying is that you feel worried when the bills are left "
                    "until the last day, because then you | lie awake at night."),
    ("B", "confirm", "Yes, you got it."),
    ("B", "more", "No, nothing else."),
    ("A", "summary", "Let me see if I got it all. | You feel worried when the bills are left "
                     "until the last day, because then you lie awake at night."),
    ("B", "summary_confirm", "Yes, all of it."),
    ("A", "validate", "It makes sense to me, because when | the bills wait until the last day, "
                      "you cannot sleep."),
    ("A", "empathize", "I imagine you might be feeling worried and | maybe tired as well."),
    ("B", "empathy_confirm", "Yes."),
    ("B", "appreciate_sender", "Alex, I appreciate that you listened so closely tonight."),
    ("A", "appreciate_receiver", "Sam, I appreciate that you told me what keeps you up at night."),
]
FINISHED_NAMES = {"A": "Alex", "B": "Sam"}


# -- audio helpers (pure) -------------------------------------------------------------------
def loud_blocks(audio: np.ndarray, threshold: int = LOUD) -> np.ndarray:
    """Indices of the 10 ms blocks of `audio` whose peak is above `threshold`."""
    count = len(audio) // BLOCK
    if count == 0:
        return np.zeros(0, np.int64)
    peaks = np.abs(audio[: count * BLOCK].reshape(count, BLOCK).astype(np.int32)).max(axis=1)
    return np.flatnonzero(peaks > threshold)


def voiced_extent(audio: np.ndarray, threshold: int = LOUD) -> tuple[float, float]:
    """Seconds from the start of a line's audio to its first and last loud 10 ms block
    (a voice's padding of silence is not the partner speaking)."""
    where = loud_blocks(audio, threshold)
    if not where.size:
        return 0.0, 0.0
    return float(where[0] * BLOCK / SAMPLE_RATE), float((where[-1] + 1) * BLOCK / SAMPLE_RATE)


def silent_gaps(audio: np.ndarray, threshold: int = LOUD, least_s: float = 0.5) -> list[float]:
    """The silences of at least `least_s` between loud parts of a line, in seconds."""
    loud = loud_blocks(audio, threshold)
    gaps = np.diff(loud) * BLOCK / SAMPLE_RATE - BLOCK / SAMPLE_RATE
    return [round(float(g), 2) for g in gaps if g >= least_s]


def trim(audio: np.ndarray, start: bool, end: bool, threshold: int = LOUD) -> np.ndarray:
    """`audio` without its quiet padding at the start and/or the end (whole 10 ms blocks)."""
    where = loud_blocks(audio, threshold)
    if not where.size:
        return audio
    lo = int(where[0]) * BLOCK if start else 0
    hi = (int(where[-1]) + 1) * BLOCK if end else len(audio)
    return audio[lo:hi]


def join_phrases(parts: list[np.ndarray], pauses_s: list[float]) -> np.ndarray:
    """One turn from its phrases' audio with exactly `pauses_s[i]` of silence between the
    loud end of phrase i and the loud start of phrase i + 1 (outer padding kept)."""
    pieces: list[np.ndarray] = []
    last = len(parts) - 1
    for i, audio in enumerate(parts):
        pieces.append(trim(audio, start=i > 0, end=i < last))
        if i < last:
            pieces.append(np.zeros(int(round(pauses_s[i] * SAMPLE_RATE)), np.int16))
    return np.concatenate(pieces) if pieces else np.zeros(0, np.int16)


def split_phrases(text: str) -> list[str]:
    """The phrases of a text with "|" pauses."""
    return [p.strip() for p in text.split("|") if p.strip()]


def paused_text(text: str) -> str:
    """A demo line split at its clauses for the paused session ("a, | because b | and c")."""
    phrases = [p.strip() for p in CLAUSE.split(text.replace("|", ",")) if p.strip()]
    return " | ".join(p for p in phrases if p != ",")


def quick_cut(session: str, steps: list[str | None]) -> int:
    """How many lines --quick keeps of a session whose lines are for `steps`."""
    if session not in ("finished", "fluent"):
        return min(QUICK_LINES, len(steps))
    return next((i + 1 for i, step in enumerate(steps) if step == QUICK_UNTIL_STEP), len(steps))


# -- rendering (espeak-ng / Piper) -----------------------------------------------------------
def _script(session: str) -> tuple[dict[str, str], list[tuple[str, str | None, str, bool]]]:
    """(names, [(speaker, step, text, as_demo)]): "|" marks this benchmark's pauses, except in
    a line `as_demo`, whose "|" is the demo's own (rendered as `facilitator demo` renders it)."""
    if session == "finished":
        return dict(FINISHED_NAMES), [(s, step, text, False) for s, step, text in FINISHED_LINES]
    if session == "fluent":
        return dict(FINISHED_NAMES), [(s, step, " ".join(split_phrases(text)), False)
                                      for s, step, text in FINISHED_LINES]
    from facilitator.sim.room import load_demo_lines

    names, lines = load_demo_lines()
    script = []
    for line in lines:
        if line.interrupt:
            raise SystemExit("latency benchmark: the demo's lines have an interrupt now; "
                             "teach benchmarks/latency_sessions.py to render it")
        paused = paused_text(line.text)
        if session == "paused" and line.step in PAUSED_STEPS and len(split_phrases(paused)) > 1:
            script.append((line.speaker, line.step, paused, False))
        else:
            script.append((line.speaker, line.step, line.text, True))
    return names, script


def render(session: str, partners: str, quick: bool, folder: Path) -> Path:
    """Render `session` with `partners`' voices into `folder`; the manifest's path."""
    from facilitator.sim.room import Line, render_lines
    from facilitator.sim.voices import speak_to_array

    voices = dict(PARTNERS[partners])
    names, script = _script(session)
    if quick:
        script = script[:quick_cut(session, [line[1] for line in script])]
    folder.mkdir(parents=True, exist_ok=True)
    entries, count = [], 0
    for i, (speaker, step, text, as_demo) in enumerate(script):
        nominal: list[float] = []
        if as_demo:
            line = Line(speaker, text, step)
            render_lines([line], voices)
            audio = line.audio
        else:
            phrases = split_phrases(text)
            nominal = [PAUSES[(count + k) % len(PAUSES)] for k in range(len(phrases) - 1)]
            count += len(nominal)
            audio = join_phrases([speak_to_array(p, voices[speaker]) for p in phrases], nominal)
        name = f"{session}-{partners}-{i:02d}.wav"
        write_wav(folder / name, audio)
        entries.append({"speaker": speaker, "step": step, "text": text, "wav": name,
                        "pauses": nominal, "gaps": silent_gaps(audio)})
    manifest = folder / f"{session}-{partners}.json"
    manifest.write_text(json.dumps({"session": session, "partners": partners, "names": names,
                                    "voices": voices, "lines": entries}, indent=1))
    return manifest


def load(manifest: Path):
    """(names, lines, manifest data): the room's Lines with their audio read from the WAVs."""
    from facilitator.sim.room import Line

    data = json.loads(Path(manifest).read_text())
    lines = [Line(e["speaker"], e["text"], e["step"], audio=read_wav(Path(manifest).parent / e["wav"]),
                  index=i) for i, e in enumerate(data["lines"])]
    return data["names"], lines, data


def write_wav(path: Path, audio: np.ndarray) -> None:
    """int16 mono `audio` as a 16 kHz WAV (the product's own writer)."""
    from facilitator.core import to_float32
    from facilitator.speakers.audio import save_wav

    save_wav(path, to_float32(np.asarray(audio, np.int16)))


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as handle:
        if handle.getframerate() != SAMPLE_RATE or handle.getnchannels() != 1 or handle.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16 kHz mono int16")
        return np.frombuffer(handle.readframes(handle.getnframes()), np.int16).copy()
