"""Who spoke, in the live loop: the hands-free enrollment conversation at the start, and
each turn's speaker, confidence, hand-over point and interruptions afterwards.

    enrollment = VoiceEnrollment(names, options, backend, prompts)
    actions = enrollment.start()                       # Say(...) to speak
    actions, event = enrollment.on_turn(audio, stereo)  # after each turn, until .finished
    who = VoiceAttribution(enrollment.profiles, options, backend).decide(audio, stereo, "B")

Audio arrives as the live loop holds it: int16 mono at 16 kHz, plus int16 (n, 2) in
two-microphone mode. Voice and channel decisions live in `identify` and `channels`.
"""

from __future__ import annotations

import dataclasses
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from facilitator.core import Action, Expectation, Finished, HeardTurn, Note, Say
from facilitator.loading import Loading
from facilitator.prompts import fill
from facilitator.speakers.audio import AudioFileError
from facilitator.speakers.backends import Backend, BackendUnavailable, make_backend
from facilitator.speakers.channels import ChannelAttributor
from facilitator.speakers.decision import Interruption, Segment
from facilitator.speakers.enrollment import EnrollmentError, check_enrollment, enroll
from facilitator.speakers.identify import SpeakerIdentifier
from facilitator.speakers.options import SpeakersOptions
from facilitator.speakers.profiles import VoiceProfile, load_profiles, save_profiles
from facilitator.speakers.recordings import RECORDING_FIX, recording_problem
from facilitator.speakers.recordings import enroll_files as profiles_from_files

LABELS = ("A", "B")
MIN_RUN_S = 0.3          # shorter stretches of a voice are ignored when looking for a hand-over


def as_float(audio: np.ndarray | None) -> np.ndarray | None:
    if audio is None:
        return None
    if audio.dtype == np.int16:
        return audio.astype(np.float32) / 32768.0
    return np.asarray(audio, np.float32)


@dataclass
class WhoSpoke:
    """The speaker room's answer for one turn."""

    speaker: str | None                 # "A", "B", or None: a voice that is neither partner
    confidence: float | None            # 0..1; None when decided by turn order alone
    method: str                         # "voice", "channels" or "turn_order"
    segments: list[Segment] = field(default_factory=list)
    interruptions: list[Interruption] = field(default_factory=list)
    handover: float | None = None       # s into the audio where one partner hands over to the other
    elapsed_ms: float = 0.0

    def record_fields(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "speaker": self.speaker,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "speaker_method": self.method,
        }
        if self.segments:
            fields["speaker_segments"] = [[round(s.start, 2), round(s.end, 2), s.speaker]
                                          for s in self.segments]
        return fields


class TurnOrder:
    """No voices known: the partner whose turn it is, with no confidence."""

    method = "turn_order"

    def decide(self, audio: np.ndarray, stereo: np.ndarray | None,
               expected: str | None) -> WhoSpoke:
        return WhoSpoke(expected, None, self.method)


def find_handover(segments: list[Segment], min_s: float) -> float | None:
    """Where one partner stops and the other goes on to the end, both for `min_s` or more."""
    runs: list[list] = []
    for seg in segments:
        if seg.speaker is None or seg.end - seg.start < MIN_RUN_S:
            continue
        if runs and runs[-1][0] == seg.speaker:
            runs[-1][2] = seg.end
        else:
            runs.append([seg.speaker, seg.start, seg.end])
    if len(runs) != 2:
        return None
    (_, a_start, a_end), (_, b_start, b_end) = runs
    if a_end - a_start >= min_s and b_end - b_start >= min_s:
        return float(b_start)
    return None


