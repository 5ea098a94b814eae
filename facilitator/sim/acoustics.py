"""The simulated room's acoustics: reverb on what the microphone hears, and room noise.

A `RoomAcoustics` is made once per simulated session from its `[room]` settings and the
partners' rendered lines. It reuses the speaker benchmark's room pieces
(`facilitator.sim.mixing`: a synthetic impulse response, pink noise, the speech level):

- `reverb_s` (RT60 in seconds): the partners' lines, and the facilitator's prompts heard
  from its loudspeaker (`echo`), pass through a synthetic room impulse response each (the
  partners share one position, the loudspeaker has its own), tail kept, speech level kept;
- `noise_snr_db`: steady pink room noise, `noise_snr_db` dB below the partners' mean speech
  level, under everything the microphone hears (also between the lines).

Everything is drawn from one seeded generator, so a session sounds the same every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.sim.mixing import pink_noise, speech_rms, synthetic_rir

DEFAULT_REVERB_S = 0.4      # RT60 of `reverb = true`: a furnished living room
NOISE_LOOP_S = 10.0         # the room noise is this long a loop


@dataclass
class RoomAcoustics:
    reverb_s: float | None = None          # RT60; None: a dry room
    noise_snr_db: float | None = None      # None: no room noise
    speech_level: float = 0.0              # the partners' speech level (int16 RMS) the SNR is measured from
    seed: int = 0
    _partners_rir: np.ndarray | None = field(default=None, init=False, repr=False)
    _speaker_rir: np.ndarray | None = field(default=None, init=False, repr=False)
    _noise: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        if self.reverb_s:
            self._partners_rir = synthetic_rir(self.reverb_s, rng)
            self._speaker_rir = synthetic_rir(self.reverb_s, rng)
        if self.noise_snr_db is not None and self.speech_level > 0:
            level = self.speech_level / 10 ** (self.noise_snr_db / 20)
            self._noise = (pink_noise(int(NOISE_LOOP_S * SAMPLE_RATE), rng) * level).astype(np.float32)

    @classmethod
    def for_lines(cls, audios: list[np.ndarray], reverb_s: float | None = None,
                  noise_snr_db: float | None = None, seed: int = 0) -> "RoomAcoustics":
        """The room for these rendered lines: the noise level is set from their mean speech level."""
        levels = [speech_rms(np.asarray(a, np.float64)) for a in audios if a is not None and len(a)]
        level = float(np.sqrt(np.mean(np.square(levels)))) if levels else 0.0
        return cls(reverb_s=reverb_s, noise_snr_db=noise_snr_db, speech_level=level, seed=seed)

    @property
    def active(self) -> bool:
        return self._partners_rir is not None or self._noise is not None

    def partner(self, audio: np.ndarray) -> np.ndarray:
        """A partner's line as the microphone hears it in this room (int16, with its tail)."""
        return _reverberant(audio, self._partners_rir)

    def loudspeaker(self, audio: np.ndarray) -> np.ndarray:
        """The facilitator's prompt from the loudspeaker, as the microphone hears it."""
        return _reverberant(audio, self._speaker_rir)

    def noise(self, start: int, n: int) -> np.ndarray | None:
        """`n` samples of room noise from sample `start` of the session (float, int16 scale)."""
        if self._noise is None:
            return None
        loop = self._noise
        at = np.arange(start, start + n) % loop.size
        return loop[at]


def _reverberant(audio: np.ndarray, rir: np.ndarray | None) -> np.ndarray:
    """`audio` (int16) convolved with `rir`, the tail kept, at the same speech level."""
    audio = np.asarray(audio)
    if rir is None or audio.size == 0:
        return audio
    dry = audio.astype(np.float64)
    n = dry.size + rir.size - 1
    size = 1 << (n - 1).bit_length()
    wet = np.fft.irfft(np.fft.rfft(dry, size) * np.fft.rfft(rir.astype(np.float64), size), size)[:n]
    wet *= speech_rms(dry) / (speech_rms(wet) + 1e-12)
    return np.clip(np.round(wet), -32768, 32767).astype(np.int16)
