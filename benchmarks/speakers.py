"""Benchmark of the speaker room: turn attribution, interruption recall, time per turn.

    .venv/bin/python benchmarks/speakers.py [--sets a,b,c] [--method campplus|gmm|dvector]
        [--pairs N] [--seed S] [--interrupt-at 0.3,0.6] [--talk-over-min-s 0.6]

(a) synthetic sessions of espeak-ng voice pairs, (b) sessions composed from the real
LibriSpeech voices in ../shared/data/voices/librispeech-test-other (skipped if absent),
(c) stereo two-microphone simulations (crosstalk -12..-3 dB, gain mismatch up to
+-10 dB, reverb), decided as the live loop decides them: channel levels, checked by the
voice model (`--method`) where the mics separate the partners poorly. Every turn gets
reverb (RT60 0.2-0.6 s) and pink noise at 5-15 dB SNR;
enrollments (about 14 s of audio, >= 6 s voiced) get reverb and 10-20 dB SNR (the enrollment check refuses worse
than 10 dB). A quarter of the turns hold an interruption: 1-2 s of the other partner
(taken from one of their recordings from its first voiced frame, at that recording's own
level, so -12..+12 dB re the speaker), talking over the middle of the turn (or anywhere,
--interrupt-at 0,1); another quarter a backchannel (0.3-0.7 s of the same kind) that
must not count. "time per turn" is all the speaker room's computing for a turn (one core);
the live loop starts it on a thread when the speaker pauses, so the wait it adds at the end
of a turn is what `benchmarks/latency.py` prints as "wait for who spoke". Recall is also printed by the interrupter's level re the speaker. Every fifth turn is spoken by the partner turn order does not
expect. Targets (issue 3): >= 99.5% of turns right in (a) and (b), 100% in (c),
interruptions of 1 s or more found >= 90%, <= 50 ms added per turn.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facilitator.speakers.audio import SAMPLE_RATE, voiced_mask  # noqa: E402
from facilitator.speakers.backends import make_backend  # noqa: E402
from facilitator.speakers.channels import ChannelAttributor  # noqa: E402
from facilitator.speakers.enrollment import EnrollmentError, enroll  # noqa: E402
from facilitator.speakers.identify import SpeakerIdentifier  # noqa: E402
from facilitator.speakers.options import SpeakersOptions  # noqa: E402
from facilitator.sim.mixing import (  # noqa: E402
    SENTENCES, espeak, room, set_level, speech_rms, stereo_mix,
)

VOICES = ROOT.parent / "shared" / "data" / "voices" / "librispeech-test-other"
INTERRUPT_AT = (0.3, 0.6)   # where in a turn an interruption starts (share of the free room)
OPTIONS = SpeakersOptions()
ESPEAK_PAIRS = (("en-us", "en-us+f3"), ("en-us+m3", "en-us+f2"), ("en-gb", "en-us+f4"),
                ("en-us+m7", "en-gb-x-rp+f3"))


@dataclass
class Tally:
    turns: int = 0
    right: int = 0
    interruptions: int = 0
    found: int = 0
    false_alarms: int = 0
    times_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    quiet: int = 0               # turns without an interruption (backchannel or plain)
    backchannel_alarms: int = 0
    by_level: dict[str, list[int]] = field(default_factory=dict)   # rel. level -> [found, all]

    def line(self, name: str) -> str:
        acc = 100 * self.right / max(self.turns, 1)
        rec = 100 * self.found / max(self.interruptions, 1)
        t = np.array(self.times_ms or [0.0])
        levels = "  ".join(f"{k}: {v[0]}/{v[1]}" for k, v in sorted(
            self.by_level.items(), key=lambda kv: float(kv[0].split()[0])))
        return (f"{name}: turns {self.right}/{self.turns} right = {acc:.2f}%   "
                f"interruptions found {self.found}/{self.interruptions} = {rec:.1f}%   "
                f"false alarms {self.false_alarms} of {self.quiet} turns without one "
                f"({self.backchannel_alarms} on a backchannel)   time per turn mean "
                f"{t.mean():.1f} ms, p95 {np.percentile(t, 95):.1f} ms, max {t.max():.1f} ms\n"
                f"    interruptions found by the interrupter's level re the speaker: {levels}")


def speech_only(audio: np.ndarray) -> np.ndarray:
    """`audio` from its first voiced 30 ms frame on: an interruption or a backchannel
    taken from another recording must hold speech from its first moment, not the
    recording's leading silence."""
    voiced = voiced_mask(audio)
    if not voiced.any():
        return audio
    first = max(int(np.argmax(voiced)) * 480 - 800, 0)
    return audio[first:]


