"""`facilitator analyze`: a dialogue recorded without the facilitator, reviewed afterwards.

    recording -> who spoke when (voices.py) -> each turn transcribed (the live Transcriber)
      -> what it does and what it answers (pairing.py) -> the judges (as live)
      -> the record (live schema, written as it goes) -> the report, WebVTT, SRT

The speech model and the judge load on threads while the recording is read and the voices
are told apart, so the one model load is hidden behind them. Turns are transcribed in time
order and each is labelled, judged and written before the next, so a record cut short (a
full disk, Ctrl-C) holds whole lines up to there. Bad input is refused before anything is
written (`AnalyzeError`, exit code 2); a recording with one voice only is written and
reported with that note and nothing judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facilitator.config import Config
from facilitator.core import SAMPLE_RATE
from facilitator.recorded.inputs import InputError, Recording, read_enrollments, read_recording
from facilitator.recorded.pairing import DialogueReader
from facilitator.recorded.progress import Progress, Quiet
from facilitator.recorded.writing import AnalysisRecord

ONE_VOICE = ("only one voice was heard in the recording, so the dialogue's roles cannot be "
             "told apart: every turn is given to one partner and nothing is judged")
PAD_S = 0.1              # audio kept either side of a turn for transcription
MIN_WORDS_S = 0.3        # shorter turns are not transcribed
SILENT_PEAK = 0.003      # about -50 dBFS: a recording that never gets louder holds no speech


class AnalyzeError(Exception):
    """The recording cannot be analysed as asked; the message says why and what to do."""


@dataclass
class Request:
    recording: Path
    enroll: dict[str, Path] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    record: Path | None = None


@dataclass
class Outcome:
    record: Path
    duration: float          # of the recording, in seconds
    turns: int
    verdicts: int
    voices: int
    note: str | None


def _who_spoke():
    from facilitator.recorded.voices import who_spoke

    return who_spoke


class OwnThread:
    """The speech model loaded, and then run, on one thread that lives as long as it does.

    A CTranslate2 model made on a thread that has ended (as `Loading` does) decodes 10-30x
    slower when used from another thread (measured: 8-16 s a turn instead of 0.3-0.7 s), so
    the model loads here while the voices are told apart, and every turn is transcribed here."""

    def __init__(self, make: Callable[[], Any]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech-model")
        self._loaded = self._pool.submit(make)
        self._model: Any = None

    def ready(self) -> "OwnThread":
        self._model = self._loaded.result()
        return self

    def set_glossary(self, words: str) -> None:
        self._pool.submit(self._model.set_glossary, words).result()

    def transcribe(self, audio: np.ndarray, context: str = ""):
        return self._pool.submit(self._model.transcribe, audio, context).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _load_transcriber(config: Config, names: dict[str, str]):
    from facilitator.dialogue import Script
    from facilitator.transcribe import load_transcriber

    root = Path(__file__).resolve().parent.parent.parent
    glossary = f"{names['A']}, {names['B']}. {Script.load(config.session.script).glossary}"
    return OwnThread(lambda: load_transcriber(config.transcription, root)), glossary


def _load_judge(config: Config):
    from facilitator.judging import default_judge
    from facilitator.loading import Loading

    return Loading(default_judge, config.judge, name="judge")


def default_record_path(config: Config, session_id: str) -> Path:
    from facilitator.paths import sessions_dir

    return sessions_dir(config.session.data_dir) / f"{session_id}.jsonl"


def _ready(thing: Any) -> Any:
    return thing.ready() if hasattr(thing, "ready") else thing


def analyze(request: Request, config: Config, *, who_spoke: Callable | None = None,
            transcriber: Any = None, judge: Any = None, progress: Progress | None = None) -> Outcome:
    """Analyse the recording and write its record; raises AnalyzeError for bad input.

    `who_spoke`, `transcriber` and `judge` default to the real ones (loaded here); tests
    hand in fakes. Raises the record writer's errors (RecordWriteError, OSError) as they are."""
    from facilitator.record import new_session_id

    progress = progress or Quiet()
    names = {"A": config.session.partner_a, "B": config.session.partner_b, **request.names}
    if request.record is not None and Path(request.record).exists():
        raise AnalyzeError(f"{request.record} already exists: give --record a new file "
                           "(an analysis never writes into an old record)")
    try:
        progress.begin("decode")
        recording = read_recording(request.recording)
        enrolled = read_enrollments(request.enroll) if request.enroll else None
        progress.done("decode")
    except InputError as error:
        raise AnalyzeError(str(error)) from None
    if recording.peak() < SILENT_PEAK:
        raise AnalyzeError(f"no speech found in {request.recording}: it holds only silence "
                           "(give a recording of the dialogue)")
    glossary = ""
    if transcriber is None:       # loads while the voices are told apart
        transcriber, glossary = _load_transcriber(config, names)
    if judge is None:
        judge = _load_judge(config)
    who = _find_voices(recording, enrolled, config, who_spoke or _who_spoke(), progress,
                       request.enroll)
    transcriber = _ready(transcriber)
    if glossary:
        transcriber.set_glossary(glossary)
    judge = _ready(judge)
    session_id = new_session_id()
    path = Path(request.record) if request.record is not None else default_record_path(config, session_id)
    record = AnalysisRecord(path, session_id, names, config.session.script, str(request.recording),
                            who)
    one_voice = who.voices == 1
    note = ONE_VOICE if one_voice else who.note      # e.g. two channels that did not separate them
    try:
        turns, verdicts = _work_through(recording, who, transcriber, judge, record, one_voice,
                                        note, progress)
    except KeyboardInterrupt:          # Ctrl-C, SIGTERM: the record says how far it got
        if record.written:
            record.stopped()
        raise
    finally:
        record.close()
    if record.written == 0:
        raise AnalyzeError(f"no speech found in {request.recording}: no words were heard "
                           "(give a recording of the dialogue)")
    return Outcome(path, recording.duration, turns, verdicts, who.voices, note)


