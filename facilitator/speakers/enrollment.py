"""Enrollment: check a partner's sample of speech and turn it into a `VoiceProfile`.

`check_enrollment` says whether the audio holds enough clean speech (and why not);
`enroll` builds the profile; `save_profiles` / `load_profiles` keep them in a directory
(one `<label>.json` with the facts and one `<label>.npz` with the voice data each).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facilitator.paths import private_dir, write_private
from facilitator.speakers.audio import SAMPLE_RATE, VAD_FRAME_MS, frame_levels_db, voiced_mask
from facilitator.speakers.backends import Backend

PROFILE_VERSION = 2          # 2: GMM features normalised per utterance (CMVN)


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


@dataclass
class VoiceProfile:
    """What the facilitator remembers of one partner's voice."""

    label: str                               # "A" or "B"
    name: str                                # the partner's name, for prompts
    method: str                              # backend that made `data`
    data: dict[str, np.ndarray]              # backend-specific voice data
    voiced_s: float = 0.0
    snr_db: float = 0.0
    channel_power: list[float] | None = None  # two mics: mean power of this voice on each channel
    extra: dict[str, object] = field(default_factory=dict)


def estimate_snr_db(audio: np.ndarray, voiced: np.ndarray) -> float:
    """Speech level over voiced 30 ms frames against the level of the unvoiced ones."""
    step = SAMPLE_RATE * VAD_FRAME_MS // 1000
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
    voiced_s = float(voiced.sum() * VAD_FRAME_MS / 1000)
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
        from facilitator.speakers.channels import channel_powers_when_voiced

        channel_power = channel_powers_when_voiced(audio, voiced)
    return VoiceProfile(label=label, name=name or f"Partner {label}", method=backend.name,
                        data=backend.profile_data(mono, voiced), voiced_s=check.voiced_s,
                        snr_db=check.snr_db, channel_power=channel_power)


def save_profiles(profiles: dict[str, VoiceProfile], directory: str | Path) -> list[Path]:
    """Write each profile as <label>.json + <label>.npz; returns the files written.

    Voices are intimate: the folder is made 0700 and each file is written 0600, atomically
    (a profile is never seen half-written), whatever the umask."""
    directory = private_dir(directory)
    written = []
    for label, profile in profiles.items():
        meta = {"version": PROFILE_VERSION, "label": profile.label, "name": profile.name,
                "method": profile.method, "voiced_s": profile.voiced_s,
                "snr_db": profile.snr_db, "channel_power": profile.channel_power,
                "extra": profile.extra}
        voice = io.BytesIO()
        np.savez_compressed(voice, **profile.data)
        npz_path = write_private(directory / f"{label}.npz", voice.getvalue())
        json_path = write_private(directory / f"{label}.json", json.dumps(meta, indent=2))
        written += [json_path, npz_path]
    return written


def load_profiles(directory: str | Path, labels: tuple[str, ...] = ("A", "B")) -> dict[str, VoiceProfile]:
    """Read profiles saved by `save_profiles`; missing labels are left out."""
    directory = Path(directory)
    profiles = {}
    for label in labels:
        json_path = directory / f"{label}.json"
        npz_path = directory / f"{label}.npz"
        if not (json_path.exists() and npz_path.exists()):
            continue
        meta = json.loads(json_path.read_text(encoding="utf-8"))
        if meta.get("version") != PROFILE_VERSION:
            continue
        with np.load(npz_path) as npz:
            data = {k: npz[k] for k in npz.files}
        profiles[label] = VoiceProfile(label=meta["label"], name=meta["name"],
                                       method=meta["method"], data=data,
                                       voiced_s=meta["voiced_s"], snr_db=meta["snr_db"],
                                       channel_power=meta.get("channel_power"),
                                       extra=meta.get("extra", {}))
    return profiles
