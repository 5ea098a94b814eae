"""Compare voice models on the LibriSpeech voices with reverb and noise (issue 3, item 5).

For each speaker: 10 s enrollment from its first utterances, clips of 1, 2 and 5 s from the
others; enrollment and clips each get reverb (RT60 0.2-0.6 s) and pink noise (5-15 dB SNR).
Reports (a) pairwise accuracy: every clip against every pair holding its speaker (the
two-partner case) and (b) 10-way identification accuracy, plus scoring time.

    .venv/bin/python scripts/speakers_compare_backends.py [--dvector-model PATH] [--methods gmm,dvector]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facilitator.speakers.audio import voiced_mask  # noqa: E402
from facilitator.speakers.backends import DVectorBackend, GMMBackend  # noqa: E402
from facilitator.sim.mixing import room  # noqa: E402

VOICES = Path(__file__).resolve().parents[2] / "shared/data/voices/librispeech-test-other"


def load_flac(path: Path) -> np.ndarray:
    from faster_whisper import decode_audio

    return decode_audio(str(path), sampling_rate=16000).astype(np.float32)


def load_speakers(root: Path) -> dict[str, list[np.ndarray]]:
    return {d.name: [load_flac(f) for f in sorted(d.glob("*.flac"))]
            for d in sorted(root.iterdir()) if d.is_dir()}


def make_sets(utts: list[np.ndarray], rng: np.random.Generator, enroll_s: float = 10.0,
              lengths: tuple[float, ...] = (1.0, 2.0, 5.0), per_length: int = 12):
    audio = np.concatenate(utts)
    need = int(enroll_s * 16000)
    # enrollment: the first utterances up to 10 s
    taken, enroll = 0, []
    for i, u in enumerate(utts):
        enroll.append(u)
        taken += u.size
        if taken >= need:
            break
    enroll_audio = np.concatenate(enroll)[:need]
    rest = np.concatenate(utts[i + 1:]) if i + 1 < len(utts) else audio[need:]
    clips: dict[float, list[np.ndarray]] = {}
    vad = voiced_mask(rest)
    for length in lengths:
        n = int(length * 16000)
        out = []
        for _ in range(per_length * 5):
            if len(out) >= per_length:
                break
            s = int(rng.integers(0, rest.size - n))
            v = vad[s // 480:(s + n) // 480]
            if v.size and v.mean() >= 0.6:
                out.append(rest[s:s + n])
        clips[length] = out
    return enroll_audio, clips


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voices", default=str(VOICES))
    parser.add_argument("--methods", default="gmm,dvector")
    parser.add_argument("--dvector-model", default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    speakers = load_speakers(Path(args.voices))
    data = {}
    for name, utts in speakers.items():
        enroll, clips = make_sets(utts, rng)
        enroll = room(enroll, rng)
        clips = {k: [room(c, rng) for c in v] for k, v in clips.items()}
        data[name] = (enroll, voiced_mask(enroll), clips,
                      {k: [voiced_mask(c) for c in v] for k, v in clips.items()})
    names = sorted(data)
    for method in args.methods.split(","):
        if method == "gmm":
            backend = GMMBackend()
        else:
            backend = DVectorBackend(args.dvector_model)
        backend.warm_up()
        profiles = {n: backend.profile_data(data[n][0], data[n][1]) for n in names}
        # score every clip against all 10 speakers once (10-way), then derive the pairs
        t_score, n_score = 0.0, 0
        results: dict[float, list[tuple[str, np.ndarray]]] = {}
        if method == "gmm":
            pair_scorers = {p: backend.build({n: profiles[n] for n in p})
                            for p in itertools.combinations(names, 2)}
        full = backend.build(profiles)
        pair_ok: dict[float, list[bool]] = {}
        for name in names:
            for length, clips in data[name][2].items():
                for clip, vad in zip(clips, data[name][3][length]):
                    t = time.perf_counter()
                    ws = full.score(clip, vad, window_s=length + 1, hop_s=0.5)
                    t_score += time.perf_counter() - t
                    n_score += 1
                    sc = ws.scores.sum(axis=0)
                    results.setdefault(length, []).append((name, sc))
                    for other in names:
                        if other == name:
                            continue
                        if method == "gmm":
                            pair = tuple(sorted((name, other)))
                            pws = pair_scorers[pair].score(clip, vad, length + 1, 0.5)
                            psc = dict(zip(pws.speakers, pws.scores.sum(axis=0)))
                        else:
                            psc = dict(zip(full.speakers, sc))
                        pair_ok.setdefault(length, []).append(psc[name] > psc[other])
        print(f"\n== {method}  (scoring {1000 * t_score / n_score:.1f} ms per clip, 10 speakers)")
        for length in sorted(results):
            ten = np.mean([full.speakers[int(np.argmax(s))] == n for n, s in results[length]])
            pw = np.mean(pair_ok[length])
            print(f"  {length:.0f} s clips: pairwise {100 * pw:.2f}%  10-way {100 * ten:.1f}%"
                  f"  (n={len(results[length])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
