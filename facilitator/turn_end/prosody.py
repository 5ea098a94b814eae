"""The voice at the end of the speech: a final pitch fall and final lengthening.

`analyse(audio, speech_end_s)` looks only at the tail of the turn (`window_s` before the
speech end, 1.6 s by default, so a 10 s turn costs what a 2 s one does: about 5 ms on one
core) and reports:
- `final_st`: where the pitch of the last voiced `final_s` (0.3 s) ends, in semitones
  against the median of the window (the speaker's recent level): well below says finished,
  level or above says more is coming;
- `slope_st`: the pitch movement within those last 0.3 s, in semitones;
- `lengthening`: the last syllable (from the last dip in loudness to the speech end)
  against the window's typical syllable (the median time between loudness peaks);
- `state`: "final", "continuing" or "unknown", and `score` in [-1, 1] (positive: finished).
Silence, noise, clipped or very short audio give "unknown", never an exception.

Pitch is Praat's autocorrelation tracker through Parselmouth (praat-parselmouth, GPL-3.0).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _parselmouth():  # noqa: ANN202
    """praat-parselmouth, imported at the first pitch asked for (it costs ~73 MB of RSS,
    so a words-only ThoughtEnd never loads it); None when it is not installed."""
    try:
        import parselmouth
    except ImportError:  # pragma: no cover - a dependency; without it the voice is "unknown"
        return None
    return parselmouth

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class ProsodyOptions:
    """How the tail of a turn is read.

    window_s: how much audio before the speech end is analysed (the reference level is its
      median pitch); longer is steadier and slower.
    final_s: the last voiced stretch whose pitch movement counts.
    pitch_floor / pitch_ceiling: Hz, the range of adult voices (Praat's defaults are 75/600).
    fall_st: a final level this many semitones below the median, or a movement this large
      downwards, is a fall ("final").
    rise_st: a final level or movement this many semitones upwards is a rise ("continuing").
    min_voiced_s: less voiced audio than this in the window is "unknown".
    lengthening: a last syllable this many times the typical one counts as final lengthening.
    """

    window_s: float = 1.6
    final_s: float = 0.3
    pitch_floor: float = 70.0
    pitch_ceiling: float = 450.0
    fall_st: float = 2.0
    rise_st: float = 0.5
    min_voiced_s: float = 0.25
    lengthening: float = 1.3


@dataclass(frozen=True)
class Prosody:
    state: str                          # "final" | "continuing" | "unknown"
    score: float = 0.0                  # [-1, 1]: + finished, - more coming, 0 unknown
    final_st: float | None = None       # final level vs the window's median (semitones)
    slope_st: float | None = None       # movement over the last voiced final_s (semitones)
    lengthening: float | None = None    # last syllable / typical syllable
    reason: str = ""

    @property
    def fall_st(self) -> float | None:
        """How far the pitch fell at the end (positive: a fall), the larger of level and movement."""
        if self.final_st is None or self.slope_st is None:
            return None
        return round(max(-self.final_st, -self.slope_st), 2)


UNKNOWN = Prosody("unknown", reason="no audio")


def _as_float(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio)
    if audio.ndim > 1:
        audio = audio.mean(axis=1) if audio.shape[1] < audio.shape[0] else audio.mean(axis=0)
    if audio.dtype == np.int16:
        return audio.astype(np.float64) / 32768.0
    if np.issubdtype(audio.dtype, np.integer):
        return audio.astype(np.float64) / float(np.iinfo(audio.dtype).max)
    return np.nan_to_num(audio.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def _syllables(x: np.ndarray, sample_rate: int, voiced_until: float) -> float | None:
    """The last syllable's length against the typical one, from the loudness envelope."""
    hop = sample_rate // 100
    n = len(x) // hop
    if n < 20:
        return None
    frames = x[: n * hop].reshape(n, hop)
    db = 10 * np.log10(np.mean(frames * frames, axis=1) + 1e-10)
    db = np.convolve(db, np.ones(3) / 3, mode="same")
    top = db.max()
    peaks = [i for i in range(3, n - 1) if db[i] >= top - 25 and db[i] == db[max(0, i - 5): i + 6].max()
             and db[i] - db[max(0, i - 8): i].min() >= 3]
    if len(peaks) < 3:
        return None
    typical = float(np.median(np.diff(peaks))) / 100
    last_dip = peaks[-2] + int(np.argmin(db[peaks[-2]: peaks[-1] + 1]))
    last = voiced_until - last_dip / 100
    if typical <= 0 or last <= 0:
        return None
    return round(last / typical, 2)


def analyse(audio: np.ndarray | None, speech_end_s: float | None, sample_rate: int = SAMPLE_RATE,
            options: ProsodyOptions = ProsodyOptions()) -> Prosody:
    """The prosody of the end of the speech at `speech_end_s` (seconds from the start of `audio`;
    None: the end of `audio`). Never raises: anything unreadable is "unknown"."""
    try:
        return _analyse(audio, speech_end_s, sample_rate, options)
    except Exception as error:  # noqa: BLE001 - the voice is a hint; a bad one must not stop the turn
        log.debug("prosody unknown: %s", error)
        return Prosody("unknown", reason=f"error: {error}")


def _analyse(audio, speech_end_s, sample_rate, o: ProsodyOptions) -> Prosody:
    if audio is None or len(audio) == 0:
        return UNKNOWN
    x = _as_float(audio)
    end = len(x) if speech_end_s is None else int(round(float(speech_end_s) * sample_rate))
    end = min(max(end, 0), len(x))
    start = max(0, end - int(o.window_s * sample_rate))
    tail = x[start: min(len(x), end + sample_rate // 20)]
    if len(tail) < int(0.3 * sample_rate):
        return Prosody("unknown", reason="too short")
    if float(np.sqrt(np.mean(tail * tail))) < 1e-4:
        return Prosody("unknown", reason="silence")
    parselmouth = _parselmouth()
    if parselmouth is None:
        return Prosody("unknown", reason="praat-parselmouth is not installed")
    sound = parselmouth.Sound(tail, sampling_frequency=sample_rate)
    pitch = sound.to_pitch_ac(time_step=0.01, pitch_floor=o.pitch_floor, pitch_ceiling=o.pitch_ceiling)
    f0 = pitch.selected_array["frequency"]
    strength = pitch.selected_array["strength"]
    times = pitch.xs()
    voiced = (f0 > 0) & (times <= (end - start) / sample_rate + 0.02)
    if voiced.sum() * 0.01 < o.min_voiced_s:
        return Prosody("unknown", reason="too little voice")
    if float(np.mean(strength[voiced])) < 0.45:
        return Prosody("unknown", reason="weak voicing (noise?)")
    st = 12 * np.log2(f0[voiced] / 100.0)
    t = times[voiced]
    median = float(np.median(st))
    keep = np.abs(st - median) <= 9          # octave errors
    st, t = st[keep], t[keep]
    last_t = float(t[-1])
    final = t >= last_t - o.final_s
    if final.sum() < 6:
        return Prosody("unknown", reason="too little voice at the end")
    level = float(np.median(st[t >= last_t - 0.1])) - median
    ft, fs = t[final], st[final]
    slope = float(np.polyfit(ft - ft[0], fs, 1)[0]) * float(ft[-1] - ft[0])
    lengthening = _syllables(tail, sample_rate, last_t)
    fall = max(-level, -slope)
    rise = max(level, slope)
    score = float(np.clip((fall - 0.5) / (o.fall_st + 1.0), -1, 1))
    if lengthening is not None:
        score = 0.75 * score + 0.25 * float(np.clip((lengthening - 1.0) / (o.lengthening - 0.7), -1, 1))
    if fall >= o.fall_st and score > 0:
        state = "final"
    elif rise >= o.rise_st or fall < 0.5:
        state = "continuing"
        score = min(score, -0.1)
    else:
        state = "unknown"
    return Prosody(state, round(score, 3), round(level, 2), round(slope, 2), lengthening,
                   reason=f"{len(st)} voiced frames")
