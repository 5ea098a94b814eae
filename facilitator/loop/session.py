"""The live loop: reads frames, finds turns, and hands each finished turn through the rooms.

audio in -> voice activity / turn end -> who spoke -> transcript -> the active conversation
(enrollment, then the exercise) -> prompt spoken -> session record. Every policy lives in a
collaborator (`listening`, `attribution`, `moderation`, `speaking`, `controls`) or in the
conversation; this loop only decides *when* each is asked, and carries out the actions the
conversations return. It holds no per-conversation branches.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from facilitator.audio_in import AudioInputError, AudioSource, DeviceLost
from facilitator.config import Config
from facilitator.core import SAMPLE_RATE, Action, Conversation, Finished, HeardTurn, Note, Say, StepStarted, words
from facilitator.events import Control, ControlQueue, EventBus
from facilitator.loop.attribution import Attribution
from facilitator.loop.controls import control_outcome
from facilitator.loop.listening import Listening
from facilitator.loop.moderation import moderate
from facilitator.loop.speaking import Speaking
from facilitator.record import RecordWriteError
from facilitator.schema import RECORD_TYPES, shifted
from facilitator.signals import Dropped, Listening as ListeningAgain, Partial, Ready, Signal, Timing
from facilitator.spoken_commands import CommandReader
from facilitator.turn_end.pacing import Pacing, pace_pauses
from facilitator.turns import (TRAILING_WORDS, EndOfTurnPolicy, Pause, TurnSegmenter, dangling_word,
                               ends_with_cue)

class WaitFor(Protocol):
    def __call__(self, text: str, step: str | None, audio: np.ndarray,
                 speech_end_s: float) -> float: ...


WHO_SPOKE_EARLY = 0.5    # who spoke starts after this share of `pause_ms` of silence, so that
                         # its work is mostly done before the pause starts the transcription


@dataclass
class Wording:
    """The sentences the loop itself says (from `prompts/common.toml`)."""

    prompts: dict[str, str]              # [prompts]: stopped, paused, ... silence_reminder
    speakers: dict[str, str]             # [speakers]: wrong_speaker, interruption, ...
    passing_labels: dict[str, set[str]]  # a verdict's labels that count as passed, by kind


class Session:
    def __init__(self, config: Config, source: AudioSource, conversations: Sequence[Conversation],
                 listening: Listening, attribution: Attribution, speaking: Speaking,
                 bus: EventBus, wording: Wording, names: dict[str, str],
                 controls: ControlQueue | None = None, intro: Sequence[Action] = (),
                 time_offset: float = 0.0, commands: CommandReader | None = None,
                 view: object | None = None, wait_for: WaitFor | None = None,
                 pacing: Pacing | None = None) -> None:
        """`view`: the coach view serving this session, if any (stopped with it);
        `wait_for`: decides after each pause how long a silence ends the turn
        (`turn_end.ThoughtEnd.wait_s`; None: the config's fixed waits); `pacing`: each
        partner's own pauses, which that wait is never shorter than (with `wait_for`)."""
        self.config = config
        self.source = source
        self.conversations = list(conversations)
        self.listening = listening
        self.attribution = attribution
        self.speaking = speaking
        self.bus = bus
        self.wording = wording
        self.names = names
        self.controls = controls or ControlQueue()
        self.intro = list(intro)
        self.time_offset = time_offset    # a resumed session goes on after its record's last time
        self.commands = commands or CommandReader()
        self.view = view
        self.wait_for = wait_for
        self.pacing = pacing
        self._wait_s: float | None = None  # the silence that ends the open turn (wait_for's)
        self._sheltered: set[float] = set()   # the open turn's pauses the words covered (pacing)
        self.segmenter = TurnSegmenter(config.turns)
        self.policy = EndOfTurnPolicy(config.turns)
        self.now = 0.0                    # input time of the latest frame's end
        self.last_activity = 0.0
        self.paused = False
        self.end_reason: str | None = None
        self.turn_count = 0
        self._wrong_in_a_row = 0
        self._handling_turn = False       # prompts wait until the finished turn is fully handled

    # -- events -------------------------------------------------------------------------
    @property
    def conversation(self) -> Conversation:
        return self.conversations[0]

    def record(self, event_type: str, **fields) -> None:
        """A record event of the schema's type, stamped with the input time; the resume offset
        is applied here and nowhere else."""
        event = RECORD_TYPES[event_type](t=self.now, **fields)
        self.bus.publish(shifted(event, self.time_offset))

    def signal(self, signal: Signal) -> None:
        """An internal event (timings, the simulated room's cues): never in the record."""
        self.bus.signal(signal)

    # -- speaking -----------------------------------------------------------------------
    def say(self, text: str, key: str) -> None:
        """Queue a sentence; it is spoken as soon as no partner is mid-turn."""
        self.speaking.queue(text, key)
        if self.segmenter.turn is None and not self._handling_turn:
            self._speak_pending()

    def _speak_pending(self) -> None:
        if self.speaking.speak_pending(lambda: max(self.now, getattr(self.source, "captured_s", 0.0))):
            self.last_activity = self.speaking.mute_until
        self.segmenter.reset()
        self.signal(ListeningAgain(t=round(self.now, 3), after=self.speaking.mute_until,
                                   step=self.conversation.expectation.step))

    def do(self, actions: Sequence[Action]) -> None:
        for action in actions:
            if isinstance(action, StepStarted):
                self.record("step", name=action.name, round=action.round, sender=action.sender,
                            receiver=action.receiver, messages=action.messages)
            elif isinstance(action, Say):
                self.say(action.text, action.key)
            elif isinstance(action, Note):
                self.record(action.type, **dict(action.fields))
            elif isinstance(action, Finished):
                self._finished(action.reason)

    def _finished(self, reason: str) -> None:
        """The active conversation is over: the next one starts, or the session ends."""
        if len(self.conversations) > 1:
            self.conversations.pop(0)
            self.do(self.conversation.start())
        else:
            self.end_reason = reason

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> str:
        try:
            self.do(self.intro)
            self.do(self.conversation.start())
            self.signal(Ready(t=self.now))
            for frame in self.source.frames():
                self._controls()
                if self.end_reason:
                    break
                self.now = frame.end
                if frame.t < self.speaking.mute_until:
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
            self.record("error", message=str(error))
            self.end_reason = "device_lost"
        except AudioInputError as error:
            self.record("error", message=str(error))
            self.end_reason = "error"
        except KeyboardInterrupt:
            self.end_reason = "stopped"
        except RecordWriteError as error:
            self.record("error", message=str(error))
            self.end_reason = "error"
        except Exception as error:   # noqa: BLE001 - a defect: say so in the record, end cleanly
            logging.getLogger("facilitator").debug("session failed", exc_info=True)
            self.record("error", message=f"internal error: {type(error).__name__}: {error}")
            self.end_reason = "error"
        finally:
            self.record("end", reason=self.end_reason or "error")
            self.attribution.close()
            self.source.close()
        return self.end_reason or "error"

    def _read_pause_ms(self) -> int:
        """The silence at which the words so far are read: shorter when the step expects a
        cue, so that a turn ending on it ends `cue_end_ms` after it."""
        turns = self.config.turns
        if self.conversation.expectation.cues and not self.paused:
            return min(turns.cue_read_ms, turns.pause_ms)
        return turns.pause_ms

    def _frame(self, frame) -> None:
        read_ms = self._read_pause_ms()
        event = self.segmenter.push(frame.samples, frame.t, frame.channels, read_ms)
        turn = self.segmenter.turn
        if event == "start":
            self.listening.begin(turn.start)
            self._sheltered = set()
            self.attribution.new_turn()
        if turn is not None and self.listening.open is not None:
            self.last_activity = self.now   # (finishing the turn below may speak: that moves it on)
            self.listening.heard_voice(turn.speech_end, frame.arrived)
            if isinstance(event, Pause):
                settled_ms = self.config.turns.pause_ms
                if event.first:
                    self._who_so_far(turn)
                    self._words_so_far(turn, settled=read_ms >= settled_ms)
                    self._wait_s = self._thought_wait(turn)
                elif self.segmenter.silence_ms >= settled_ms:
                    self.listening.settle(turn)
                reason = self._turn_end(event)
                if reason:
                    self._finish_turn(reason)
            elif turn.speech_end - turn.speech_start > self.config.turns.max_turn_s:
                self._finish_turn("max_length")
            elif self.segmenter.silence_ms >= WHO_SPOKE_EARLY * self.config.turns.pause_ms:
                self._who_so_far(turn)
        elif (not self.paused and self.now - self.last_activity > self.config.turns.silence_reprompt_s
              and not self.conversation.finished):
            self.last_activity = self.now
            self.do(self.conversation.on_silence())

    def _turn_end(self, pause: Pause) -> str | None:
        text = self.listening.open.text
        if self.paused:
            if self.commands.read(text):
                return "command"
            return "silence" if pause.silence_s >= self.config.turns.complete_end_s else None
        read_to_end = self.listening.open.transcribed_speech_end == pause.speech_end
        reason = self.policy.decide(text, pause.silence_s, self.conversation.expectation.cues,
                                    read_to_end, self._wait_s)
        if not reason and pause.first and self.commands.read(text):
            reason = "command"
        return reason

    def _thought_wait(self, turn) -> float | None:
        """How long a silence ends the turn, from its words and voice (None: fixed waits;
        also when deciding fails: the turn is never lost to it)."""
        if self.wait_for is None or self.paused:
            return None
        expectation = self.conversation.expectation
        try:
            text, audio, end = self.listening.open.text, turn.audio(), turn.speech_end - turn.start
            wait = float(self.wait_for(text, expectation.step, audio, end))
            dropped = self._dropped_last_word(text, audio, end, wait)
            if dropped:
                wait = max(wait, float(self.wait_for(f"{text} {dropped}", expectation.step, audio, end)))
            if self.pacing is not None:
                if self.pacing.shelters(wait):
                    self._sheltered.add(turn.speech_end)
                wait = max(wait, self.pacing.floor_s(expectation.speaker, self._pace_pauses(turn),
                                                     expectation.weighty))
            return wait
        except Exception:   # noqa: BLE001 - fall back to the fixed waits for this pause
            logging.getLogger("facilitator").debug("thought end failed", exc_info=True)
            return None

    def _dropped_last_word(self, text: str, audio: np.ndarray, speech_end_s: float, wait: float) -> str:
        """A trailing word ("and", "because") that the reading of the whole stretch left out
        and the last moment of speech, read alone, holds; "" when there is none to look for."""
        turns, said = self.config.turns, words(text)
        if (not turns.last_word_read_s or not said or said[-1] in TRAILING_WORDS
                or wait >= turns.incomplete_end_s
                or speech_end_s < 1.5 * turns.last_word_read_s
                or ends_with_cue(text, self.conversation.expectation.cues)):
            return ""
        alone = self.listening.last_words_alone(audio, speech_end_s, turns.last_word_read_s)
        logging.getLogger("facilitator").debug("last moment read alone: %r (the words: ...%r)",
                                               alone, text[-40:])
        return dangling_word(alone, said[-1], turns.last_word_read_s)

    def _pace_pauses(self, turn) -> list[float]:
        return pace_pauses(turn.pauses, turn.pause_starts, self._sheltered)

    def _who_so_far(self, turn, final: bool = False) -> None:
        expectation = self.conversation.expectation
        if expectation.judged:
            self.attribution.start_early(turn, expectation.speaker, final)

    def _words_so_far(self, turn, settled: bool = True) -> None:
        if self.listening.transcribe_so_far(turn, settled):
            self.signal(Partial(t=round(self.now, 3), text=self.listening.open.text,
                                speaker=self.conversation.expectation.speaker))

    def _finish_turn(self, reason: str) -> None:
        self._handling_turn = True
        try:
            self._handle_turn(reason)
        finally:
            self._handling_turn = False
        self._speak_pending()

    def _handle_turn(self, reason: str) -> None:
        turn = self.segmenter.turn
        if turn is None or self.listening.open is None:
            return
        expectation = self.conversation.expectation
        self._who_so_far(turn, final=True)      # (unless it was started for this speech already)
        self._words_so_far(turn)
        state = self.listening.close()
        transcript_ready = time.monotonic()
        turn = self.segmenter.close_turn()
        text = state.text
        if self.pacing is not None and turn.voiced_ms >= self.config.turns.min_turn_ms:
            self.pacing.heard(expectation.speaker, turn.voiced_ms / 1000, self._pace_pauses(turn),
                              expectation.weighty)
        if turn.voiced_ms < self.config.turns.min_turn_ms or not text:
            self.attribution.drop_turn()          # no thread is left running behind a dropped turn
            self.signal(Dropped(t=round(self.now, 3), reason="noise", start=turn.speech_start,
                                end=turn.speech_end))
            return
        audio, stereo = turn.audio(), turn.stereo()
        timing = {"reason": reason, "last_voice": state.last_voice_arrival,
                  "transcript": transcript_ready}
        if not expectation.judged:                # (enrollment: no attribution, no turn event)
            if not self._command(text, timing):
                self.do(self.conversation.on_turn(HeardTurn(text, audio, stereo)))
            return
        who = self.attribution.decide_turn(turn, expectation.speaker)
        timing["who_wait"] = self.attribution.waited_s
        if who.handover is None:
            self._judged_turn(HeardTurn(text, audio, stereo, who.speaker, who.confidence), who,
                              turn.start, (turn.speech_start, turn.speech_end), reason, timing)
            return
        # one partner handed straight over to the other: two turns, each heard on its own
        cut = int(who.handover * SAMPLE_RATE)
        bounds = [(turn.speech_start, turn.start + who.handover),
                  (turn.start + who.handover, turn.speech_end)]
        for index, (lo, hi) in enumerate(((0, cut), (cut, len(audio)))):
            part = audio[lo:hi]
            part_stereo = stereo[lo:hi] if stereo is not None else None
            part_text = self.listening.transcriber.transcribe(part).text
            if not part_text:
                continue
            part_who = self.attribution.decide(part, part_stereo, self.conversation.expectation.speaker)
            part_who.handover = None
            self._judged_turn(HeardTurn(part_text, part, part_stereo, part_who.speaker,
                                        part_who.confidence), part_who,
                              turn.start + lo / SAMPLE_RATE, bounds[index],
                              "handover" if index == 0 else reason, timing)

    def _command(self, text: str, timing: dict) -> bool:
        command = self.commands.read(text)
        if not command:
            return False
        self.signal(Timing(fields={"turn": self.turn_count, **timing, "command": command}))
        self.controls.put(Control(command, source="voice"))
        self._controls()
        return True

    def _judged_turn(self, heard: HeardTurn, who, audio_start: float,
                     span: tuple[float, float], reason: str, timing: dict) -> None:
        """One partner's turn: recorded, moderated, then handed to the conversation, unless
        it was a command or came from the partner who should be listening."""
        expectation = self.conversation.expectation
        self.turn_count += 1
        self.record("turn", **who.record_fields(), role=expectation.role, step=expectation.step,
                    text=heard.text, start=round(span[0], 3), end=round(span[1], 3),
                    end_reason=reason)
        if self._command(heard.text, timing) or self.paused:
            return
        verdict = moderate(who, expectation, self.names, self._wrong_in_a_row,
                           self.config.speakers.wrong_speaker_confidence, self.wording.speakers,
                           audio_start, span)
        self._wrong_in_a_row = verdict.wrong_in_a_row
        self.do([*verdict.notes, *verdict.says])
        if not verdict.take:
            return
        actions = self.conversation.on_turn(heard)
        self.signal(Timing(fields={"turn": self.turn_count, **timing, "decided": time.monotonic(),
                                   "speaker_ms": round(who.elapsed_ms, 1)}))
        self.do(actions)

    # -- controls: voice commands and the coach's clicks ---------------------------------
    def _controls(self) -> None:
        for control in self.controls.drain():
            self.record("control", action=control.action, source=control.source)
            outcome = control_outcome(control, self.paused, self.speaking.last_prompt,
                                      self.wording.prompts, self.wording.passing_labels)
            self.paused = outcome.paused
            self.do([*outcome.notes, *outcome.says])
            if outcome.stop:
                self.end_reason = "stopped"
            if outcome.skip:
                self.do(self.conversation.skip())
            if outcome.override is not None:
                self.do(self.conversation.override(outcome.override))
