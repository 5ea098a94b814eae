"""Enrollment: check a partner's sample of speech and turn it into a `VoiceProfile`.

`check_enrollment` says whether the audio holds enough clean speech (and why not);
`enroll` builds the profile. The profile and how it is kept (`save_profiles` /
`load_profiles`, one `<label>.json` with the facts and one `<label>.npz` with the voice
data each) are in `profiles.py`, importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facilitator.core import FRAME_MS, SAMPLE_RATE
from facilitator.speakers.audio import frame_levels_db, voiced_mask
from facilitator.speakers.levels import channel_powers_when_voiced
from facilitator.speakers.profiles import (  # noqa: F401 (importable from here, as before)
    PROFILE_VERSION, VoiceProfile, load_profiles, save_profiles,
)
from facilitator.speakers.scoring import Backend


class EnrollmentError(Exception):
    """An enrollment that cannot be used; `check` says what was wrong."""

    def __init__(self, check: "EnrollmentCheck") -> None:
        super().__init__(check.reason)
        self.check = check


@dataclass
class EnrollmentCheck:
    """Verdict on an enrollment recording."""

    ok: bool
    problem: str | None          # None, "silent", "too short" or "too noisy"
    reason: str                  # one sentence for the log or the coach view
    voiced_s: float
    snr_db: float


def estimate_snr_db(audio: np.ndarray, voiced: np.ndarray) -> float:
    """Speech level over voiced 30 ms frames against the level of the unvoiced ones."""
    step = SAMPLE_RATE * FRAME_MS // 1000
    levels = frame_levels_db(audio, step, step)[: voiced.size]
    voiced = voiced[: levels.size]
    if not voiced.any():
        return 0.0
    speech = 10 * np.log10(np.mean(10 ** (levels[voiced] / 10)))
    quiet = levels[~voiced] if (~voiced).sum() >= 5 else np.sort(levels)[: max(1, levels.size // 10)]
    noise = np.percentile(quiet, 50)
    return float(speech - noise)


def check_enrollment(audio: np.ndarray, min_voiced_s: float = 6.0, min_snr_db: float = 10.0,
                     vad_aggressiveness: int = 2) -> EnrollmentCheck:
    """Is there enough clean speech in this mono 16 kHz recording to know the voice?"""
    audio = np.asarray(audio, np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak < 1e-3:
        return EnrollmentCheck(False, "silent", "I could not hear anything.", 0.0, 0.0)
    voiced = voiced_mask(audio, vad_aggressiveness)
    voiced_s = float(voiced.sum() * FRAME_MS / 1000)
    snr = estimate_snr_db(audio, voiced)
    if voiced_s < 0.5:
        return EnrollmentCheck(False, "silent", "I could not hear any speech.", voiced_s, snr)
    if snr < min_snr_db:
        return EnrollmentCheck(False, "too noisy",
                               f"it was too noisy to hear the voice clearly "
                               f"({snr:.0f} dB above the noise, {min_snr_db:.0f} needed).",
                               voiced_s, snr)
    if voiced_s < min_voiced_s:
        return EnrollmentCheck(False, "too short",
                               f"I heard only {voiced_s:.1f} seconds of speech "
                               f"({min_voiced_s:.0f} needed).", voiced_s, snr)
    return EnrollmentCheck(True, None, f"{voiced_s:.1f} s of speech, {snr:.0f} dB above the noise.",
                           voiced_s, snr)


def enroll(label: str, audio: np.ndarray, backend: Backend, name: str = "",
           min_voiced_s: float = 6.0, min_snr_db: float = 10.0,
           vad_aggressiveness: int = 2) -> VoiceProfile:
    """Build a profile from mono float32 16 kHz audio (or (samples, 2) for two mics).

    Raises `EnrollmentError` when `check_enrollment` refuses the audio. With stereo
    input the voice is learnt from the channel mix and the per-channel power of this
    voice is kept for `ChannelAttributor`.
    """
    audio = np.asarray(audio, np.float32)
    channel_power = None
    mono = audio
    if audio.ndim == 2:
        mono = audio.mean(axis=1)
    check = check_enrollment(mono, min_voiced_s, min_snr_db, vad_aggressiveness)
    if not check.ok:
        raise EnrollmentError(check)
    voiced = voiced_mask(mono, vad_aggressiveness)
    if audio.ndim == 2:
        channel_power = channel_powers_when_voiced(audio, voiced)
    return VoiceProfile(label=label, name=name or f"Partner {label}", method=backend.name,
                        data=backend.profile_data(mono, voiced), voiced_s=check.voiced_s,
                        snr_db=check.snr_db, channel_power=channel_power)
