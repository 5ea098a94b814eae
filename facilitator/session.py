"""The live loop: wires the rooms together and does nothing else.

audio in -> voice activity / turn end -> who spoke -> transcript -> judge -> dialogue
-> prompt spoken -> session record (every step publishes an event on the bus; the record
writer, the display and any other listener subscribe to it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from facilitator import prompts as prompt_files
from facilitator.audio_in import AudioSource, DeviceLost, AudioInputError
from facilitator.config import Config
from facilitator.dialogue import Dialogue, Finished, Say, StepStarted
from facilitator.events import Control, ControlQueue, EventBus
from facilitator.judging import Judge
from facilitator.loading import Loading
from facilitator.record import RecordWriteError
from facilitator.speakers.live import TurnOrder, VoiceEnrollment, WhoSpoke
from facilitator.speech_out import SpeechError, Voice
from facilitator.spoken_commands import CommandReader
from facilitator.transcribe import Transcriber
from facilitator.turns import EndOfTurnPolicy, Pause, TurnAudio, TurnSegmenter

SAMPLE_RATE = 16000
COMMIT_CHUNK_S = 3.0     # transcribed stretches at least this long are kept as they are
WHO_SPOKE_EARLY = 0.5    # who spoke starts after this share of `pause_ms` of silence, so that
                         # its work is mostly done before the pause starts the transcription
LONG_TURN_S = 12.0       # longer turns are worked out early less often (see _worth_deciding_again)
REDECIDE_GROWTH = 0.3


def _worth_deciding_again(length_s: float, new_speech_s: float) -> bool:
    """Early who-spoke at every pause costs work in proportion to the turn, so a long turn
    (a monologue) would cost its square: past `LONG_TURN_S` a new early answer waits until
    the turn has grown by `REDECIDE_GROWTH` of that excess (the turn's end decides anyway)."""
    return new_speech_s >= REDECIDE_GROWTH * max(0.0, length_s - LONG_TURN_S)


class Attributor(Protocol):
    """Who spoke a turn (the speaker room, `facilitator.speakers.live`)."""

    def decide(self, audio: np.ndarray, stereo: np.ndarray | None,
               expected: str | None) -> WhoSpoke: ...


@dataclass
class OpenTurn:
    """Words recognised so far in the turn being spoken."""

    committed_text: str = ""
    committed_until: float | None = None
    pending_text: str = ""
    transcribed_speech_end: float = -1.0
    last_voice_arrival: float = 0.0
    last_speech_end: float = 0.0
    deciding: "Loading[WhoSpoke] | None" = None   # who spoke, started at the pause ...
    decided_speech_end: float = -1.0               # ... for the speech up to here

    @property
    def text(self) -> str:
        return " ".join(p for p in (self.committed_text, self.pending_text) if p).strip()


class Session:
    def __init__(self, config: Config, source: AudioSource, voice: Voice,
                 transcriber: Transcriber, judge: Judge, dialogue: Dialogue, bus: EventBus,
                 controls: ControlQueue | None = None,
                 attributor: Attributor | None = None,
                 enrollment: VoiceEnrollment | None = None,
                 on_enrolled: Callable[[VoiceEnrollment], Attributor] | None = None):
        self.config = config
        self.source = source
        self.voice = voice
        self.transcriber = transcriber
        self.judge = judge
        self.dialogue = dialogue
        self.bus = bus
        self.controls = controls or ControlQueue()
        self.attributor: Attributor = attributor or TurnOrder()
        self.enrollment = enrollment   # learning the voices first; then `on_enrolled` gives the attributor
        self.on_enrolled = on_enrolled
        self.speakers = getattr(config, "speakers", None)
        self._wrong_speaker_turns = 0  # reminders in a row: after two the turn is taken anyway
        self.intro: list[Say] = []     # said before anything else (e.g. "I remember your voices")
        self.enroll_only = False       # `facilitator enroll`: stop once the voices are learnt
        self.segmenter = TurnSegmenter(config.turns)
        self.policy = EndOfTurnPolicy(config.turns)
        self.commands = CommandReader()
        self.common_prompts = prompt_files.common()["prompts"]
        self.speaker_prompts = prompt_files.common()["speakers"]
        self.now = 0.0                 # input time of the latest frame's end
        self.mute_until = 0.0          # microphone ignored until then (the facilitator speaks)
        self.last_activity = 0.0
        self.paused = False
        self.last_prompt: str | None = None
        self.pending: list[tuple[str, str]] = []
        self.open: OpenTurn | None = None
        self.end_reason: str | None = None
        self.turn_count = 0
        self.time_offset = 0.0         # a resumed session goes on after its record's last time
        self.start_actions = None      # actions to begin with instead of the script's start
        self._handling_turn = False    # prompts wait until the finished turn is fully handled

    # -- events -------------------------------------------------------------------------
    def publish(self, event_type: str, **fields) -> None:
        for key in ("start", "end"):
            if key in fields and self.time_offset:
                fields[key] = round(fields[key] + self.time_offset, 3)
        self.bus.publish({"type": event_type, "t": round(self.now + self.time_offset, 3), **fields})

    @property
    def step_name(self) -> str:
        return self.enrollment.step if self.enrollment is not None else self.dialogue.step.name

    @property
    def expected_speaker(self) -> str | None:
        if self.enrollment is not None:
            return self.enrollment.speaker
        return self.dialogue.expectation.speaker

    @property
    def cues(self) -> list[str]:
        return [] if self.enrollment is not None else self.dialogue.expectation.cues

    def _begin_dialogue(self) -> None:
        self._do(self.start_actions if self.start_actions is not None else self.dialogue.start())

    # -- speaking -----------------------------------------------------------------------
    def say(self, text: str, key: str) -> None:
        """Queue a sentence; it is spoken as soon as no partner is mid-turn."""
        self.pending.append((text, key))
        if self.segmenter.turn is None and not self._handling_turn:
            self._speak_pending()

    def _speak_pending(self) -> None:
        while self.pending:
            text, key = self.pending.pop(0)
            self.publish("prompt", text=text, key=key)
            # A microphone may have captured more than the loop has read: mute from what it heard last.
            start_input = max(self.now, getattr(self.source, "captured_s", 0.0))
            started_wall = time.monotonic()
            try:
                spoken = self.voice.say(text)
            except SpeechError as error:
                self.publish("error", message=f"could not play the prompt: {error}")
                continue
            if key not in self.common_prompts and key != "repeat":
                self.last_prompt = text
            played = max(spoken.duration, time.monotonic() - started_wall)
            self.bus.publish({"type": "_spoken", "t": start_input, "text": text,
                              "started": spoken.started, "duration": spoken.duration,
                              "audio": spoken.audio, "rate": spoken.rate})
            self.mute_until = max(self.mute_until, start_input + played
                                  + self.config.turns.speaking_tail_ms / 1000)
            self.last_activity = self.mute_until
        self.segmenter.reset()
        self.bus.publish({"type": "_listening", "t": round(self.now, 3), "after": self.mute_until,
                          "step": self.step_name})

    def _do(self, actions) -> None:
        for action in actions:
            if isinstance(action, StepStarted):
                self.publish("step", name=action.name, round=action.round, sender=action.sender,
                             receiver=action.receiver, messages=action.messages)
            elif isinstance(action, Say):
                self.say(action.text, action.key)
            elif isinstance(action, Finished):
                self.end_reason = action.reason

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> str:
        try:
            self._do(self.intro)
            if self.enrollment is not None:
                self._do(self.enrollment.start())
            else:
                self._begin_dialogue()
            self.bus.publish({"type": "_ready", "t": self.now})
            for frame in self.source.frames():
                self._controls()
                if self.end_reason:
                    break
                self.now = frame.end
                if frame.t < self.mute_until:
                    continue
                self._frame(frame)
                if self.end_reason:
                    break
            else:
                if self.segmenter.turn is not None:
                    self._finish_turn("input_end")
                if not self.end_reason:
                    self.end_reason = "input_end"
        except DeviceLost as error:
            self.publish("error", message=str(error))
            self.end_reason = "device_lost"
        except AudioInputError as error:
            self.publish("error", message=str(error))
            self.end_reason = "error"
        except KeyboardInterrupt:
            self.end_reason = "stopped"
        except RecordWriteError as error:
            self.publish("error", message=str(error))
            self.end_reason = "error"
        except Exception as error:   # noqa: BLE001 - a defect: say so in the record, end cleanly
            logging.getLogger("facilitator").debug("session failed", exc_info=True)
            self.publish("error", message=f"internal error: {type(error).__name__}: {error}")
            self.end_reason = "error"
        finally:
            self.publish("end", reason=self.end_reason or "error")
            self.source.close()
        return self.end_reason or "error"

    def _frame(self, frame) -> None:
        event = self.segmenter.push(frame.samples, frame.t, frame.channels)
        turn = self.segmenter.turn
        if event == "start":
            self.open = OpenTurn(committed_until=turn.start)
        if turn is not None and self.open is not None:
            self.last_activity = self.now   # (finishing the turn below may speak: that moves it on)
            if turn.speech_end != self.open.last_speech_end:
                self.open.last_speech_end = turn.speech_end
                self.open.last_voice_arrival = frame.arrived
            if isinstance(event, Pause):
                if event.first:
                    self._decide_who_so_far(turn)
                    self._transcribe_so_far(turn)
                if self.paused:
                    reason = "command" if self.commands.read(self.open.text) else None
                    reason = reason or (None if event.silence_s < self.config.turns.complete_end_s else "silence")
                else:
                    reason = self.policy.decide(self.open.text, event.silence_s,
                                                self.cues)
                    if not reason and event.first and self.commands.read(self.open.text):
                        reason = "command"
                if reason:
                    self._finish_turn(reason)
            elif turn.speech_end - turn.speech_start > self.config.turns.max_turn_s:
                self._finish_turn("max_length")
            elif self.segmenter.silence_ms >= WHO_SPOKE_EARLY * self.config.turns.pause_ms:
                self._decide_who_so_far(turn)
        elif (not self.paused and self.now - self.last_activity > self.config.turns.silence_reprompt_s
              and not self.dialogue.finished):
            if self.enrollment is not None:
                self.last_activity = self.now
                self._enrollment_step(*self.enrollment.on_silence())
                return
            speaker = self.dialogue.expectation.speaker
            name = self.dialogue.names.get(speaker, "") if speaker else ""
            self.last_activity = self.now
            self.say(prompt_files.fill(self.common_prompts["silence_reminder"], speaker=name),
                     "silence_reminder")

    def _decide_who_so_far(self, turn: TurnAudio, final: bool = False) -> None:
        """Work out who spoke on a thread as soon as the speaker falls silent (half a pause,
        `WHO_SPOKE_EARLY`, before the words so far are transcribed, so the two share the
        cores less): when the pause ends the turn, the answer is (nearly) ready. One such
        thread at a time: a long turn with many pauses does not pile them up; while one is
        still busy with older speech, each silent frame tries again."""
        state = self.open
        if (state is None or self.enrollment is not None
                or turn.voiced_ms < self.config.turns.min_turn_ms
                or state.decided_speech_end == turn.speech_end
                or (state.deciding is not None and state.deciding.running)):
            return
        if not final and not _worth_deciding_again(turn.speech_end - turn.start,
                                                   turn.speech_end - state.decided_speech_end):
            return
        state.deciding = Loading(self.attributor.decide, turn.audio(), turn.stereo(),
                                 self.dialogue.expectation.speaker, name="who-spoke")
        state.decided_speech_end = turn.speech_end

    def _transcribe_so_far(self, turn: TurnAudio) -> None:
        state = self.open
        if state is None or turn.speech_end == state.transcribed_speech_end:
            return
        start = state.committed_until if state.committed_until is not None else turn.start
        cut = turn.speech_end + 0.08
        audio = turn.audio()
        lo = int(max(0.0, start - turn.start) * SAMPLE_RATE)
        hi = int(max(0.0, cut - turn.start) * SAMPLE_RATE)
        piece = audio[lo:hi]
        result = self.transcriber.transcribe(piece, context=state.committed_text)
        state.pending_text = result.text
        state.transcribed_speech_end = turn.speech_end
        if len(piece) / SAMPLE_RATE >= COMMIT_CHUNK_S and result.text:
            state.committed_text = state.text
            state.pending_text = ""
            state.committed_until = cut
        self.bus.publish({"type": "_partial", "t": round(self.now, 3), "text": state.text,
                          "speaker": self.expected_speaker})

    def _finish_turn(self, reason: str) -> None:
        self._handling_turn = True
        try:
            self._handle_turn(reason)
        finally:
            self._handling_turn = False
        self._speak_pending()

    def _handle_turn(self, reason: str) -> None:
        turn = self.segmenter.turn
        if turn is None or self.open is None:
            return
        self._decide_who_so_far(turn, final=True)   # (unless it was started for this speech already)
        deciding = self.open.deciding if self.open.decided_speech_end == turn.speech_end else None
        self._transcribe_so_far(turn)
        state, self.open = self.open, None
        transcript_ready = time.monotonic()
        turn = self.segmenter.close_turn()
        text = state.text
        if turn.voiced_ms < self.config.turns.min_turn_ms or not text:
            if deciding is not None:
                deciding.wait()           # no thread is left running behind a dropped turn
            self.bus.publish({"type": "_dropped", "t": round(self.now, 3), "reason": "noise",
                              "start": turn.speech_start, "end": turn.speech_end})
            return
        audio, stereo = turn.audio(), turn.stereo()
        timing = {"reason": reason, "last_voice": state.last_voice_arrival,
                  "transcript": transcript_ready}
        if self.enrollment is not None:
            if self._command(text, timing):
                return
            self._enrollment_step(*self.enrollment.on_turn(audio, stereo), text=text)
            return
        waiting = time.monotonic()
        who = self._who(audio, stereo, deciding)
        timing["who_wait"] = time.monotonic() - waiting
        if who.handover is None:
            self._dialogue_turn(text, who, turn.start, (turn.speech_start, turn.speech_end),
                                reason, timing)
            return
        # one partner handed straight over to the other: two turns, each heard on its own
        cut = int(who.handover * SAMPLE_RATE)
        bounds = [(turn.speech_start, turn.start + who.handover),
                  (turn.start + who.handover, turn.speech_end)]
        for index, (lo, hi) in enumerate(((0, cut), (cut, len(audio)))):
            part = audio[lo:hi]
            part_stereo = stereo[lo:hi] if stereo is not None else None
            part_text = self.transcriber.transcribe(part).text
            if not part_text:
                continue
            part_who = self._who(part, part_stereo)
            part_who.handover = None
            self._dialogue_turn(part_text, part_who, turn.start + lo / SAMPLE_RATE, bounds[index],
                                "handover" if index == 0 else reason, timing)

    def _who(self, audio: np.ndarray, stereo: np.ndarray | None,
             deciding: "Loading[WhoSpoke] | None" = None) -> WhoSpoke:
        """Who spoke the turn (the answer worked out early, if any). A failure in the speaker
        room never ends the session: the turn goes by turn order, with an `error` event."""
        expected = self.dialogue.expectation.speaker
        try:
            if deciding is not None:
                return deciding.ready()
            return self.attributor.decide(audio, stereo, expected)
        except Exception as error:   # noqa: BLE001 - any failure: fall back, say so, go on
            self.publish("error", message=f"who spoke could not be worked out for this turn "
                                          f"({type(error).__name__}: {error}); it goes by turn order")
            return TurnOrder().decide(audio, stereo, expected)

    def _command(self, text: str, timing: dict) -> bool:
        command = self.commands.read(text)
        if not command:
            return False
        self.bus.publish({"type": "_timing", "turn": self.turn_count, **timing, "command": command})
        self.controls.put(Control(command, source="voice"))
        self._controls()
        return True

    def _enrollment_step(self, actions, event: dict, text: str | None = None) -> None:
        if text is not None:
            event["text"] = text
        self.publish(event.pop("type"), **event)
        self._do(actions)
        enrollment = self.enrollment
        if enrollment is not None and enrollment.finished:
            self.enrollment = None
            if self.on_enrolled is not None:
                self.attributor = self.on_enrolled(enrollment)
            self.publish("speakers", method=getattr(self.attributor, "method", "voice"),
                         model=enrollment.backend.name, enrolled=sorted(enrollment.profiles),
                         failed=enrollment.failed)
            if self.enroll_only:
                self.end_reason = "enrolled"
            else:
                self._begin_dialogue()

    def _dialogue_turn(self, text: str, who: WhoSpoke, audio_start: float,
                       span: tuple[float, float], reason: str, timing: dict) -> None:
        """One partner's turn: recorded, then judged and handed to the dialogue, unless it
        was a command or came from the partner who should be listening."""
        expectation = self.dialogue.expectation
        options = self.speakers
        talk_over = [i for i in who.interruptions if i.kind != "wrong_speaker"]
        self.turn_count += 1
        self.publish("turn", **who.record_fields(), role=expectation.role, step=expectation.step,
                     text=text, start=round(span[0], 3), end=round(span[1], 3), end_reason=reason)
        if self._command(text, timing):
            return
        if self.paused:
            return
        names = self.dialogue.names
        out_of_turn = (who.confidence is not None and expectation.speaker is not None
                       and who.speaker is not None and who.speaker != expectation.speaker
                       and who.confidence >= getattr(options, "wrong_speaker_confidence", 0.8))
        if out_of_turn and self._wrong_speaker_turns < 2:
            self._wrong_speaker_turns += 1
            self.publish("interruption", speaker=who.speaker, start=round(span[0], 3),
                         end=round(span[1], 3), kind="wrong_speaker", step=expectation.step)
            self.say(prompt_files.fill(self.speaker_prompts["wrong_speaker"],
                                       speaker=names[who.speaker],
                                       owner=names[expectation.speaker]), "wrong_speaker")
            return
        self._wrong_speaker_turns = 0
        for interruption in talk_over:
            self.publish("interruption", speaker=interruption.speaker,
                         start=round(audio_start + interruption.start, 3),
                         end=round(audio_start + interruption.end, 3), kind=interruption.kind,
                         step=expectation.step)
        if talk_over and who.speaker:
            self.say(prompt_files.fill(self.speaker_prompts["interruption"],
                                       speaker=names[talk_over[0].speaker],
                                       owner=names[who.speaker]), "interruption")
        verdict = None
        judgement = self.dialogue.judgement_for(text)
        if judgement:
            kind, context = judgement
            verdict = self.judge.judge(kind, context, text)
            self.publish("verdict", kind=verdict.kind, label=verdict.label, score=verdict.score,
                         missing=verdict.missing, intrusions=verdict.intrusions,
                         passed=verdict.passed, step=expectation.step,
                         round=self.dialogue.round, attempt=self.dialogue.tries + 1)
        actions = self.dialogue.on_turn(text, verdict)
        self.bus.publish({"type": "_timing", "turn": self.turn_count, **timing,
                          "decided": time.monotonic(), "speaker_ms": round(who.elapsed_ms, 1)})
        self._do(actions)

    # -- controls: voice commands and the coach's clicks ---------------------------------
    def _controls(self) -> None:
        for control in self.controls.drain():
            self.publish("control", action=control.action, source=control.source)
            action = control.action
            if action == "stop":
                self.say(self.common_prompts["stopped"], "stopped")
                self.end_reason = "stopped"
            elif action == "pause":
                self.paused = True
                self.say(self.common_prompts["paused"], "paused")
            elif action == "resume":
                self.paused = False
                self.say(self.common_prompts["resumed"], "resumed")
                if self.last_prompt:
                    self.say(self.last_prompt, "repeat")
            elif action == "repeat":
                if self.last_prompt:
                    self.say(self.last_prompt, "repeat")
                else:
                    self.say(self.common_prompts["nothing_to_repeat"], "nothing_to_repeat")
            elif action == "skip":
                self.say(self.common_prompts["skipped"], "skipped")
                self._do(self.dialogue.skip())
            elif action == "override":
                detail = control.detail or {}
                self.publish("override", kind=detail.get("kind"), label=detail.get("label"),
                             source=control.source)
                from facilitator.judging import PASSING_LABELS

                passed = detail.get("label") in PASSING_LABELS.get(detail.get("kind", ""), set())
                self._do(self.dialogue.override(passed))
