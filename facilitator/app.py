"""Assembly: builds each room from the config and hands them to the live loop."""

from __future__ import annotations

import logging
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from facilitator import prompts as prompt_files
from facilitator.audio_in import AudioSource, has_output_device
from facilitator.config import Config
from facilitator.core import Say
from facilitator.dialogue import Dialogue, Script
from facilitator.events import ControlQueue, EventBus
from facilitator.exercise import ExerciseConversation
from facilitator.judging import PASSING_LABELS, default_judge
from facilitator.loading import Loading
from facilitator.loop.attribution import Attribution
from facilitator.loop.listening import Listening
from facilitator.loop.session import Session, Wording
from facilitator.loop.speaking import Speaking
from facilitator.paths import private_dir
from facilitator.paths import profiles_dir as configured_profiles_dir
from facilitator.paths import session_voices_dir, sessions_dir
from facilitator.record import RecordExists, RecordWriter, new_session_event, new_session_id
from facilitator.schema import ResumeEvent
from facilitator.speakers.live import SpeakerSetup, VoiceEnrollment, after_enrollment, prepare
from facilitator.speakers.profiles import VoiceProfile
from facilitator.speech_out import CheckedRenderer, SilentOutput, SoundDeviceOutput, Voice, sentences
from facilitator.transcribe import Transcriber, load_transcriber

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunOptions:
    realtime: bool = True
    speak_aloud: bool = True            # play prompts on a loudspeaker when there is one
    record_path: Path | None = None
    input_name: str = "microphone"
    display: bool = True
    view: bool = False                  # serve the live coach page on 127.0.0.1
    resume_events: list[dict] | None = None   # the record of an interrupted session to continue
    names: dict[str, str] = field(default_factory=dict)
    enroll_files: dict[str, Path] | None = None   # recorded enrollments (`run --enroll A=a.wav`)
    enroll_only: bool = False           # `facilitator enroll`: learn the voices, then stop


def _feedback():
    try:
        from facilitator.judging.feedback import feedback_text
    except ImportError:
        return None
    return feedback_text


def make_voice(config: Config, options: RunOptions) -> Voice:
    renderer = CheckedRenderer(config.speech, natural=options.realtime) if config.speech.enabled else None
    output = SilentOutput()
    if options.realtime and options.speak_aloud and config.speech.enabled and has_output_device():
        try:
            output = SoundDeviceOutput(config.audio.output_device)
        except Exception as error:  # no usable loudspeaker: prompts are printed and recorded
            print(f"(No loudspeaker: {error}. Prompts are shown and recorded only.)", file=sys.stderr)
    return Voice(renderer, output)


def build_session(config: Config, source: AudioSource, options: RunOptions,
                  bus: EventBus | None = None, controls: ControlQueue | None = None,
                  transcriber: Transcriber | Loading[Transcriber] | None = None,
                  voice: Voice | None = None):
    """Everything wired, not started. Returns (session, record_writer).

    The speech model and the judge load on threads while the other rooms are built; they
    are waited for at the end, so a missing model still stops the start."""
    bus = bus or EventBus()
    names = {"A": config.session.partner_a, "B": config.session.partner_b}
    names.update(options.names)
    script = Script.load(config.session.script)
    dialogue = Dialogue(script, names, config.session.first_sender, feedback=_feedback())
    if transcriber is None:
        transcriber = Loading(load_transcriber, config.transcription, ROOT, name="speech-model")
    judge = Loading(default_judge, config.judge, name="judge")
    own_voice = voice is None
    voice = voice or make_voice(config, options)
    try:
        return _wire(config, source, options, bus, controls, transcriber, judge, voice,
                     names, script, dialogue)
    except BaseException:      # the voice may be rendering ahead: stopped before exit
        if own_voice:
            voice.close()
        raise


