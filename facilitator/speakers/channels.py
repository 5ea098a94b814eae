"""Two-microphone mode: who speaks from the channel levels, calibrated from enrollment.

During enrollment each partner's voice is measured on both channels, which gives a 2x2
mixing matrix of powers (own mic, the other's mic): it absorbs the gain difference of the
mics and the crosstalk. For each 30 ms frame the two channel powers are unmixed into one
power per partner; a partner speaks where their power stands `channel_active_db` above
the noise floor, and both speak (overlap) where the quieter is within
`channel_overlap_db` of the louder. Mono input falls back to a `SpeakerIdentifier`.

Whose turn a stretch is: the partner who holds more of it, a frame being held by the
partner whose voice is `DOMINANT_DB` louder than the other's after unmixing (frames where
both are about as loud count for neither). Counting mere activity instead lets the other
partner win: when the mixing is ill-conditioned (strong crosstalk against a mic gain
mismatch), a shift of the owner's channel ratio by a dB or two since enrollment leaves a
phantom of the other partner "active" under all of the owner's speech, and a loud
interrupter then takes the turn by masking the owner for a second or two. An interrupter
talks over the middle of a turn while its owner holds its start and end, so each frame's
vote is weighted by where it lies: 1 at the first and last held frame, falling linearly
to `MIDDLE_WEIGHT` at the middle. (A hand-over, one partner and then the other, is decided
much as by plain time: the weights are symmetric about the middle.)

Where the mics cannot tell the partners apart well (strong crosstalk against a gain
mismatch: unmixing can leave a phantom louder than `VOICE_CHECK_PHANTOM_DB`), the levels
alone can still be fooled by a loud interruption of a short turn. There the voice (the
`fallback` identifier, on the two channels mixed) checks each turn's decision and
overrules it when it is at least `VOICE_OVERRULES` sure of the other partner.

The frame levels themselves (`frame_powers`, `smoothed`, `channel_powers_when_voiced`, ...)
are in `levels.py`, which enrollment shares.
"""

from __future__ import annotations

import time

import numpy as np

from facilitator.speakers.decision import Attribution, Interruption, Segment
from facilitator.speakers.identify import SpeakerIdentifier
from facilitator.speakers.levels import (  # noqa: F401 (channel_powers_when_voiced: importable here too)
    FRAME_S, channel_powers_when_voiced, frame_powers, noise_floor_db, smoothed, to_db,
)
from facilitator.speakers.options import SpeakersOptions
from facilitator.speakers.profiles import VoiceProfile
from facilitator.speakers.segmentation import talk_over_stretches

SMOOTH = 15                # frames (450 ms) of channel power averaged before unmixing
RATIO_SLACK_DB = 1.0       # how far the channel ratio of one voice wanders over SMOOTH frames
HOLD_SMOOTH = 5            # frames (150 ms) of channel power averaged before asking who is louder
DOMINANT_DB = 3.0          # a partner holds a frame when this much louder than the other
MIDDLE_WEIGHT = 0.3        # a held frame's vote at the middle of a turn (1 at its start and end)
VOICE_CHECK_PHANTOM_DB = -8.0  # mics whose unmixing can leave a phantom louder than this (dB
                               # re the voice) have each turn's level decision checked by the voice
VOICE_OVERRULES = 0.95     # ... and a voice at least this sure of the other partner overrules it


def phantom_db(mixing: np.ndarray, slack_db: float = RATIO_SLACK_DB) -> np.ndarray:
    """(2,) how loud (dB re the voice that speaks) each partner's phantom can come out of
    unmixing when only the *other* partner speaks and either channel is off by
    `slack_db`. With strong crosstalk or a large gain mismatch the matrix is nearly
    singular and phantoms are loud; with good separation they are far below."""
    unmix = np.linalg.inv(mixing)
    worst = np.full(2, -120.0)
    for speaking in range(2):
        ghost = 1 - speaking
        for channel in range(2):
            for sign in (-1.0, 1.0):
                seen = mixing[:, speaking].copy()
                seen[channel] *= 10 ** (sign * slack_db / 10)
                est = unmix @ seen
                if est[speaking] > 0:
                    level = 10 * np.log10(max(est[ghost], 1e-12) / est[speaking])
                    worst[ghost] = max(worst[ghost], level)
    return worst