class VoiceAttribution:
    """Both partners enrolled: decides each turn from the voice, or from the channel levels
    when the input is stereo and the enrollment measured both microphones."""

    def __init__(self, profiles: dict[str, VoiceProfile], options: SpeakersOptions,
                 backend: Backend | None = None, min_handover_s: float = 1.5) -> None:
        self.options = options
        self.min_handover_s = min_handover_s
        self.identifier = SpeakerIdentifier(profiles, options, backend)
        self.channels = None
        if all(p.channel_power for p in profiles.values()):
            self.channels = ChannelAttributor(profiles, options, fallback=self.identifier)
        self.method = "channels" if self.channels is not None else "voice"

    def decide(self, audio: np.ndarray, stereo: np.ndarray | None,
               expected: str | None) -> WhoSpoke:
        started = time.perf_counter()
        stereo_f = as_float(stereo)
        if self.channels is not None and stereo_f is not None and stereo_f.ndim == 2:
            att = self.channels.attribute(stereo_f, expected)
            method = "channels"
            interruptions = (self.channels.interruptions(stereo_f, att.speaker)
                             if att.speaker else [])
        else:
            att = self.identifier.attribute(as_float(audio), expected)
            method = "voice"
            interruptions = self.identifier.interruptions(att, att.speaker)
        handover = find_handover(att.segments, self.min_handover_s) if att.speaker else None
        if handover is not None:
            interruptions = []
        return WhoSpoke(att.speaker, att.confidence, method, list(att.segments), interruptions,
                        handover, 1000 * (time.perf_counter() - started))