def _wire(config: Config, source: AudioSource, options: RunOptions, bus: EventBus,
          controls: ControlQueue | None, transcriber, judge, voice: Voice, names, script,
          dialogue: Dialogue):
    session_id = new_session_id()
    resumed = options.resume_events
    if resumed:
        first = resumed[0] if resumed[0].get("type") == "session" else {}
        names.update(first.get("names", {}))
        session_id = first.get("id", session_id)
    path = options.record_path or (sessions_dir(config.session.data_dir) / f"{session_id}.jsonl")
    if not resumed and options.record_path is not None and path.exists():
        raise RecordExists(f"{path} already holds a session record; give another --record "
                           f"path, or continue that session with `facilitator resume --record {path}`")
    session_voices = session_voices_dir(path)
    speakers = _speaker_setup(config, names, options, session_voices if resumed else None)
    first_said = _first_said(config, script, names, speakers) if not resumed else []
    if voice.renderer is not None and first_said:      # rendered now, beside the models' loading
        voice.renderer.prepare([part for text in first_said for part in sentences(text)], at_once=True)
    if isinstance(transcriber, Loading):
        transcriber = transcriber.ready()
    command_words = prompt_files.common().get("commands", {}).get("glossary", "")
    transcriber.set_glossary(f"{names['A']}, {names['B']}. {script.glossary} {command_words}")
    writer = _new_writer(path, config, append=bool(resumed))
    bus.subscribe(writer)
    controls = controls or ControlQueue()
    if options.display:
        from facilitator.display import TerminalDisplay

        display = TerminalDisplay(names)
        bus.subscribe(display)
        bus.subscribe_signals(display)
    view = None
    if options.view:
        from facilitator.view.server import CoachView

        view = CoachView(bus, controls)
        print(f"Coach view: {view.start()}", flush=True)
    if resumed:
        offset = max((float(e.get("t", 0.0)) for e in resumed), default=0.0)
        bus.publish(ResumeEvent(t=offset, input=options.input_name))
    else:
        offset = 0.0
        bus.publish(new_session_event(session_id, names, script.name, options.input_name))
    if voice.renderer is not None:
        texts = [prompt_files.fill(t, sender=names[s], receiver=names[r])
                 for t in script.prompts.values() for s, r in (("A", "B"), ("B", "A"))]
        from facilitator.judging.feedback import fixed_sentences

        texts[0:0] = fixed_sentences(names)    # coaching starts with them
        if speakers.enrollment is not None:    # asked right after the welcome: rendered next
            texts[0:0] = [prompt_files.fill(t, name=n)
                          for t in prompt_files.common()["speakers"].values()
                          for n in names.values()]
        voice.renderer.prepare([t for t in texts if t not in first_said])
    profiles_dir = _profiles_dir(config)
    restored = None
    if resumed:
        step = next((e for e in reversed(resumed) if e.get("type") == "step"), None)
        if step is not None:
            restored = dialogue.restore(
                step["name"], int(step.get("round", 1)), step.get("sender", "A"),
                list(step.get("messages", [])))
            if not any(isinstance(a, Say) for a in restored):
                restored += _last_question(resumed, script.prompts)
    session = _assemble(config, source, bus, controls, names, transcriber, judge.ready(),
                        voice, dialogue, restored, speakers, options.enroll_only,
                        lambda e: after_enrollment(e, config.speakers, profiles_dir, session_voices),
                        offset if resumed else 0.0, view)
    return session, writer


def _assemble(config: Config, source: AudioSource, bus: EventBus, controls: ControlQueue,
              names: dict[str, str], transcriber, judge, voice: Voice, dialogue: Dialogue,
              restored, speakers: SpeakerSetup, enroll_only: bool, learnt, time_offset: float,
              view) -> Session:
    """The live loop and its collaborators: the conversations to hold (the voices' enrollment
    first when they are not known, then the exercise; only the enrollment for `enroll`)."""
    common = prompt_files.common()
    session: Session | None = None

    def record_error(message: str) -> None:
        session.record("error", message=message)

    attribution = Attribution(speakers.attributor, on_error=record_error,
                              min_turn_ms=config.turns.min_turn_ms)
    conversations: list = []
    if speakers.enrollment is not None:
        enrollment = speakers.enrollment
        enrollment.on_learnt = lambda e: attribution.use(learnt(e))
        conversations.append(enrollment)
    if not enroll_only:
        conversations.append(ExerciseConversation(dialogue, judge, restored))
    speaking = Speaking(voice, lambda kind, **fields: session.record(kind, **fields),
                        lambda event: session.signal(event), config.turns.speaking_tail_ms / 1000,
                        set(common["prompts"]))
    wording = Wording(common["prompts"], common["speakers"], PASSING_LABELS)
    session = Session(config, source, conversations, Listening(transcriber), attribution,
                      speaking, bus, wording, names, controls, intro=speakers.greeting,
                      time_offset=time_offset, view=view, wait_for=thought_end(config),
                      pacing=pacing(config))
    return session


def pacing(config: Config):
    """Each partner's own pauses, learnt as they speak: a partner who pauses only briefly
    after finished sentences inside their turns is answered after fluent_end_s, the others
    after least_end_s (pauses the words kept open, mid-sentence, are the words' business)."""
    from facilitator.turn_end.pacing import Pacing, PacingOptions

    return Pacing(PacingOptions(fluent_end_s=config.turns.fluent_end_s,
                                least_end_s=config.turns.least_end_s))


def thought_end(config: Config):
    """`[turns] end_model = "words"` or `"words+voice"`: ThoughtEnd's wait (from the words,
    or the words and the voice's pitch), from fluent_end_s up to incomplete_end_s (the
    session keeps it at least at the partner's pace: `pacing`); "fixed", or its model
    missing (with a warning): None."""
    if config.turns.end_model == "fixed":
        return None
    from facilitator.turn_end import ThoughtEnd, ThoughtEndOptions, ThoughtModelMissing

    try:
        return ThoughtEnd(ThoughtEndOptions(min_end_s=config.turns.fluent_end_s,
                                            max_end_s=config.turns.incomplete_end_s,
                                            use_prosody=config.turns.end_model == "words+voice")).wait_s
    except ThoughtModelMissing as error:
        logging.getLogger("facilitator").warning(
            "%s; the turns end after the fixed waits ([turns] complete_end_s)", error)
        return None


