"""The record of an analysed recording, in the live schema, written as it goes.

The file is created (exclusively, 0600) at the first turn that has words, so a recording
refused for bad input, or with nothing in it, leaves no file. Its lines: a `session` with
`"mode": "analysis"`, a `speakers` line (how the voices were told apart), then for each turn
a `step` line when the step changes (so the report groups each mirror with its tries and
knows who was Sender), the `turn` (with its `act`) and its `verdict`s, and an `end` with
reason `analysed`. Times are on the recording's own timeline.
"""

from __future__ import annotations

from pathlib import Path

from facilitator.record import RecordWriter, new_session_event
from facilitator.recorded.pairing import ReadTurn
from facilitator.schema import EndEvent, ErrorEvent, SpeakersEvent, StepEvent, TurnEvent, VerdictEvent

MODE = "analysis"
END_REASON = "analysed"
SPEAKER_METHODS = {"clusters": "voice", "enrolled": "voice", "channels": "channels"}


class AnalysisRecord:
    def __init__(self, path: Path, session_id: str, names: dict[str, str], script: str,
                 input_name: str, who) -> None:
        self.path = Path(path)
        self.session_id = session_id
        self.names = dict(names)
        self.script = script
        self.input_name = input_name
        self.who = who
        self.writer: RecordWriter | None = None
        self.written = 0
        self.last_t = 0.0
        self._step: tuple[str, int, str] | None = None

    def _write(self, event) -> None:
        self.begin()
        self.writer.write(event)
        self.written += 1
        self.last_t = max(self.last_t, float(event.t))

    def begin(self) -> None:
        """Create the record and write its head (once)."""
        if self.writer is not None:
            return
        self.writer = RecordWriter(self.path)
        self.writer.write(new_session_event(self.session_id, self.names, self.script,
                                            self.input_name, mode=MODE))
        method = SPEAKER_METHODS.get(self.who.method, "voice")
        enrolled = ["A", "B"] if self.who.method == "enrolled" else []
        self.writer.write(SpeakersEvent(t=0.0, method=method, model="campplus", enrolled=enrolled,
                                        failed=[]))

    def note(self, t: float, text: str) -> None:
        self._write(ErrorEvent(t=t, message=text))

    def turn(self, spoken, text: str, read: ReadTurn | None, end_reason: str) -> None:
        if read is not None:
            key = (read.step, read.round, read.sender)
            if key != self._step:
                self._step = key
                self._write(StepEvent(t=spoken.start, name=read.step, round=read.round,
                                      sender=read.sender, receiver=read.receiver,
                                      messages=list(read.messages)))
        method = SPEAKER_METHODS.get(self.who.method, "voice")
        self._write(TurnEvent(
            t=spoken.end, speaker=spoken.speaker, confidence=float(spoken.confidence),
            speaker_method=method, role=read.role if read else "sender",
            step=read.step if read else "", text=text, start=spoken.start, end=spoken.end,
            end_reason=end_reason, act=read.act if read else None))

    def verdict(self, t: float, verdict, read: ReadTurn, attempt: int) -> None:
        self._write(VerdictEvent(
            t=t, kind=verdict.kind, label=verdict.label, score=verdict.score,
            missing=list(verdict.missing), intrusions=list(verdict.intrusions),
            passed=verdict.passed, step=read.step, round=read.round, attempt=attempt,
            reason=verdict.reason, detail=dict(verdict.detail)))

    def stopped(self) -> None:
        """Stopped part-way (Ctrl-C): a note and the end, so that `resume` leaves it alone."""
        t = self.last_t
        self.note(t, "the analysis was stopped before the end of the recording; analyse it "
                     "again for a whole record")
        self.end(t)

    def end(self, t: float) -> None:
        self._write(EndEvent(t=t, reason=END_REASON))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