def build_turn(own: np.ndarray, other_bits: list[np.ndarray], kind: str,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, tuple[float, float] | None]:
    """Turn track of the speaker, the other partner's track, and the interruption span."""
    a = own.copy()
    b = np.zeros_like(a)
    span = None
    if kind in ("interrupt", "backchannel") and a.size > 3 * SAMPLE_RATE:
        if kind == "interrupt":
            length = rng.uniform(1.0, 2.0)
        else:
            length = rng.uniform(0.3, 0.7)
        piece = speech_only(other_bits[int(rng.integers(len(other_bits)))])
        n = min(int(length * SAMPLE_RATE), piece.size)
        start = int(rng.uniform(*INTERRUPT_AT) * (a.size - n))
        b[start:start + n] = piece[:n] * np.hanning(n) ** 0.1
        if kind == "interrupt":
            span = (start / SAMPLE_RATE, (start + n) / SAMPLE_RATE)
    return a, b, span


def run_session(ident: SpeakerIdentifier | ChannelAttributor, turns: list[tuple[str, np.ndarray]],
                other_pool: dict[str, list[np.ndarray]], rng: np.random.Generator, tally: Tally,
                stereo: dict | None = None) -> None:
    """Play the turns through the identifier, counting right turns and interruptions."""
    for k, (speaker, audio) in enumerate(turns):
        other = "B" if speaker == "A" else "A"
        expected = other if k % 5 == 4 else speaker
        kind = ("interrupt", "backchannel", "plain", "plain")[k % 4]
        own, intr, span = build_turn(audio, other_pool[other], kind, rng)
        if stereo is None:
            track = room(own + intr, rng)
        else:
            a, b = (own, intr) if speaker == "A" else (intr, own)
            track = stereo_mix(a, b, rng=rng, **stereo)
        started = time.perf_counter()
        att = ident.attribute(track, expected)
        if isinstance(ident, ChannelAttributor):
            found = ident.interruptions(track, att.speaker or speaker)
        else:
            found = ident.interruptions(att)
        tally.times_ms.append(1000 * (time.perf_counter() - started))
        tally.turns += 1
        if att.speaker == speaker:
            tally.right += 1
        else:
            tally.misses.append(f"{speaker}->{att.speaker} ({att.confidence:.2f}, "
                                f"{audio.size / SAMPLE_RATE:.1f} s, {kind})")
        if span is not None:
            tally.interruptions += 1
            hit = any(i.start < span[1] and i.end > span[0] and i.speaker == other for i in found)
            tally.found += hit
            rel = 20 * np.log10(speech_rms(intr[intr != 0]) / speech_rms(own))
            low = 6 * int(np.floor(rel / 6))
            count = tally.by_level.setdefault(f"{low:+d} to {low + 6:+d} dB", [0, 0])
            count[0] += hit
            count[1] += 1
        else:
            tally.quiet += 1
            if found:
                tally.false_alarms += 1
                tally.backchannel_alarms += kind == "backchannel"


def espeak_sets(rng: np.random.Generator):
    """(voices, enrollments, turns) per espeak-ng pair."""
    for va, vb in ESPEAK_PAIRS:
        voice = {"A": va, "B": vb}
        enr = {s: np.concatenate([set_level(espeak(SENTENCES[i], voice[s]), -26)
                                  for i in (0, 1, 2)]) for s in "AB"}
        turns = []
        for i in range(3, len(SENTENCES)):
            for s in ("A", "B"):
                text = SENTENCES[i] + " " + SENTENCES[(i * 7 + (s == "B")) % len(SENTENCES)]
                turns.append((s, set_level(espeak(text, voice[s]), -26 + rng.uniform(-6, 6))))
        yield f"{va}/{vb}", enr, turns


def librispeech_sets(rng: np.random.Generator, pairs: int):
    from faster_whisper import decode_audio

    speakers = {d.name: [decode_audio(str(f), sampling_rate=SAMPLE_RATE).astype(np.float32)
                         for f in sorted(d.glob("*.flac"))]
                for d in sorted(VOICES.iterdir()) if d.is_dir()}
    names = sorted(speakers)
    for pa, pb in list(itertools.combinations(names, 2))[:pairs]:
        utts = {"A": speakers[pa], "B": speakers[pb]}
        enr, rest = {}, {}
        for s in "AB":
            taken, k = 0, 0
            while taken < 14 * SAMPLE_RATE and k < len(utts[s]) - 3:
                taken += utts[s][k].size
                k += 1
            enr[s] = np.concatenate(utts[s][:k])[: 14 * SAMPLE_RATE]
            rest[s] = [set_level(u, -26 + rng.uniform(-6, 6)) for u in utts[s][k:]]
        turns = []
        for i in range(max(len(rest["A"]), len(rest["B"]))):
            for s in "AB":
                if i < len(rest[s]):
                    turns.append((s, rest[s][i]))
        yield f"{pa}/{pb}", {s: set_level(enr[s], -26) for s in "AB"}, turns


