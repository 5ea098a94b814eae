"""What the facilitator remembers of a partner's voice (`VoiceProfile`), and how it is kept.

`save_profiles` / `load_profiles` keep profiles in a directory: one `<label>.json` with the
facts and one `<label>.npz` with the voice data each, private to the user (see
`facilitator.paths`). Enrollment (`enrollment.py`) makes profiles; the identifiers
(`identify.py`, `channels.py`) read them.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facilitator.paths import private_dir, write_private

PROFILE_VERSION = 2          # 2: GMM features normalised per utterance (CMVN)


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
