"""Benchmark `facilitator analyze`: who spoke when on real speech, the words, the speed.

Usage:
    .venv/bin/python benchmarks/analyze.py [--models tiny.en,base] [--minutes 10]
                                           [--skip-wer] [--skip-speed] [--json OUT]

1. Who spoke, on pyannote's real two-speaker recording `sample.wav` (30 s of a telephone
   call, with the references `sample.rttm` (who spoke when) and `sample.stm` (the words)),
   shipped inside the pyannote-audio 4.0.7 wheel. The package is never imported nor a
   dependency: the files are read from an installed distribution (its file list, through
   importlib.metadata) or from the wheel in a cache folder (read as a zip). Without
   either, the command that fetches the wheel is printed:
       .venv/bin/pip download --no-deps pyannote-audio==4.0.7 -d ~/.cache/facilitator/benchmarks
   The score is the share of the reference's speech time given to the right speaker
   (10 ms frames), after matching our two labels to the reference's two speakers (the
   matching that gives the most time right). Reference speech with no turn of ours
   counts as wrong (missed). Overlap (both reference speakers at once): the main figure
   leaves it out; the second counts it right when our label is either speaker. Our time
   outside the reference's speech (turns run over pauses and reach 0.2 s into silence)
   is not counted against us; it is printed as "outside reference speech".
2. Words: each turn found is transcribed (as `analyze` does: the live Transcriber with
   the dialogue's glossary as its prompt, the turn with 0.1 s either side) with Whisper tiny.en (the default) and Whisper base
   (`[transcription] model = "base"`); the word error rate of the turns' words in time
   order against the STM's, lower case, punctuation removed (jiwer when installed:
   `.venv/bin/pip install jiwer`, else the same edit distance computed here). The
   reference speaker's turns from the RTTM are transcribed too, to tell what the turn
   finding costs.
3. Speed: a long dialogue of two espeak-ng voices (en-us+m3, en-us+f4) built from varied
   lines with natural gaps (0.2 to 1.5 s) and pauses inside turns, one partner talking
   about two thirds of the time, written as a WAV; then timed, per minute of audio:
   `who_spoke` alone, and the whole `facilitator.recorded.pipeline.analyze` (decoding,
   who spoke, transcription, labelling, judging, record; not the report). The speaker
   accuracy on it is printed as well, and the memory (RSS before `who_spoke`, and its
   peak while it runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

WHEEL = "pyannote_audio-4.0.7-py3-none-any.whl"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "facilitator" / "benchmarks"
FETCH = (f".venv/bin/pip download --no-deps pyannote-audio==4.0.7 -d {CACHE}   "
         "(or: .venv/bin/pip install --no-deps pyannote-audio==4.0.7)")
SAMPLE = ("sample.wav", "sample.rttm", "sample.stm")


# ------------------------------------------------------------------ the reference files


def sample_files() -> dict[str, bytes] | None:
    """sample.wav / .rttm / .stm from the installed distribution or the cached wheel."""
    from importlib import metadata

    try:
        dist = metadata.distribution("pyannote-audio")
        found = {}
        for f in dist.files or []:
            if f.parts[:3] == ("pyannote", "audio", "sample") and f.name in SAMPLE:
                found[f.name] = Path(dist.locate_file(f)).read_bytes()
        if len(found) == len(SAMPLE):
            return found
    except metadata.PackageNotFoundError:
        pass
    wheel = CACHE / WHEEL
    if wheel.exists():
        with zipfile.ZipFile(wheel) as z:
            return {name: z.read(f"pyannote/audio/sample/{name}") for name in SAMPLE}
    return None


def read_rttm(text: str) -> list[tuple[float, float, str]]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, length = float(parts[3]), float(parts[4])
            out.append((start, start + length, parts[7]))
    return out


def read_stm(text: str) -> list[tuple[float, float, str, str]]:
    out = []
    for line in text.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) >= 6:
            out.append((float(parts[3]), float(parts[4]), parts[2], parts[5]))
    return out


# ------------------------------------------------------------------ scores


def speaker_scores(reference: list[tuple[float, float, str]], turns, duration: float) -> dict:
    """Share of the reference speech time given to the right speaker (see the docstring)."""
    n = int(duration * 100) + 1
    names = sorted({r[2] for r in reference})
    ref = np.zeros((n, len(names)), bool)
    for start, end, who in reference:
        ref[int(round(start * 100)): int(round(end * 100)), names.index(who)] = True
    ours = np.full(n, -1)
    labels = sorted({t.speaker for t in turns})
    for t in turns:
        ours[int(round(t.start * 100)): int(round(t.end * 100))] = labels.index(t.speaker)
    speech = ref.any(axis=1)
    single = ref.sum(axis=1) == 1
    overlap = ref.sum(axis=1) >= 2
    best = None
    for perm in ([0, 1], [1, 0]):
        right = np.zeros(n, bool)
        for k, label in enumerate(labels[:2]):
            right |= (ours == k) & ref[:, perm[k] if perm[k] < len(names) else 0]
        score = (right & single).sum()
        if best is None or score > best[0]:
            best = (score, right, {labels[k]: names[perm[k]] for k in range(min(2, len(labels)))})
    _, right, matching = best
    return {
        "right_single_pct": 100 * (right & single).sum() / max(single.sum(), 1),
        "right_with_overlap_pct": 100 * (right & speech).sum() / max(speech.sum(), 1),
        "missed_pct": 100 * (speech & (ours < 0)).sum() / max(speech.sum(), 1),
        "reference_speech_s": speech.sum() / 100, "overlap_s": overlap.sum() / 100,
        "outside_reference_s": ((ours >= 0) & ~speech).sum() / 100, "matching": matching,
    }


def normalise(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(w.strip("'") for w in text.split() if w.strip("'"))


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = normalise(reference), normalise(hypothesis)
    try:
        import jiwer

        return 100 * jiwer.wer(ref, hyp)
    except ImportError:
        r, h = ref.split(), hyp.split()
        row = list(range(len(h) + 1))
        for i, rw in enumerate(r, 1):
            prev, row[0] = row[0], i
            for j, hw in enumerate(h, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
        return 100 * row[-1] / max(len(r), 1)


# ------------------------------------------------------------------ parts


def who_spoke_on_sample(files: dict[str, bytes]) -> tuple[np.ndarray, object, dict]:
    from facilitator.audio_files import read_audio
    from facilitator.core import to_float32
    from facilitator.recorded.voices import who_spoke

    audio = to_float32(read_audio(files["sample.wav"], what="sample.wav"))
    who_spoke(audio[: 16000 * 12])                      # models loaded and warm
    started = time.perf_counter()
    who = who_spoke(audio)
    elapsed = time.perf_counter() - started
    scores = speaker_scores(read_rttm(files["sample.rttm"].decode()), who.turns,
                            audio.size / 16000)
    scores["seconds"] = elapsed
    return audio, who, scores


def words_on_sample(audio: np.ndarray, who, files: dict[str, bytes], model: str) -> dict:
    from facilitator.config import Config, TranscriptionConfig
    from facilitator.dialogue import Script
    from facilitator.transcribe import Transcriber

    stm = read_stm(files["sample.stm"].decode())
    reference = " ".join(text for *_, text in stm)
    started = time.perf_counter()
    transcriber = Transcriber(TranscriptionConfig(model="default" if model == "tiny.en" else model))
    transcriber.set_glossary(f"Partner A, Partner B. {Script.load(Config().session.script).glossary}")
    transcriber.warm_up()
    load_s = time.perf_counter() - started

    def words(spans) -> tuple[str, float]:
        said, began = [], time.perf_counter()
        for start, end in spans:
            lo, hi = max(0, int((start - 0.1) * 16000)), int((end + 0.1) * 16000)
            said.append(transcriber.transcribe(audio[lo:hi]).text)
        return " ".join(said), time.perf_counter() - began

    ours, ours_s = words([(t.start, t.end) for t in who.turns])
    theirs, _ = words(_reference_turns(read_rttm(files["sample.rttm"].decode())))
    return {"model": model, "wer_our_turns_pct": word_error_rate(reference, ours),
            "wer_reference_turns_pct": word_error_rate(reference, theirs),
            "transcribe_s": ours_s, "load_s": load_s, "hypothesis": ours}


def _reference_turns(reference: list[tuple[float, float, str]]) -> list[tuple[float, float]]:
    """The RTTM's segments in start order, overlaps cut at the next one's start."""
    spans = sorted((s, e) for s, e, _ in reference)
    return [(s, min(e, spans[k + 1][0]) if k + 1 < len(spans) and spans[k + 1][0] > s else e)
            for k, (s, e) in enumerate(spans)]


LINES_A = [
    "I felt lonely last night when you stayed late at work.",
    "When the dishes pile up | I feel that I carry the house alone.",
    "I would love for us to take a walk together on Sundays.",
    "It reminds me of how my father was never home | and I hated that.",
    "Yes, that is what I meant.",
    "There is more. | I also worry about money, because we never talk about it.",
    "I appreciate that you listened to me tonight without interrupting.",
    "What scares me most is that we drift apart and do not notice.",
    "No, that's all for now.",
    "I get anxious when plans change at the last minute.",
]
LINES_B = [
    "What I hear you saying is that you felt lonely. Did I get that?",
    "Is there more about that?",
    "So you feel you carry the house alone. Is that right?",
    "That makes sense to me, because you grew up waiting for your father.",
    "I imagine you might feel scared and alone.",
    "Let me see if I got all of that.",
    "Okay.",
    "You would love for us to walk together on Sundays.",
]


def long_dialogue(minutes: float, path: Path) -> list[tuple[float, float, str]]:
    """A WAV of `minutes` of two espeak-ng voices in turn; returns the script's (start,
    end, speaker) of each line's sound (from its first to its last loud sample)."""
    from facilitator.core import to_float32
    from facilitator.sim.voices import speak_to_array
    from facilitator.speakers.audio import save_wav

    rng = np.random.default_rng(7)
    voices = {"A": "en-us+m3", "B": "en-us+f4"}
    rendered = {}
    for who, lines in (("A", LINES_A), ("B", LINES_B)):
        for line in lines:
            parts = [to_float32(speak_to_array(p.strip(), voices[who], rate=int(rate)))
                     for p, rate in zip(line.split("|"), rng.integers(150, 180, 4))]
            pause = np.zeros(int(0.9 * 16000), np.float32)
            rendered[(who, line)] = np.concatenate(
                [x for p in parts for x in (p, pause)][:-1])
    pieces, script, t, who = [], [], 0.0, "A"
    while t < minutes * 60:
        a_turn = who == "A"
        line = LINES_A[rng.integers(len(LINES_A))] if a_turn else LINES_B[rng.integers(len(LINES_B))]
        audio = rendered[(who, line)]
        loud = np.flatnonzero(np.abs(audio) > 0.01)         # espeak-ng pads with silence
        script.append((t + loud[0] / 16000, t + (loud[-1] + 1) / 16000, who))
        pieces.append(audio)
        t += audio.size / 16000
        gap = float(rng.uniform(0.2, 1.5))
        pieces.append(np.zeros(int(gap * 16000), np.float32))
        t += gap
        # after A, B answers, or A talks on (unequal talk time); after B, A again
        who = "A" if not a_turn or rng.random() < 0.3 else "B"
    save_wav(path, np.concatenate(pieces))
    return script