def _new_writer(path: Path, config: Config, append: bool) -> RecordWriter:
    """The record's writer; a default path that a session of the same second took (the
    random suffix makes it all but impossible) gets a fresh id."""
    for _ in range(5):
        try:
            return RecordWriter(path, append=append)
        except RecordExists:
            if append or path.parent != sessions_dir(config.session.data_dir):
                raise
            path = path.with_name(f"{new_session_id()}.jsonl")
    return RecordWriter(path, append=append)


def _last_question(events: list[dict], script_prompts: dict[str, str]) -> list[Say]:
    """A step with no prompt of its own (e.g. the summary's "did I get that?" answer): the
    couple hears again the last thing the facilitator asked, so they know what to answer."""
    for event in reversed(events):
        if event.get("type") == "prompt" and event.get("key") in script_prompts and event.get("text"):
            return [Say(event["text"], "repeat")]
    return []


def _profiles_dir(config: Config) -> Path:
    return configured_profiles_dir(config.speakers.profiles_dir, config.session.data_dir)


def _first_said(config: Config, script: Script, names: dict[str, str], speakers: SpeakerSetup) -> list[str]:
    """What a new session says first: the enrollment's first request, or the greeting and
    the welcome."""
    if speakers.enrollment is not None:
        return [prompt_files.fill(prompt_files.common()["speakers"]["ask_first"], name=names["A"])]
    said = [say.text for say in speakers.greeting]
    if "welcome" in script.prompts:
        first, other = ("A", "B") if config.session.first_sender == "A" else ("B", "A")
        said.append(prompt_files.fill(script.prompts["welcome"], sender=names[first], receiver=names[other]))
    return said


def _speaker_setup(config: Config, names: dict[str, str], options: RunOptions,
                   resumed_dir: Path | None) -> SpeakerSetup:
    """Raises SpeakerSetupError for enrollment recordings that cannot be used. `enroll`
    always holds the enrollment (saved voices are what it replaces)."""
    return prepare(config.speakers, names, prompt_files.common()["speakers"],
                   stereo=config.audio.channels == 2, enroll_files=options.enroll_files,
                   profiles_dir=None if options.enroll_only else _profiles_dir(config),
                   resumed_dir=resumed_dir)


def run_session(session: Session, writer: RecordWriter) -> str:
    try:
        reason = session.run()
    finally:
        session.speaking.voice.close()
        writer.close()
        if session.view is not None:
            session.view.stop()
    if reason in ("complete", "stopped", "enrolled"):
        shutil.rmtree(session_voices_dir(writer.path), ignore_errors=True)   # voices are forgotten
    length = session.now + session.time_offset
    print(f"\nSession record: {writer.path}  ({_minutes(length)} of session, ended: {reason})")
    return reason


@dataclass
class EnrolledVoices:
    """What `enroll_voices` learnt: the profiles it saved (fewer than two when a partner's
    voice could not be learnt, and then none is saved), how the session ended, its record."""

    profiles: dict[str, VoiceProfile]
    reason: str
    record: Path


def enroll_voices(config: Config, source: AudioSource, names: dict[str, str], folder: Path, *,
                  record_path: Path | None = None, realtime: bool = True,
                  speak_aloud: bool = True, input_name: str = "microphone",
                  transcriber: Transcriber | Loading[Transcriber] | None = None) -> EnrolledVoices:
    """`facilitator enroll`, hands-free: a session holding only the enrollment conversation
    (asks each partner by name through `source`, checks the speech, asks again), then stop.
    Both partners' profiles are saved in `folder` (made private); what they said goes to
    `record_path`, by default `folder/last-enrollment.jsonl` (replaced).

    Raises what `build_session` raises when the session cannot start."""
    folder = Path(folder)
    method = config.speakers.method      # no voices to learn for turn order: the GMM's
    config = config.with_changes(speakers={"save_profiles": True, "profiles_dir": str(folder),
                                           "method": "gmm" if method == "turn_order" else method})
    private_dir(folder)          # the enrollment record written here holds what they said
    record = Path(record_path) if record_path is not None else folder / "last-enrollment.jsonl"
    record.unlink(missing_ok=True)
    options = RunOptions(realtime=realtime, speak_aloud=speak_aloud, record_path=record,
                         input_name=input_name, names=dict(names), enroll_only=True)
    session, writer = build_session(config, source, options, transcriber=transcriber)
    enrollment = session.conversation
    reason = run_session(session, writer)
    learnt = dict(enrollment.profiles) if isinstance(enrollment, VoiceEnrollment) else {}
    return EnrolledVoices(learnt, reason, writer.path)


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
