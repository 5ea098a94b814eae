"""Who spoke a turn, from the voice: `SpeakerIdentifier.attribute` and `interruptions`.

1.5 s windows every 0.5 s are scored against both partners; a two-state Viterbi pass
with a switch penalty labels the windows, so a stretch holding both voices is split
where the voice changes (refined to 10 ms with frame scores when the model gives them).
The turn's speaker is decided by adding the window scores up over the turn; turn order
(`expected`) only adds a small prior. An unknown voice gives `speaker=None`.
Talking over the turn is found by the overlap network (`segmentation.py`) when the
backend has one; otherwise by windows where the owner's evidence sags. The answer's types
(`Attribution`, `Segment`, `Interruption`) are in `decision.py`, importable from here too.
"""

from __future__ import annotations

import math
import time

import numpy as np

from facilitator.speakers.audio import voiced_mask
from facilitator.speakers.backends import make_backend
from facilitator.speakers.decision import Attribution, Interruption, Segment
from facilitator.speakers.options import SpeakersOptions
from facilitator.speakers.profiles import VoiceProfile
from facilitator.speakers.scoring import Backend, WindowScores
from facilitator.speakers.segmentation import (
    faint_talk_over, runs, talk_over_stretches, two_voices_likely,
)

# scale from a backend's window score difference to log-odds of one window
EVIDENCE_SCALE = {"gmm": 1.0, "dvector": 6.0, "campplus": 1.0}   # campplus windows: its GMM
EVIDENCE_CAP = 4.0         # no single window may count for more than this (log-odds)
CAM_SCALE = 8.0            # CAM++: cosine difference to log-odds of one embedded chunk
CAM_CAP = 4.0              # no chunk may count for more than this
CONFIRM_MARGIN = 0.3       # CAM++: how much further to the other partner a candidate
                           # interruption must lean than the turn's own chunks
MAX_PRECHECKED = 1         # candidates embedded along with the chunks in `attribute`
MIN_VOICED = 0.25          # windows less voiced than this carry no evidence
CONTESTED = 0.5            # a window keeping less than this share of the turn's typical
                           # evidence for its speaker holds the other voice too
CONTESTED_CONFIRMED = 0.7  # the same when CAM++ checks each candidate afterwards (campplus)

def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