def _rss_mb(field: str) -> float:
    """VmRSS / VmHWM of this process in MB (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> None:
    """Start VmHWM afresh (Linux: writing 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def speed(minutes: float) -> dict:
    from facilitator.audio_files import read_audio
    from facilitator.config import Config
    from facilitator.core import to_float32
    from facilitator.recorded.voices import who_spoke

    out: dict = {"minutes": minutes}
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "dialogue.wav"
        began = time.perf_counter()
        script = long_dialogue(minutes, wav)
        out["render_s"] = time.perf_counter() - began
        audio = to_float32(read_audio(wav))
        duration = audio.size / 16000
        out["audio_s"] = duration
        who_spoke(audio[: 16000 * 20])
        out["rss_before_mb"] = _rss_mb("VmRSS")
        _reset_peak()
        began, cpu = time.perf_counter(), time.process_time()
        who = who_spoke(audio)
        out["who_spoke_s"] = time.perf_counter() - began
        out["who_spoke_cpu_s"] = time.process_time() - cpu
        out["rss_peak_mb"] = _rss_mb("VmHWM")
        out["who_spoke_s_per_min"] = out["who_spoke_s"] / (duration / 60)
        out["speakers"] = speaker_scores(script, who.turns, duration)
        out["turns_found"], out["lines"] = len(who.turns), len(script)
        try:
            from facilitator.recorded.pipeline import Request, analyze
        except ImportError as error:
            out["pipeline"] = f"not timed: {error}"
            return out
        record = Path(tmp) / "out.jsonl"
        began, cpu = time.perf_counter(), time.process_time()
        try:
            analyze(Request(wav, record=record), Config())
        except Exception as error:  # noqa: BLE001 (a benchmark reports, it does not stop)
            out["pipeline"] = f"failed: {type(error).__name__}: {error}"
            return out
        out["pipeline_s"] = time.perf_counter() - began
        out["pipeline_cpu_s"] = time.process_time() - cpu
        out["pipeline_s_per_min"] = out["pipeline_s"] / (duration / 60)
        out["pipeline_ratio"] = out["pipeline_s"] / duration
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tiny.en,base")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--skip-wer", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)          # each figure shown as it is measured
    command = "benchmarks/analyze.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"$ .venv/bin/python {command.strip()}   (cores: {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f} at the start)")
    results: dict = {}
    files = sample_files()
    if files is None:
        print(f"pyannote's sample.wav is not here; get it with:\n    {FETCH}")
    else:
        audio, who, scores = who_spoke_on_sample(files)
        results["sample_speakers"] = scores
        print(f"\nsample.wav ({audio.size / 16000:.1f} s, {scores['reference_speech_s']:.1f} s of "
              f"reference speech, {scores['overlap_s']:.1f} s of it overlap): who_spoke "
              f"{scores['seconds']:.2f} s, {len(who.turns)} turns, {who.voices} voices, "
              f"labels {scores['matching']}")
        print(f"  speech time to the right speaker: {scores['right_single_pct']:.1f}% "
              f"(overlap left out; target >= 95%), {scores['right_with_overlap_pct']:.1f}% "
              f"(overlap right when either speaker); missed {scores['missed_pct']:.1f}%; "
              f"outside reference speech {scores['outside_reference_s']:.1f} s")
        if not args.skip_wer:
            for model in [m for m in args.models.split(",") if m]:
                try:
                    w = words_on_sample(audio, who, files, model)
                except Exception as error:  # noqa: BLE001
                    print(f"  WER {model}: not measured ({type(error).__name__}: {error})")
                    continue
                results[f"wer_{model}"] = w
                print(f"  WER {model}: {w['wer_our_turns_pct']:.1f}% on our turns, "
                      f"{w['wer_reference_turns_pct']:.1f}% on the reference's turns "
                      f"(transcription {w['transcribe_s']:.2f} s, load {w['load_s']:.1f} s)")
                print(f"    heard: {w['hypothesis'][:300]}")
    if not args.skip_speed:
        s = speed(args.minutes)
        results["speed"] = s
        sp = s["speakers"]
        print(f"\n{s['audio_s'] / 60:.1f} min espeak dialogue ({s['lines']} lines, rendered in "
              f"{s['render_s']:.0f} s): who_spoke {s['who_spoke_s']:.1f} s = "
              f"{s['who_spoke_s_per_min']:.2f} s per minute of audio "
              f"({s['who_spoke_s'] / s['audio_s']:.3f}x real time; CPU time "
              f"{s['who_spoke_cpu_s']:.1f} s); {s['turns_found']} turns; "
              f"speech time to the right speaker {sp['right_single_pct']:.1f}%")
        print(f"  memory: {s['rss_before_mb']:.0f} MB before who_spoke (the audio as float32 is "
              f"{s['audio_s'] * 16000 * 4 / 2**20:.0f} MB of it), peak {s['rss_peak_mb']:.0f} MB "
              "during it")
        if "pipeline_s" in s:
            print(f"  whole analyze pipeline: {s['pipeline_s']:.1f} s = "
                  f"{s['pipeline_s_per_min']:.2f} s per minute of audio "
                  f"({s['pipeline_ratio']:.3f}x real time; CPU time {s['pipeline_cpu_s']:.1f} s "
                  "over all threads)")
        else:
            print(f"  whole analyze pipeline: {s['pipeline']}")
    print(f"(load average {os.getloadavg()[0]:.1f} at the end: other work on the machine "
          "slows the wall-clock figures, not the CPU times)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