def _find_voices(recording: Recording, enrolled, config: Config, who_spoke: Callable,
                 progress: Progress, samples: dict[str, Path]):
    from facilitator.recorded.voices import VoicesError

    progress.begin("voices")
    try:
        who = who_spoke(recording.audio, enrolled=enrolled, config=config,
                        progress=lambda f: progress.update("voices", f))
    except VoicesError as error:        # a voice model missing, an unusable voice sample
        given = ", ".join(f"--enroll {label}={path}" for label, path in sorted(samples.items()))
        raise AnalyzeError(f"{error}{f' (given: {given})' if given else ''}") from None
    progress.done("voices")
    if who.voices == 0 or not who.turns:
        raise AnalyzeError(f"no speech found in {recording.path}: it holds only silence or "
                           "noise (give a recording of the dialogue)")
    return who


def _work_through(recording: Recording, who, transcriber, judge, record: "AnalysisRecord",
                  one_voice: bool, note: str | None, progress: Progress) -> tuple[int, int]:
    """Transcribe, label, judge and write each turn in time order; (turns, verdicts)."""
    reader = DialogueReader()
    total = sum(t.end - t.start for t in who.turns) or 1.0
    done_s = 0.0
    written_turns = verdicts = 0
    progress.begin("words")
    for index, spoken in enumerate(who.turns):
        done_s += spoken.end - spoken.start
        text = _words(transcriber, recording, spoken.start, spoken.end)
        progress.update("words", done_s / total)
        if not text:
            continue
        following = who.turns[index + 1] if index + 1 < len(who.turns) else None
        read = None if one_voice else reader.read(spoken.speaker, text)
        if written_turns == 0 and note:
            record.begin()
            record.note(spoken.start, note)
        record.turn(spoken, text, read, _end_reason(spoken, following))
        written_turns += 1
        for judgement in read.judgements if read else []:
            verdict = judge.judge(judgement.kind, judgement.context, judgement.reply)
            record.verdict(spoken.end, verdict, read, judgement.attempt)
            verdicts += 1
    progress.done("words")
    if written_turns:
        record.end(recording.duration)
    return written_turns, verdicts


def _words(transcriber, recording: Recording, start: float, end: float) -> str:
    """The turn's words, with the glossary alone as the decoder's prompt: the Sender's words
    are never given as the prompt of a reply, or a partial mirror could be heard as whole."""
    if end - start < MIN_WORDS_S:
        return ""
    first = max(0, int((start - PAD_S) * SAMPLE_RATE))
    last = min(recording.audio.shape[0], int((end + PAD_S) * SAMPLE_RATE))
    return transcriber.transcribe(np.ascontiguousarray(recording.mono(first, last))).text.strip()


def _end_reason(spoken, following) -> str:
    if following is None:
        return "input_end"
    if following.speaker != spoken.speaker and following.start - spoken.end < 0.3:
        return "handover"
    return "silence"