class SpeakerIdentifier:
    """Attributes mono 16 kHz audio to one of two enrolled partners ("A" and "B")."""

    def __init__(self, profiles: dict[str, VoiceProfile], options: SpeakersOptions | None = None,
                 backend: Backend | None = None) -> None:
        self.options = options or SpeakersOptions()
        if len(profiles) != 2:
            raise ValueError("two enrolled partners are needed")
        methods = {p.method for p in profiles.values()}
        if len(methods) != 1:
            raise ValueError(f"profiles made by different voice models: {sorted(methods)}")
        method = methods.pop()
        self.backend = backend or make_backend(method)
        if self.backend.name != method:
            raise ValueError(f"profiles were made with {method!r}, not {self.backend.name!r}: "
                             "enroll again")
        self.profiles = profiles
        self.scorer = self.backend.build({label: p.data for label, p in profiles.items()})
        self.labels: tuple[str, str] = tuple(self.scorer.speakers)  # type: ignore[assignment]
        self.scale = EVIDENCE_SCALE.get(method, 1.0)
        self.overlap = getattr(self.backend, "overlap", None)   # OverlapDetector or None
        self.warm_up()

    def warm_up(self) -> None:
        """Score a second of quiet noise once so the first turn is not slow."""
        rng = np.random.default_rng(0)
        noise = (0.001 * rng.standard_normal(16000)).astype(np.float32)
        ws, voiced = self.windows(noise)
        if hasattr(self.scorer, "span_similarity"):
            self.scorer.span_similarity(noise, voiced, [(0.0, 0.5), (0.5, 1.0)])

    def windows(self, audio: np.ndarray) -> tuple[WindowScores, np.ndarray]:
        """Window scores of mono audio, and its 30 ms voicing."""
        audio = np.asarray(audio, np.float32)
        voiced = voiced_mask(audio, self.options.vad_aggressiveness)
        return self.scorer.score(audio, voiced, self.options.window_s, self.options.hop_s), voiced

    # ------------------------------------------------------------------ decisions

    def _evidence(self, ws: WindowScores) -> np.ndarray:
        """Log-odds of A over B per window (0 where too little is voiced)."""
        d = np.clip((ws.scores[:, 0] - ws.scores[:, 1]) * self.scale, -EVIDENCE_CAP, EVIDENCE_CAP)
        return np.where(ws.voiced >= MIN_VOICED, d, 0.0)

    def _viterbi(self, evidence: np.ndarray) -> np.ndarray:
        """0 = first label, 1 = second, per window, with a penalty for each change."""
        penalty = self.options.switch_penalty
        n = evidence.size
        cost = np.zeros((n, 2))
        back = np.zeros((n, 2), int)
        emit = np.stack([evidence / 2, -evidence / 2], axis=1)
        cost[0] = emit[0]
        for i in range(1, n):
            for s in (0, 1):
                stay, switch = cost[i - 1, s], cost[i - 1, 1 - s] - penalty
                back[i, s] = s if stay >= switch else 1 - s
                cost[i, s] = max(stay, switch) + emit[i, s]
        path = np.zeros(n, int)
        path[-1] = int(np.argmax(cost[-1]))
        for i in range(n - 1, 0, -1):
            path[i - 1] = back[i, path[i]]
        return path

    def _segments(self, ws: WindowScores, path: np.ndarray, duration: float,
                  voiced: np.ndarray) -> list[Segment]:
        centres = (ws.starts + ws.ends) / 2
        bounds = [0.0] + [float((centres[i] + centres[i + 1]) / 2)
                          for i in range(len(centres) - 1)] + [duration]
        segments: list[Segment] = []
        for i, state in enumerate(path):
            label = self.labels[state]
            if segments and segments[-1].speaker == label:
                segments[-1] = Segment(segments[-1].start, bounds[i + 1], label)
            else:
                segments.append(Segment(bounds[i], bounds[i + 1], label))
        if ws.frame_llr is not None and len(segments) > 1:
            segments = self._refine(segments, ws.frame_llr)
        # trim leading / trailing silence
        if voiced.any():
            first = float(np.argmax(voiced)) * 0.03
            last = float(voiced.size - np.argmax(voiced[::-1])) * 0.03
            trimmed = [Segment(max(s.start, first), min(s.end, last), s.speaker)
                       for s in segments]
            segments = [s for s in trimmed if s.end - s.start > 0.05] or segments
        return segments

    def _refine(self, segments: list[Segment], llr: np.ndarray) -> list[Segment]:
        """Move each change of voice to the 10 ms frame that best splits the frame scores."""
        cum = np.concatenate([[0.0], np.cumsum(llr)])
        out = list(segments)
        for k in range(len(out) - 1):
            left, right = out[k], out[k + 1]
            sign_l = 1.0 if left.speaker == self.labels[0] else -1.0
            lo = int(max(left.start, (left.start + left.end) / 2, right.start - 0.75) * 100)
            hi = int(min(right.end, (right.start + right.end) / 2, right.start + 0.75) * 100)
            lo, hi = max(lo, 0), min(hi, llr.size)
            if hi - lo < 3:
                continue
            t = np.arange(lo, hi + 1)
            gain = sign_l * (cum[t] - cum[lo]) - sign_l * (cum[hi] - cum[t])
            split = float(t[int(np.argmax(gain))]) / 100
            out[k] = Segment(left.start, split, left.speaker)
            out[k + 1] = Segment(split, right.end, right.speaker)
        return out

    def attribute(self, audio: np.ndarray, expected: str | None = None) -> Attribution:
        """Who spoke this turn (mono float32 16 kHz); `expected` is a weak turn-order prior."""
        started = time.perf_counter()
        audio = np.asarray(audio, np.float32)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        ws, voiced = self.windows(audio)
        voiced_s = float(voiced.sum() * 0.03)
        duration = audio.size / 16000
        evidence = self._evidence(ws)
        used = ws.voiced >= MIN_VOICED
        if not used.any():
            return Attribution(None, 0.0, [], voiced_s, 0.0,
                               1000 * (time.perf_counter() - started), self.backend.name)
        talk_over = None
        faint: list[tuple[float, float]] = []
        clean = voiced
        if self.overlap is not None:
            fp = self.overlap.frames(audio)
            talk_over = talk_over_stretches(fp, self.options.talk_over_min_s)
            faint = faint_talk_over(fp, talk_over)
            clean = self._outside(talk_over, voiced) & ~two_voices_likely(fp, voiced.size)
            # two voices at once say little: each window counts by its share of clean voice
            evidence = evidence * self._clean_share(clean, voiced, ws)
        overlap = max(self.options.window_s / self.options.hop_s, 1.0)
        total = float(evidence.sum() / overlap)
        known = float(np.average(ws.known[used], weights=ws.voiced[used]))
        path = self._viterbi(evidence)
        llr = np.where(ws.voiced >= MIN_VOICED, (ws.scores[:, 0] - ws.scores[:, 1]) * self.scale,
                       0.0)
        att = Attribution(None, 0.0, self._segments(ws, path, duration, voiced), voiced_s, known,
                          0.0, self.backend.name, np.stack([ws.starts, ws.ends], axis=1),
                          evidence, ws.voiced, self.labels, llr, None, voiced)
        att.talk_over, att.faint_talk_over = talk_over, faint
        if hasattr(self.scorer, "span_similarity"):
            total = self._embed(att, audio, total, clean)
        if expected in self.labels:
            total += self.options.order_prior * (1 if expected == self.labels[0] else -1)
        att.speaker = self.labels[0] if total >= 0 else self.labels[1]
        att.confidence = _sigmoid(abs(total))
        if att.chunk_votes is not None and np.all(path == path[0]) and \
                self.labels[int(path[0])] != att.speaker:
            # one voice all through: it is the one the embeddings chose
            att.segments = [Segment(s.start, s.end, att.speaker) for s in att.segments]
        if known < self.options.unknown_threshold:
            att.speaker = None
            att.confidence = _sigmoid((self.options.unknown_threshold - known) * 8)
            att.segments = [Segment(s.start, s.end, None) for s in att.segments]
        att.elapsed_ms = 1000 * (time.perf_counter() - started)
        return att

    @staticmethod
    def _outside(stretches: list[tuple[float, float]], voiced: np.ndarray) -> np.ndarray:
        """The 30 ms voicing with `stretches` taken out."""
        clean = voiced.copy()
        for start, end in stretches:
            clean[int(start / 0.03): int(np.ceil(end / 0.03))] = False
        return clean

    @staticmethod
    def _clean_share(clean: np.ndarray, voiced: np.ndarray, ws: WindowScores) -> np.ndarray:
        """Per scoring window, the share of its voiced 30 ms frames that are `clean`."""
        def inside(frames: np.ndarray) -> np.ndarray:
            csum = np.concatenate([[0.0], np.cumsum(frames)])
            lo = np.clip(np.round(ws.starts / 0.03).astype(int), 0, frames.size)
            hi = np.clip(np.round(ws.ends / 0.03).astype(int), 0, frames.size)
            return csum[hi] - csum[lo]
        return inside(clean) / np.maximum(inside(voiced), 1.0)

    def _embed(self, att: Attribution, audio: np.ndarray, gmm_total: float,
               clean: np.ndarray | None = None) -> float:
        """CAM++ (campplus): embed chunks spread over the turn (placed on and pooled over
        its `clean` voiced frames, those with one voice, when there is a second of them)
        and, in the same pass, the longest candidate interruption for the owner it would guess;
        returns the turn's log-odds with the GMM's added at `gmm_weight`."""
        assert att.voiced is not None
        duration = audio.size / 16000
        place = clean if clean is not None and clean.sum() * 0.03 >= 1.0 else att.voiced
        chunks = self._embedding_spans(place, duration)
        guess = self.labels[0] if gmm_total >= 0 else self.labels[1]
        candidates = self._candidates(att, guess)[:MAX_PRECHECKED]
        checks = [self._check_span(i) for i in candidates]
        pool = place if place is not att.voiced else None
        cos, share = self.scorer.span_similarity(audio, att.voiced, chunks + checks,
                                                 pool, len(chunks))
        lean = cos[:, 0] - cos[:, 1]
        votes = np.clip(CAM_SCALE * lean[: len(chunks)], -CAM_CAP, CAM_CAP)
        votes *= np.clip(share[: len(chunks)] / 0.5, 0.0, 1.0)
        att.audio = audio
        att.chunk_votes = lean[: len(chunks)]
        att.checked = {(guess, round(i.start, 3), round(i.end, 3)): float(x)
                       for i, x in zip(candidates, lean[len(chunks):])}
        return float(votes.sum()) + self.options.gmm_weight * gmm_total

    def _check_span(self, candidate: Interruption) -> tuple[float, float]:
        """The middle of a candidate interruption, as long as an embedded chunk (so the
        two go through the network in one batch)."""
        middle = (candidate.start + candidate.end) / 2
        half = min(candidate.end - candidate.start, self.options.embed_chunk_s) / 2
        return (middle - half, middle + half)

    def _embedding_spans(self, voiced: np.ndarray, duration: float) -> list[tuple[float, float]]:
        """Where to embed a turn within `embed_budget_s`: all of its speech when short,
        else `embed_budget_s / embed_chunk_s` chunks at even steps from its first voiced
        moment to its last, so the decision samples the whole turn, always including its
        start and end: the turn's owner holds those, while an interrupter talks over the
        middle. (Chunks at even steps of voiced time, never at the very ends, let a long
        loud interruption in the middle of a short turn take it over; chunks placed where
        the GMM finds the turn most typical of itself did worse: the GMM's bias then
        picks the chunks.)"""
        budget, chunk = self.options.embed_budget_s, self.options.embed_chunk_s
        times = np.flatnonzero(voiced) * 0.03 if voiced.any() else np.array([0.0, duration])
        first, last = float(times[0]), min(float(times[-1]) + 0.03, duration)
        if last - first <= budget:
            pad = min(0.1, (budget - (last - first)) / 2)
            return [(max(0.0, first - pad), min(duration, last + pad))]
        k = max(1, int(round(budget / chunk)))
        length = budget / k
        starts = np.linspace(first, last - length, k) if k > 1 else [(first + last - length) / 2]
        return [(float(start), float(start) + length) for start in starts]

    def interruptions(self, attribution: Attribution, turn_speaker: str | None = None,
                      expected: str | None = None) -> list[Interruption]:
        """Stretches of at least `min_interruption_s` where the other partner speaks.

        `turn_speaker` is whose turn it is (default: the attributed speaker). When the
        whole turn came from the partner who should have been quiet (`expected` says who
        should speak), that is one "wrong_speaker" interruption covering the turn.
        """
        if attribution.speaker is None:
            return []
        owner = turn_speaker or attribution.speaker
        if expected is not None and attribution.speaker != expected and attribution.segments:
            return [Interruption(attribution.segments[0].start, attribution.segments[-1].end,
                                 attribution.speaker, "wrong_speaker")]
        found = self._candidates(attribution, owner)
        if found and attribution.audio is not None and hasattr(self.scorer, "span_similarity"):
            found = self._confirm(attribution, found, owner)
        if attribution.talk_over is not None:
            other = next(label for label in self.labels if label != owner)
            found += [Interruption(start, end, other) for start, end in attribution.talk_over
                      if not any(start < f.end and end > f.start for f in found)]
        return sorted(found, key=lambda i: i.start)

    def _candidates(self, attribution: Attribution, owner: str) -> list[Interruption]:
        """Stretches that may be the other partner, for the embeddings to confirm: the
        GMM's segments of their voice, a second voice the overlap network hears only
        faintly (`segmentation.faint_talk_over`) and, without the overlap network, runs of
        windows where the owner's evidence sags (see `_talk_over`)."""
        other = next(label for label in self.labels if label != owner)
        found = [Interruption(seg.start, seg.end, other) for seg in attribution.segments
                 if seg.speaker == other
                 and seg.end - seg.start >= self.options.min_interruption_s]
        found += [Interruption(start, end, other) for start, end in attribution.faint_talk_over
                  if not any(start < f.end and end > f.start for f in found)]
        if self.overlap is None:
            found += [i for i in self._talk_over(attribution, owner, other)
                      if not any(i.start < f.end and i.end > f.start for f in found)]
        return sorted(found, key=lambda i: i.start - i.end)     # longest first

    def _confirm(self, attribution: Attribution, found: list[Interruption],
                 owner: str) -> list[Interruption]:
        """Keep the candidates whose CAM++ embedding leans further to the other partner
        than the turn's own chunks do by `CONFIRM_MARGIN` (cosine difference). Those
        embedded along with the chunks in `attribute` are not embedded again."""
        sign = 1.0 if owner == self.labels[0] else -1.0
        votes = attribution.chunk_votes
        own_lean = float(np.median(sign * votes)) if votes is not None and votes.size else 0.3
        checked = attribution.checked or {}
        lean = [checked.get((owner, round(i.start, 3), round(i.end, 3))) for i in found]
        missing = [k for k, x in enumerate(lean) if x is None]
        if missing:
            assert attribution.audio is not None and attribution.voiced is not None
            cos, _share = self.scorer.span_similarity(
                attribution.audio, attribution.voiced, [self._check_span(found[k]) for k in missing])
            for k, x in zip(missing, cos[:, 0] - cos[:, 1]):
                lean[k] = float(x)
        return [i for i, x in zip(found, lean) if own_lean - sign * float(x) >= CONFIRM_MARGIN]

    def _talk_over(self, attribution: Attribution, owner: str, other: str) -> list[Interruption]:
        """Runs of windows where the owner's evidence sags: the other voice talks over it.

        Two voices at once score in between the two partners, so a window that keeps
        less than `CONTESTED` of the turn's typical evidence holds the other voice. A run
        of such windows spanning `min_interruption_s` (window centres +- hop/2) counts.
        """
        ev = (attribution.window_llr if attribution.window_llr is not None
              else attribution.window_evidence)
        times, voiced = attribution.window_times, attribution.window_voiced
        if ev is None or times is None or voiced is None or ev.size < 3:
            return []
        own = ev if owner == self.labels[0] else -ev
        solid = voiced >= 0.5
        if solid.sum() < 3:
            return []
        typical = float(np.median(own[solid]))
        if typical <= 0:
            return []
        share = CONTESTED_CONFIRMED if hasattr(self.scorer, "span_similarity") else CONTESTED
        contested = solid & (own < share * typical)
        spans = runs(times.mean(axis=1), contested, self.options.min_interruption_s - 1e-6,
                     half=self.options.hop_s / 2)
        return [Interruption(start, end, other) for start, end in spans]
