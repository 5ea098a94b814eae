"""The live loop: wires the rooms together and does nothing else.

audio in -> voice activity / turn end -> who spoke -> transcript -> judge -> dialogue
-> prompt spoken -> session record (every step publishes an event on the bus; the record
writer, the display and any other listener subscribe to it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from facilitator import prompts as prompt_files
from facilitator.audio_in import AudioSource, DeviceLost, AudioInputError
from facilitator.config import Config
from facilitator.dialogue import Dialogue, Finished, Say, StepStarted
from facilitator.events import Control, ControlQueue, EventBus
from facilitator.judging import Judge
from facilitator.speech_out import SpeechError, Voice
from facilitator.spoken_commands import CommandReader
from facilitator.transcribe import Transcriber
from facilitator.turns import EndOfTurnPolicy, Pause, TurnAudio, TurnSegmenter

SAMPLE_RATE = 16000
COMMIT_CHUNK_S = 3.0     # transcribed stretches at least this long are kept as they are


@dataclass
class Attribution:
    speaker: str | None
    confidence: float | None = None
    segments: list[tuple[float, float, str | None]] = field(default_factory=list)


class SpeakerAttributor(Protocol):
    def attribute(self, audio: np.ndarray, expected: str | None = None,
                  stereo: np.ndarray | None = None) -> Attribution: ...


class TurnOrderAttributor:
    """Until voices are enrolled: the partner whose turn it is, with no confidence."""

    def attribute(self, audio: np.ndarray, expected: str | None = None,
                  stereo: np.ndarray | None = None) -> Attribution:
        return Attribution(expected, None)


@dataclass
class OpenTurn:
    """Words recognised so far in the turn being spoken."""

    committed_text: str = ""
    committed_until: float | None = None
    pending_text: str = ""
    transcribed_speech_end: float = -1.0
    last_voice_arrival: float = 0.0
    last_speech_end: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(p for p in (self.committed_text, self.pending_text) if p).strip()


class Session:
    def __init__(self, config: Config, source: AudioSource, voice: Voice,
                 transcriber: Transcriber, judge: Judge, dialogue: Dialogue, bus: EventBus,
                 controls: ControlQueue | None = None,
                 attributor: SpeakerAttributor | None = None):
        self.config = config
        self.source = source
        self.voice = voice
        self.transcriber = transcriber
        self.judge = judge
        self.dialogue = dialogue
        self.bus = bus
        self.controls = controls or ControlQueue()
        self.attributor = attributor or TurnOrderAttributor()
        self.segmenter = TurnSegmenter(config.turns)
        self.policy = EndOfTurnPolicy(config.turns)
        self.commands = CommandReader()
        self.common_prompts = prompt_files.common()["prompts"]
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
                          "step": self.dialogue.step.name})

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
            self._do(self.start_actions if self.start_actions is not None else self.dialogue.start())
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
            if turn.speech_end != self.open.last_speech_end:
                self.open.last_speech_end = turn.speech_end
                self.open.last_voice_arrival = frame.arrived
            if isinstance(event, Pause):
                if event.first:
                    self._transcribe_so_far(turn)
                if self.paused:
                    reason = "command" if self.commands.read(self.open.text) else None
                    reason = reason or (None if event.silence_s < self.config.turns.complete_end_s else "silence")
                else:
                    reason = self.policy.decide(self.open.text, event.silence_s,
                                                self.dialogue.expectation.cues)
                    if not reason and event.first and self.commands.read(self.open.text):
                        reason = "command"
                if reason:
                    self._finish_turn(reason)
            elif turn.speech_end - turn.speech_start > self.config.turns.max_turn_s:
                self._finish_turn("max_length")
            self.last_activity = self.now
        elif (not self.paused and self.now - self.last_activity > self.config.turns.silence_reprompt_s
              and not self.dialogue.finished):
            speaker = self.dialogue.expectation.speaker
            name = self.dialogue.names.get(speaker, "") if speaker else ""
            self.last_activity = self.now
            self.say(prompt_files.fill(self.common_prompts["silence_reminder"], speaker=name),
                     "silence_reminder")

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
        speaker = self.dialogue.expectation.speaker
        self.bus.publish({"type": "_partial", "t": round(self.now, 3), "text": state.text,
                          "speaker": speaker})

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
        self._transcribe_so_far(turn)
        state, self.open = self.open, None
        transcript_ready = time.monotonic()
        turn = self.segmenter.close_turn()
        text = state.text
        if turn.voiced_ms < self.config.turns.min_turn_ms or not text:
            self.bus.publish({"type": "_dropped", "t": round(self.now, 3), "reason": "noise",
                              "start": turn.speech_start, "end": turn.speech_end})
            return
        expectation = self.dialogue.expectation
        attribution = self.attributor.attribute(turn.audio(), expectation.speaker, turn.stereo())
        self.turn_count += 1
        self.publish("turn", speaker=attribution.speaker, confidence=attribution.confidence,
                     role=expectation.role, step=expectation.step, text=text,
                     start=round(turn.speech_start, 3), end=round(turn.speech_end, 3),
                     end_reason=reason)
        command = self.commands.read(text)
        if command:
            self.bus.publish({"type": "_timing", "turn": self.turn_count, "reason": reason,
                              "last_voice": state.last_voice_arrival,
                              "transcript": transcript_ready, "command": command})
            self.controls.put(Control(command, source="voice"))
            self._controls()
            return
        if self.paused:
            return
        actions = []
        judgement = self.dialogue.judgement_for(text)
        verdict = None
        if judgement:
            kind, context = judgement
            verdict = self.judge.judge(kind, context, text)
            self.publish("verdict", kind=verdict.kind, label=verdict.label, score=verdict.score,
                         missing=verdict.missing, intrusions=verdict.intrusions,
                         passed=verdict.passed, step=expectation.step,
                         round=self.dialogue.round, attempt=self.dialogue.tries + 1)
        actions = self.dialogue.on_turn(text, verdict)
        self.bus.publish({"type": "_timing", "turn": self.turn_count, "reason": reason,
                          "last_voice": state.last_voice_arrival, "transcript": transcript_ready,
                          "decided": time.monotonic()})
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