def enroll_noisy(label: str, audio: np.ndarray, backend, rng: np.random.Generator,
                 stereo: dict | None = None):
    """Enroll at 10-20 dB SNR; when refused, "ask again" with the noise 5 dB lower."""
    snr = rng.uniform(10, 20)
    for _ in range(4):
        try:
            if stereo is None:
                return enroll(label, room(audio, rng, snr_db=snr), backend)
            silent = np.zeros_like(audio)
            a, b = (audio, silent) if label == "A" else (silent, audio)
            return enroll(label, stereo_mix(a, b, rng=rng, **stereo), backend)
        except EnrollmentError:
            snr += 5
    raise RuntimeError(f"enrollment of {label} refused four times")


def mono_benchmark(name: str, sets, method: str, rng: np.random.Generator) -> Tally:
    backend = make_backend(method)
    tally = Tally()
    for label, enr, turns in sets:
        profiles = {s: enroll_noisy(s, enr[s], backend, rng) for s in "AB"}
        ident = SpeakerIdentifier(profiles, OPTIONS, backend=backend)
        pool = {s: [a for sp, a in turns if sp == s] for s in "AB"}
        before = tally.turns - tally.right
        run_session(ident, turns, pool, rng, tally)
        print(f"  {label}: {tally.turns - tally.right - before} wrong", flush=True)
    print(tally.line(name), flush=True)
    for miss in tally.misses[:10]:
        print("    miss:", miss)
    return tally


def stereo_benchmark(sets, method: str, rng: np.random.Generator) -> Tally:
    """Channel levels, as the live loop decides them (`VoiceAttribution`): profiles from
    the chosen voice model, which also checks the levels where the mics separate the
    partners poorly, and the overlap network on the interrupter's microphone when the
    model has one."""
    backend = make_backend(method)
    tally = Tally()
    conditions = [(x, g) for x in (-12, -9, -6, -3) for g in (-10, -5, 0, 5, 10)]
    sets = list(sets)
    for n, (xt, gain) in enumerate(conditions):
        label, enr, turns = sets[n % len(sets)]
        stereo = {"crosstalk_db": xt, "gain_a_db": gain, "gain_b_db": 0.0,
                  "rt60": rng.uniform(0.2, 0.6), "snr_db": 30.0}
        profiles = {s: enroll_noisy(s, enr[s], backend, rng, stereo) for s in "AB"}
        ident = ChannelAttributor(profiles, OPTIONS,
                                  fallback=SpeakerIdentifier(profiles, OPTIONS, backend=backend))
        pool = {s: [a for sp, a in turns if sp == s] for s in "AB"}
        before = tally.turns - tally.right
        run_session(ident, turns[:12], pool, rng, tally, stereo)
        print(f"  crosstalk {xt} dB, gain {gain:+d} dB ({label}): "
              f"{tally.turns - tally.right - before} wrong", flush=True)
    print(tally.line("(c) stereo"), flush=True)
    for miss in tally.misses[:10]:
        print("    miss:", miss)
    return tally


def main() -> int:
    global OPTIONS, INTERRUPT_AT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="a,b,c")
    parser.add_argument("--method", default="gmm")
    parser.add_argument("--pairs", type=int, default=15, help="LibriSpeech pairs in (b)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--interrupt-at", default="0.3,0.6",
                        help="where an interruption may start, as shares of the turn's free room")
    parser.add_argument("--talk-over-min-s", type=float, default=OPTIONS.talk_over_min_s,
                        help="[speakers] talk_over_min_s: seconds of a second voice that count")
    args = parser.parse_args()
    OPTIONS = dataclasses.replace(OPTIONS, talk_over_min_s=args.talk_over_min_s)
    INTERRUPT_AT = tuple(float(x) for x in args.interrupt_at.split(","))  # type: ignore[assignment]
    rng = np.random.default_rng(args.seed)
    chosen = args.sets.split(",")
    started = time.perf_counter()
    backend = make_backend(args.method)
    print(f"voice model {args.method}: loaded and warmed up in "
          f"{1000 * backend.warm_up_s:.0f} ms")  # type: ignore[attr-defined]
    if "a" in chosen:
        mono_benchmark("(a) espeak-ng sessions", espeak_sets(rng), args.method, rng)
    if "b" in chosen:
        if VOICES.is_dir():
            mono_benchmark("(b) LibriSpeech sessions", librispeech_sets(rng, args.pairs),
                           args.method, rng)
        else:
            print(f"(b) skipped: {VOICES} not found")
    if "c" in chosen:
        sets = (librispeech_sets(rng, 5) if VOICES.is_dir() else espeak_sets(rng))
        stereo_benchmark(sets, args.method, rng)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
