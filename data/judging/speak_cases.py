"""Speak the judging cases and transcribe them with the shipped tiny.en pipeline.

Training and benchmark tool (not part of the package). Every unique text of the given case
files (each context turn and each reply) is spoken by a synthetic voice, put in a room,
and heard the way the live loop hears a turn: the room audio (int16, 16 kHz) goes frame by
frame through the shipped `TurnSegmenter` (webrtcvad, config.toml's [turns]) and the
words are read by `Listening` at every pause, stretches of 3 s or more kept as they are
(facilitator/loop/listening.py), with the bundled Whisper tiny.en `Transcriber`
(config.toml's [transcription], one CPU thread a worker) and the live glossary without
names: the intentional_dialogue script's glossary plus the spoken command words. Only the
readings whose words end up in the turn are decoded (a shorter stretch read at a pause is
read again at the next one), so the transcript is the one the live loop would give.

Voice and room are chosen from the text itself (zlib.crc32), so a text always sounds the
same: 40% Piper's joe (plain, +low, +high), the rest one of seven espeak-ng voices
(US and British, male and female); 70% a dry room, 15% pink noise at 20-30 dB SNR, 15%
a light synthetic reverb (RT60 0.25-0.45 s), both from facilitator.sim.acoustics.

Output: JSONL, one line per text, {"text", "voice", "room", "transcript"}. Incremental:
texts already in the output are skipped, lines are appended and flushed as they are done
(stop it any time, run it again to go on); at the end the file is rewritten sorted by
text (tmp file + os.replace). Two runs on one file at once keep each other's lines: every
line is appended, and the file rewritten, under a lock (`<out>.lock`, fcntl), and a line is
appended to the file as it is then, not to a handle opened before another run's rewrite.
Deterministic apart from the order of the lines before that last pass.

    .venv/bin/python data/judging/speak_cases.py                  # every data/judging/*_cases.txt
    nice -n 15 .venv/bin/python data/judging/speak_cases.py --jobs 2
    .venv/bin/python data/judging/speak_cases.py --limit 20 --out /tmp/try.jsonl
    .venv/bin/python data/judging/speak_cases.py ../shared/data/mirroring-dev.jsonl \\
        ../shared/data/steps-dev.jsonl --out ~/.cache/facilitator/benchmarks/shared-transcripts.jsonl

For the training and benchmark scripts: `load_transcripts(path)` -> {text: transcript} and
`as_transcribed(case, transcripts)` -> the case with its context and reply as heard (None
when a part has no transcript).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import json
import os
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from facilitator.judging.cases import read_any  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "transcripts.jsonl"
SCRIPT = "intentional_dialogue"

ESPEAK_VOICES = ("en-us+m3", "en-us+f2", "en-us+m7", "en-us+f4",
                 "en+m1", "en+f3", "en-gb-x-rp+m5")     # ("en-gb+f3" would drop its variant)
PIPER_VOICES = ("piper:joe", "piper:joe+low", "piper:joe+high")
PIPER_SHARE = 40          # percent of the texts spoken by Piper
NOISE_SHARE = 15          # percent in pink noise
REVERB_SHARE = 15         # percent with reverb; the rest are dry
LEAD_S = 0.5              # room before the speech starts (the segmenter's pre-roll)
TAIL_S = 0.7              # and after it ends (more than a pause)


# --- for the training and benchmark scripts -------------------------------------------------

def load_transcripts(path: str | Path) -> dict[str, str]:
    """{text: transcript} from an output file of this script ({} when it does not exist)."""
    path = Path(path).expanduser()
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                found.setdefault(row["text"], row["transcript"])
    return found


def as_transcribed(case: dict, transcripts: dict[str, str]) -> dict | None:
    """The case with its context turns and reply replaced by their transcripts; None when
    any of them was not transcribed."""
    parts = [*case["context"], case["reply"]]
    if any(p not in transcripts for p in parts):
        return None
    return {**case, "context": [transcripts[t] for t in case["context"]],
            "reply": transcripts[case["reply"]]}


# --- what is spoken, by whom, where ---------------------------------------------------------

def case_texts(paths: list[Path]) -> list[str]:
    """Every unique text of the case files (context turns and replies), in first-seen order."""
    seen: dict[str, None] = {}
    for path in paths:
        for case in read_any(path):
            for text in [*case["context"], case["reply"]]:
                if text and text.strip():
                    seen.setdefault(text, None)
    return list(seen)


def _hash(what: str, text: str) -> int:
    return zlib.crc32(f"{what}:{text}".encode("utf-8"))


def choose_voice(text: str) -> str:
    h = _hash("voice", text)
    if h % 100 < PIPER_SHARE:
        return PIPER_VOICES[(h // 100) % len(PIPER_VOICES)]
    return ESPEAK_VOICES[(h // 100) % len(ESPEAK_VOICES)]


def choose_room(text: str) -> str:
    """"clean", "noise:24dB" (pink, that SNR) or "reverb:0.35s" (RT60)."""
    h = _hash("room", text)
    share, step = h % 100, (h // 100) % 1000 / 1000.0
    if share < NOISE_SHARE:
        return f"noise:{20 + 10 * step:.0f}dB"
    if share < NOISE_SHARE + REVERB_SHARE:
        return f"reverb:{0.25 + 0.2 * step:.2f}s"
    return "clean"


def in_room(speech: np.ndarray, room: str, seed: int) -> np.ndarray:
    """The int16 speech as the microphone hears it in `room`, with room before and after."""
    from facilitator.core import SAMPLE_RATE
    from facilitator.sim.acoustics import RoomAcoustics

    reverb_s = float(room[len("reverb:"):-1]) if room.startswith("reverb:") else None
    snr_db = float(room[len("noise:"):-2]) if room.startswith("noise:") else None
    acoustics = RoomAcoustics.for_lines([speech], reverb_s=reverb_s, noise_snr_db=snr_db, seed=seed)
    heard = acoustics.partner(speech)
    audio = np.concatenate([np.zeros(int(LEAD_S * SAMPLE_RATE), np.int16), heard,
                            np.zeros(int(TAIL_S * SAMPLE_RATE), np.int16)])
    noise = acoustics.noise(0, audio.size)
    if noise is None:
        return audio
    return np.clip(np.round(audio.astype(np.float64) + noise), -32768, 32767).astype(np.int16)


# --- hearing it as the live loop does -------------------------------------------------------

@dataclass
class _SoFar:
    """The open turn as `Listening.transcribe_so_far` sees it at a pause."""

    start: float
    speech_end: float
    samples: np.ndarray

    def audio(self) -> np.ndarray:
        return self.samples


class _Needed:
    """Reads a stretch only when its words can end up in the turn: a stretch shorter than
    Listening's commit length is read again at the next pause (its words are replaced),
    so only the last reading of such a stretch is decoded."""

    def __init__(self, model, commit_s: float):
        self.model = model
        self.commit_s = commit_s
        self.last = False

    def transcribe(self, audio: np.ndarray, context: str = ""):
        from facilitator.core import SAMPLE_RATE
        from facilitator.transcribe import Transcript

        if not self.last and len(audio) / SAMPLE_RATE < self.commit_s:
            return Transcript("")
        return self.model.transcribe(audio, context)


def hear(audio: np.ndarray, transcriber, turns_config) -> str:
    """The words of one turn of int16 audio, read at its pauses as the live loop reads them."""
    from facilitator.core import SAMPLE_RATE
    from facilitator.loop.listening import Listening
    from facilitator.turns import Pause, TurnSegmenter

    segmenter = TurnSegmenter(turns_config)
    frame = SAMPLE_RATE * turns_config.frame_ms // 1000
    pauses: list[float] = []
    for i in range(0, audio.size - frame + 1, frame):
        event = segmenter.push(audio[i:i + frame], i / SAMPLE_RATE)
        if isinstance(event, Pause) and event.first:
            pauses.append(event.speech_end)
    turn = segmenter.close_turn()
    if turn is None:
        return ""
    if not pauses or pauses[-1] != turn.speech_end:
        pauses.append(turn.speech_end)       # the reading when the turn ends
    samples = turn.audio()
    needed = _Needed(transcriber, 3.0)
    listening = Listening(needed)
    needed.commit_s = listening.commit_chunk_s
    listening.begin(turn.start)
    for k, speech_end in enumerate(pauses):
        needed.last = k == len(pauses) - 1
        listening.transcribe_so_far(_SoFar(turn.start, speech_end, samples))
    state = listening.close()
    return state.text if state else ""


# --- workers --------------------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker() -> None:
    """One Transcriber a process (one CPU thread), with the live glossary minus names."""
    from facilitator import prompts as prompt_files
    from facilitator.config import load
    from facilitator.dialogue import Script
    from facilitator.transcribe import Transcriber

    config = load(ROOT / "config.toml")
    transcription = dataclasses.replace(config.transcription, cpu_threads=1)
    transcriber = Transcriber(transcription, root=ROOT)
    command_words = prompt_files.common().get("commands", {}).get("glossary", "")
    transcriber.set_glossary(f"{Script.load(SCRIPT).glossary} {command_words}")
    transcriber.warm_up()
    _WORKER.update(transcriber=transcriber, turns=config.turns)


def speak_one(text: str) -> dict:
    """{"text", "voice", "room", "transcript"}, or {"text", "error"} when it cannot be spoken."""
    from facilitator.sim.voices import speak_to_array
    from facilitator.speech_engines import SpeechError

    if not _WORKER:
        _init_worker()
    voice, room = choose_voice(text), choose_room(text)
    try:
        speech = speak_to_array(text, voice)
    except SpeechError as error:
        return {"text": text, "error": str(error)}
    audio = in_room(speech, room, seed=_hash("seed", text))
    transcript = hear(audio, _WORKER["transcriber"], _WORKER["turns"])
    return {"text": text, "voice": voice, "room": room, "transcript": transcript}


@contextlib.contextmanager
def locked(path: Path):
    """Exclusive use of the output `path` among the runs on this machine (`<path>.lock`)."""
    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append_row(path: Path, row: dict) -> None:
    """One line at the end of the output as it is now (another run may have rewritten it)."""
    with locked(path), path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")


def sort_file(path: Path) -> int:
    """Rewrite the output sorted by text, one line a text (atomically); the number of lines."""
    rows: dict[str, dict] = {}
    with locked(path):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    rows.setdefault(row["text"], row)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for text in sorted(rows):
                f.write(json.dumps(rows[text], ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help="case files (.txt or .jsonl); default every data/judging/*_cases.txt")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (one thread each)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many new texts")
    args = parser.parse_args(argv)
    files = args.files or sorted(HERE.glob("*_cases.txt"))
    out = args.out.expanduser()
    texts = case_texts(files)
    done = load_transcripts(out)
    todo = [t for t in texts if t not in done]
    already = len(texts) - len(todo)
    if args.limit:
        todo = todo[:args.limit]
    print(f"{len(texts)} texts in {len(files)} files, {already} already in {out}, "
          f"{len(todo)} to do", file=sys.stderr, flush=True)
    if todo:
        out.parent.mkdir(parents=True, exist_ok=True)
        _run(todo, out, max(1, args.jobs))
    if out.exists():
        print(f"{sort_file(out)} lines in {out}", file=sys.stderr, flush=True)
    return 0


def _run(todo: list[str], out: Path, jobs: int) -> None:
    started = time.monotonic()
    failed = 0
    if jobs == 1:
        results = map(speak_one, todo)
        pool = None
    else:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(jobs, initializer=_init_worker)
        results = pool.imap_unordered(speak_one, todo, chunksize=1)
    try:
        for n, row in enumerate(results, start=1):
            if "error" in row:
                failed += 1
                print(f"not spoken: {row['text'][:60]!r}: {row['error']}", file=sys.stderr)
            else:
                append_row(out, row)
            if n % 50 == 0 or n == len(todo):
                rate = n / max(time.monotonic() - started, 1e-9)
                print(f"{n}/{len(todo)} done, {rate:.2f} texts/s, about "
                      f"{(len(todo) - n) / rate / 60:.0f} min to go", file=sys.stderr, flush=True)
    except BaseException:              # Ctrl-C: what is written stays, the rest is next time
        if pool is not None:
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()
        pool.join()
    if failed:
        print(f"{failed} texts could not be spoken (run again to retry them)", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