class ChannelAttributor:
    """Attribution of stereo audio, channel 0 and 1 each nearer one partner."""

    def __init__(self, profiles: dict[str, VoiceProfile], options: SpeakersOptions | None = None,
                 fallback: SpeakerIdentifier | None = None, overlap=None) -> None:  # noqa: ANN001
        self.options = options or SpeakersOptions()
        # the overlap network (segmentation.OverlapDetector), when the voice model has one
        self.overlap = overlap if overlap is not None else getattr(fallback, "overlap", None)
        self.labels = tuple(sorted(profiles))
        missing = [label for label in self.labels if not profiles[label].channel_power]
        if missing:
            raise ValueError(f"no two-microphone enrollment for {', '.join(missing)}")
        columns = []
        for label in self.labels:
            power = np.asarray(profiles[label].channel_power, np.float64)
            columns.append(power / power.sum())
        self.mixing = np.stack(columns, axis=1)            # rows: channel, cols: partner
        if abs(np.linalg.det(self.mixing)) < 1e-6:
            raise ValueError("the two microphones hear both partners alike; "
                             "move each microphone nearer its partner and enroll again")
        self.unmix = np.linalg.inv(self.mixing)
        self.fallback = fallback
        # a second voice must stand above what unmixing errors can make up
        phantoms = phantom_db(self.mixing)
        self.relative_db = np.clip(-phantoms - 3.0, 1.0, self.options.channel_overlap_db)
        self.levels_doubtful = bool(phantoms.max() > VOICE_CHECK_PHANTOM_DB)

    def partner_powers(self, raw: np.ndarray) -> np.ndarray:
        """(frames, 2) estimated power of each partner's voice per 30 ms frame, from the
        channels' `frame_powers`."""
        return np.maximum(raw @ self.unmix.T, 0.0)

    def activity(self, stereo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per frame: which partners speak ((frames, 2) bool) and their power in dB.

        Channel powers are averaged over `SMOOTH` frames (0.45 s) before unmixing:
        frame by frame, reverb makes the ratio of the two channels wander by a few dB,
        which unmixing (ill-conditioned when the crosstalk is strong) would turn into a
        phantom second voice. A partner is heard when their power stands
        `channel_active_db` above the noise and above what an error of `RATIO_SLACK_DB`
        in the channel ratio could make of the other partner's voice (at least
        `channel_overlap_db` below the louder voice, at most 1 dB below it).
        """
        raw = frame_powers(stereo)
        if raw.shape[0] == 0:
            return np.zeros((0, 2), bool), np.zeros((0, 2))
        db = to_db(self.partner_powers(smoothed(raw, SMOOTH)))
        floor = np.percentile(to_db(raw.sum(axis=1)), 10)   # the pauses between words
        active = db > floor + self.options.channel_active_db
        louder = db.max(axis=1, keepdims=True)
        active &= db > louder - self.relative_db[None, :]
        return active, db

    def turn_activity(self, power: np.ndarray) -> np.ndarray:
        """Per frame, which partners speak, for the turn's segments (and the confidence),
        from the unmixed 30 ms `partner_powers`: a partner heard when `channel_active_db`
        above the noise and within `channel_overlap_db` of the louder, smoothed over +-4
        frames. (The smoothed `activity` is stricter about a second voice, which suits
        interruptions, but over a whole turn it gives the owner less time than they spoke.)"""
        db = to_db(power)
        active = db > noise_floor_db(power) + self.options.channel_active_db
        active &= db > db.max(axis=1, keepdims=True) - self.options.channel_overlap_db
        return smoothed(active.astype(float), 9) > 0.4

    def held(self, raw: np.ndarray, power: np.ndarray) -> np.ndarray:
        """(frames, 2) bool: which partner holds each frame, i.e. is the dominant voice;
        from the channels' `frame_powers` and their unmixed `partner_powers`.

        Channel powers are averaged over `HOLD_SMOOTH` frames (150 ms) and unmixed; where
        the louder voice stands `channel_active_db` above the noise, it holds the frame if
        `DOMINANT_DB` louder than the other. A phantom of the other partner left by
        unmixing errors is rarely louder than the voice that makes it, so it holds little.
        """
        if raw.shape[0] == 0:
            return np.zeros((0, 2), bool)
        db = to_db(self.partner_powers(smoothed(raw, HOLD_SMOOTH)))
        heard = db.max(axis=1) > noise_floor_db(power) + self.options.channel_active_db
        lead = db[:, 0] - db[:, 1]
        return np.stack([heard & (lead > DOMINANT_DB), heard & (lead < -DOMINANT_DB)], axis=1)

    @staticmethod
    def turn_votes(held: np.ndarray) -> np.ndarray:
        """(2,) each partner's held frames, weighted by where they lie in the turn: 1 at
        the first and last held frame, `MIDDLE_WEIGHT` at the middle (an interrupter talks
        over the middle; the turn's owner holds its start and end)."""
        frames = np.flatnonzero(held.any(axis=1))
        if frames.size == 0:
            return np.zeros(2)
        where = (np.arange(held.shape[0]) - frames[0]) / max(frames[-1] - frames[0], 1)
        weight = MIDDLE_WEIGHT + (1 - MIDDLE_WEIGHT) * np.clip(np.abs(2 * where - 1), 0, 1)
        return (held * weight[:, None]).sum(axis=0)

    def attribute(self, audio: np.ndarray, expected: str | None = None) -> Attribution:
        """Who spoke this stretch; stereo by level, mono through the fallback identifier."""
        audio = np.asarray(audio, np.float32)
        if audio.ndim == 1 or audio.shape[1] == 1:
            if self.fallback is None:
                raise ValueError("mono audio and no voice identifier to fall back on")
            return self.fallback.attribute(audio.reshape(-1), expected)
        started = time.perf_counter()
        raw = frame_powers(audio)
        power = self.partner_powers(raw)
        active = self.turn_activity(power)
        speaking = active.any(axis=1)
        voiced_s = float(speaking.sum() * FRAME_S)
        if not speaking.any():
            return Attribution(None, 0.0, [], 0.0, 0.0, 1000 * (time.perf_counter() - started),
                               "channels")
        # who holds more of the turn (weighted, see the module docstring) decides it;
        # on a tie, the energy share over the frames where someone speaks
        share = power[speaking].sum(axis=0)
        frac = share / (share.sum() + 1e-20)
        best = int(np.argmax(frac))
        votes = self.turn_votes(self.held(raw, power))
        if votes[0] != votes[1]:
            best = int(np.argmax(votes))
        confidence = float(max(active[:, best].sum() / max(speaking.sum(), 1), frac[best]))
        att = Attribution(self.labels[best], min(1.0, confidence), self._segments(active),
                          voiced_s, 1.0, 0.0, "channels")
        if self.levels_doubtful and self.fallback is not None:
            self._check_by_voice(att, audio, expected)
        att.elapsed_ms = 1000 * (time.perf_counter() - started)
        return att

    def _check_by_voice(self, att: Attribution, stereo: np.ndarray,
                        expected: str | None) -> None:
        """Ill-conditioned mics: the voice (both channels mixed) overrules the levels'
        choice when `VOICE_OVERRULES` sure of the other partner."""
        assert self.fallback is not None
        voice = self.fallback.attribute(stereo.mean(axis=1), expected)
        if (voice.speaker is not None and voice.speaker != att.speaker
                and voice.confidence >= VOICE_OVERRULES):
            att.speaker, att.confidence, att.method = voice.speaker, voice.confidence, \
                "channels+voice"

    def _segments(self, active: np.ndarray) -> list[Segment]:
        """Runs of frames by who speaks: a label, or None where both do (overlap)."""
        segments: list[Segment] = []
        for i, row in enumerate(active):
            if not row.any():
                continue
            label = None if row.all() else self.labels[int(np.argmax(row))]
            start, end = i * FRAME_S, (i + 1) * FRAME_S
            if segments and segments[-1].speaker == label and start - segments[-1].end < 0.3:
                segments[-1] = Segment(segments[-1].start, end, label)
            else:
                segments.append(Segment(start, end, label))
        return segments

    def interruptions(self, audio: np.ndarray, turn_speaker: str,
                      expected: str | None = None) -> list[Interruption]:
        """Stretches >= `min_interruption_s` where the other partner speaks (overlap or not)."""
        audio = np.asarray(audio, np.float32)
        if audio.ndim == 1 or audio.shape[1] == 1:
            if self.fallback is None:
                return []
            return self.fallback.interruptions(self.fallback.attribute(audio.reshape(-1)),
                                               turn_speaker, expected)
        active, _ = self.activity(audio)
        other = 1 - self.labels.index(turn_speaker)
        found: list[Interruption] = []
        run_start = None
        gap = 0
        column = np.append(active[:, other], False)
        for i, on in enumerate(column):
            if on:
                run_start = i if run_start is None else run_start
                gap = 0
            elif run_start is not None:
                gap += 1
                if gap > 10 or i == column.size - 1:   # 300 ms of quiet ends the stretch
                    end = i - gap + 1
                    if (end - run_start) * FRAME_S >= self.options.min_interruption_s:
                        both = active[run_start:end].all(axis=1).mean() > 0.5
                        found.append(Interruption(run_start * FRAME_S, end * FRAME_S,
                                                  self.labels[other],
                                                  "overlap" if both else "talk_over"))
                    run_start, gap = None, 0
        if self.overlap is not None:
            found += self._talk_over_heard(audio, other, found)
        return found

    def _talk_over_heard(self, audio: np.ndarray, other: int,
                         found: list[Interruption]) -> list[Interruption]:
        """Talk-over the levels missed (a quiet interrupter under a loud speaker): the
        overlap network listens to the interrupter's own microphone, where their voice is
        strongest next to the speaker's."""
        channel = int(np.argmax(self.mixing[:, other]))
        stretches = talk_over_stretches(self.overlap.frames(audio[:, channel]),
                                        self.options.talk_over_min_s)
        return [Interruption(start, end, self.labels[other], "overlap")
                for start, end in stretches
                if not any(start < f.end and end > f.start for f in found)]