class VoiceEnrollment:
    """The enrollment conversation: asks each partner by name for a few sentences, checks
    there is enough clean speech (asking again, up to `enroll_max_tries`), and keeps a
    `VoiceProfile` per partner. Too-short answers add up; silent or noisy ones are dropped.

    It speaks the conversation protocol (`facilitator.core.Conversation`): each answer gives
    an `enrollment` note and what to say next; once both are done, `on_learnt(self)` turns the
    profiles into the attributor (and returns its method), a `speakers` note is written and
    the conversation finishes with "enrolled".
    """

    def __init__(self, names: dict[str, str], options: SpeakersOptions, backend: Backend | None,
                 prompts: dict[str, str], stereo: bool = False,
                 on_learnt: "Callable[[VoiceEnrollment], str] | None" = None) -> None:
        self.names = names
        self.on_learnt = on_learnt
        self.options = options
        self._backend: Backend | Loading | None = backend   # None: loaded from start() on
        self.prompts = prompts
        self.stereo = stereo
        self.profiles: dict[str, VoiceProfile] = {}
        self.failed: list[str] = []
        self.index = 0
        self.attempt = 0
        self._heard: list[tuple[np.ndarray, np.ndarray | None]] = []

    @property
    def finished(self) -> bool:
        return self.index >= len(LABELS)

    @property
    def speaker(self) -> str | None:
        return None if self.finished else LABELS[self.index]

    @property
    def step(self) -> str:
        return "enrolled" if self.finished else f"enroll_{self.speaker}"

    @property
    def expectation(self) -> Expectation:
        return Expectation(self.step, "enroll", self.speaker, [], judged=False)

    def _say(self, key: str, label: str | None = None) -> Say:
        name = self.names.get(label or "", "")
        return Say(fill(self.prompts[key], name=name), f"enroll_{key}")

    @property
    def backend(self) -> Backend:
        """The voice model; made on a thread while the first request is spoken."""
        if self._backend is None:
            self._backend = make_backend(self.options.method)
        if isinstance(self._backend, Loading):
            try:
                self._backend = self._backend.ready()
            except BackendUnavailable:       # the CAM++ weights would not load: the GMM needs none
                self._backend = make_backend("gmm")
        return self._backend

    def start(self) -> list[Say]:
        if self._backend is None:
            self._backend = Loading(make_backend, self.options.method, name="voice-model")
        return [self._say("ask_first", LABELS[0])]

    def on_silence(self) -> list[Action]:
        """Nobody answered the request: counts as a silent try."""
        return self._conversation_actions(*self._tried(None))

    def on_turn(self, turn: HeardTurn) -> list[Action]:
        """One answer heard: the record note, then what to say next."""
        actions, event = self.heard(turn.audio, turn.stereo)
        event["text"] = turn.text
        return self._conversation_actions(actions, event)

    def skip(self) -> list[Action]:
        """Skipping a partner's enrollment: that partner goes by turn order."""
        label = self.speaker
        if label is None:
            return []
        self.failed.append(label)
        event = {"type": "enrollment", "speaker": label, "attempt": self.attempt, "ok": False,
                 "problem": "skipped", "reason": "skipped", "voiced_s": 0.0, "snr_db": 0.0,
                 "gave_up": True}
        return self._conversation_actions(self._next(), event)

    def override(self, passed: bool) -> list[Action]:
        return []

    def heard(self, audio: np.ndarray, stereo: np.ndarray | None = None
              ) -> tuple[list[Say], dict[str, object]]:
        """One answer heard: returns what to say next and the record event."""
        mono = as_float(audio)
        both = as_float(stereo) if self.stereo else None
        return self._tried((mono, both))

    def _conversation_actions(self, says: list[Say], event: dict[str, object]) -> list[Action]:
        kind = str(event.pop("type"))
        actions: list[Action] = [Note(kind, event), *says]
        if self.finished:
            method = self.on_learnt(self) if self.on_learnt is not None else "turn_order"
            actions.append(Note("speakers", {"method": method, "model": self.backend.name,
                                             "enrolled": sorted(self.profiles),
                                             "failed": list(self.failed)}))
            actions.append(Finished("enrolled"))
        return actions

    def _tried(self, heard: tuple[np.ndarray, np.ndarray | None] | None
               ) -> tuple[list[Say], dict[str, object]]:
        label = LABELS[self.index]
        self.attempt += 1
        if heard is not None:
            self._heard.append(heard)
        mono = (np.concatenate([m for m, _ in self._heard]) if self._heard
                else np.zeros(0, np.float32))
        options = self.options
        check = check_enrollment(mono, options.enroll_min_voiced_s, options.enroll_min_snr_db,
                                 options.vad_aggressiveness)
        event: dict[str, object] = {
            "type": "enrollment", "speaker": label, "attempt": self.attempt, "ok": check.ok,
            "problem": check.problem, "reason": check.reason,
            "voiced_s": round(check.voiced_s, 2), "snr_db": round(check.snr_db, 1)}
        if check.ok:
            stereo_parts = [s for _, s in self._heard if s is not None]
            audio = (np.concatenate(stereo_parts) if self.stereo and
                     len(stereo_parts) == len(self._heard) else mono)
            self.profiles[label] = enroll(label, audio, self.backend, self.names.get(label, ""),
                                          options.enroll_min_voiced_s, options.enroll_min_snr_db,
                                          options.vad_aggressiveness)
            return self._next(), event
        if check.problem != "too short":
            self._heard = []
        if self.attempt >= options.enroll_max_tries:
            self.failed.append(label)
            event["gave_up"] = True
            return [self._say("failed", label)] + self._next(), event
        problem = (check.problem or "silent").replace(" ", "_")
        return [self._say(f"again_{problem}", label)], event

    def _next(self) -> list[Say]:
        self.index += 1
        self.attempt = 0
        self._heard = []
        if not self.finished:
            return [self._say("ask", LABELS[self.index])]
        return [self._say("done")] if len(self.profiles) == len(LABELS) else []


class SpeakerSetupError(Exception):
    """Recorded enrollments that cannot be used, worded for the person who gave them."""


@dataclass
class SpeakerSetup:
    """What the live loop starts with: an attributor now, or an enrollment to hold first."""

    attributor: object
    enrollment: VoiceEnrollment | None = None
    greeting: list[Say] = field(default_factory=list)
    backend: Backend | None = None


def prepare(options: SpeakersOptions, names: dict[str, str], prompts: dict[str, str],
            stereo: bool = False, enroll_files: dict[str, object] | None = None,
            profiles_dir: object = None, resumed_dir: object = None) -> SpeakerSetup:
    """Recorded enrollments (`--enroll`), the interrupted session's voices (`resumed_dir`),
    saved profiles (opt-in) or, failing those, a live enrollment."""
    if options.method == "turn_order":
        return SpeakerSetup(TurnOrder())
    method = resolved_method(options.method)
    if method != options.method:
        options = dataclasses.replace(options, method=method)

    def model() -> Backend:
        try:
            return make_backend(method)
        except BackendUnavailable as error:
            raise SpeakerSetupError(f"voice model {method!r}: {error}") from None

    if enroll_files:
        if set(enroll_files) != set(LABELS):
            raise SpeakerSetupError("give both partners' recordings: --enroll A=FILE --enroll B=FILE")
        files = {k: Path(str(v)) for k, v in enroll_files.items()}
        for path in files.values():     # checked before a voice model is loaded for them
            problem = recording_problem(path)
            if problem is not None:
                raise SpeakerSetupError(f"cannot read the enrollment recording {path}: "
                                        f"{problem}. {RECORDING_FIX}")
        backend = model()
        try:
            profiles = profiles_from_files(files, options, backend, names, stereo)
        except EnrollmentError as error:
            where = f" ({error.path})" if getattr(error, "path", None) else ""
            raise SpeakerSetupError(f"an enrollment recording{where} has too little clean speech: "
                                    f"{error.check.reason} Record 8-10 s of speech.") from None
        except AudioFileError as error:
            raise SpeakerSetupError(f"{error}. {RECORDING_FIX}") from None
        except (wave.Error, EOFError, ValueError, OSError) as error:
            raise SpeakerSetupError(f"cannot read an enrollment recording ({error}). "
                                    f"{RECORDING_FIX}") from None
        return SpeakerSetup(voice_attribution(profiles, options, backend), backend=backend)
    if resumed_dir is not None and Path(str(resumed_dir)).is_dir():
        kept = load_profiles(Path(str(resumed_dir)))
        if set(kept) == set(LABELS) and all(p.method == method for p in kept.values()):
            backend = model()
            return SpeakerSetup(voice_attribution(kept, options, backend), backend=backend)
    if options.save_profiles and profiles_dir is not None:
        saved = load_profiles(Path(str(profiles_dir)))
        if (set(saved) == set(LABELS) and all(p.method == method for p in saved.values())
                and all(saved[k].name == names.get(k) for k in LABELS)
                and (not stereo or all(p.channel_power for p in saved.values()))):
            greeting = Say(fill(prompts["welcome_back"], a=names["A"], b=names["B"]),
                           "enroll_welcome_back")
            backend = model()
            return SpeakerSetup(voice_attribution(saved, options, backend), None, [greeting], backend)
    enrollment = VoiceEnrollment(names, options, None, prompts, stereo)
    return SpeakerSetup(TurnOrder(), enrollment, [], None)


def resolved_method(method: str) -> str:
    """"auto" is "campplus" when the CAM++ weights are installed, else "gmm"."""
    if method != "auto":
        return method
    from facilitator.speakers.campplus import WeightsMissing, find_weights

    try:
        find_weights()
        return "campplus"
    except WeightsMissing:
        return "gmm"


def after_enrollment(enrollment: VoiceEnrollment, options: SpeakersOptions,
                     profiles_dir: object = None, session_dir: object = None) -> object:
    """The attributor once the voices are learnt (turn order if one could not be).

    The profiles are kept in `session_dir` (beside the record) until the session ends, so
    that `facilitator resume` need not ask again; in `profiles_dir` only when the couple
    opted in (`save_profiles`)."""
    if len(enrollment.profiles) < len(LABELS):
        return TurnOrder()
    if session_dir is not None:
        save_profiles(enrollment.profiles, Path(str(session_dir)))
    if options.save_profiles and profiles_dir is not None:
        save_profiles(enrollment.profiles, Path(str(profiles_dir)))
    return voice_attribution(enrollment.profiles, options, enrollment.backend)


def voice_attribution(profiles: dict[str, VoiceProfile], options: SpeakersOptions,
                      backend: Backend | None) -> VoiceAttribution:
    return VoiceAttribution(profiles, options, backend, options.handover_min_s)
