"""`facilitator analyze`: a dialogue recorded without the facilitator, reviewed afterwards.

Fast: the pipeline with fakes of who spoke and of the transcriber (the record in the live
schema, its steps, acts and verdicts, the report; one voice), and bad input through the
command (a missing file, a text file, 0 bytes, silence, an existing --record, bad --enroll),
each a message and exit code 2 with nothing written.

End to end (real voices, Whisper tiny.en, the judges): a two-voice espeak-ng dialogue,
rendered once for the module (appointment, message, a good and a bad mirror, "is there
more?", summary, validation, empathy), analysed without enrollment and, as MP3, with
enrollment; its MP3, M4A, FLAC, OGG/Opus, WebM and MP4 versions (any rate, identical
stereo channels) decode to the same audio; one voice alone.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from facilitator.cli import main
from facilitator.config import Config
from facilitator.recorded.inputs import read_recording
from facilitator.recorded.pipeline import AnalyzeError, Request, analyze
from facilitator.recorded.voices import SpokenTurn, WhoSpoke
from facilitator.transcribe import Transcript

RATE = 16000
VOICES = {"A": "en-us", "B": "en-us+f3"}
DIALOGUE = [
    ("A", "Sam, I would like to have a dialogue. Is now a good time?"),
    ("B", "Yes, I'm ready now."),
    ("A", "I felt lonely last week when you worked late every night, and I missed having dinner together."),
    ("B", "What I hear you saying is that you felt lonely last week when I worked late every night, "
          "and you missed having dinner together. Did I get that?"),
    ("A", "Yes, you got it."),
    ("B", "Is there more?"),
    ("A", "Yes. I also worry that my work matters more to you than we do."),
    ("B", "What I hear is that you think I play too many video games. Did I get that?"),
    ("A", "No, that's all."),
    ("B", "Let me see if I got it all. You felt lonely when I worked late every night, you missed "
          "our dinners together, and you worry that my work matters more to me than we do. Did I get it all?"),
    ("A", "Yes, you did."),
    ("B", "You make sense, because you were alone every evening and we had no dinners together."),
    ("A", "Thank you."),
    ("B", "I imagine you might be feeling lonely and sad. Is that how you feel?"),
    ("A", "Yes, that's how I feel."),
]
ENROLL = {"A": "My day was busy. I went for a run in the morning, then I worked in the garden and "
               "cooked a big pot of soup for the whole week.",
          "B": "My day was good but long. I had meetings all morning, I walked the dog at lunch, and "
               "in the afternoon I finished the report I had been writing for weeks."}


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.asarray(samples, np.int16).tobytes())
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- fakes ------------------------------------------------------------------------------------
class ScriptedTranscriber:
    """The words of each turn in order, whatever the audio."""

    def __init__(self, texts: list[str]):
        self.texts = list(texts)
        self.contexts: list[str] = []

    def transcribe(self, audio, context: str = "") -> Transcript:
        self.contexts.append(context)
        return Transcript(self.texts.pop(0) if self.texts else "")


def WordJudge():
    """The real judges on words only (no paraphrase model to load)."""
    from facilitator.judging.structured import StructuredJudge

    return StructuredJudge(embedder=None)


def fake_who(turns: list[tuple[str, float, float]], voices: int = 2, note: str | None = None):
    def who_spoke(audio, *, enrolled=None, config=None, progress=None):
        progress and progress(1.0)
        return WhoSpoke([SpokenTurn(s, e, who, 0.9) for who, s, e in turns], voices,
                        "enrolled" if enrolled else "clusters", note)
    return who_spoke


def noise_wav(path: Path, seconds: float) -> Path:
    rng = np.random.default_rng(1)
    return write_wav(path, (rng.standard_normal(int(seconds * RATE)) * 3000).astype(np.int16))


def test_the_pipeline_writes_the_live_schema_with_acts_steps_and_verdicts(tmp_path):
    turns = [(who, 3.0 * i, 3.0 * i + 2.5) for i, (who, _) in enumerate(DIALOGUE)]
    recording = noise_wav(tmp_path / "talk.wav", 3.0 * len(DIALOGUE))
    record = tmp_path / "out.jsonl"
    transcriber = ScriptedTranscriber([text for _, text in DIALOGUE])
    outcome = analyze(Request(recording, names={"A": "Alex", "B": "Sam"}, record=record), Config(),
                      who_spoke=fake_who(turns), transcriber=transcriber, judge=WordJudge())
    events = lines(record)
    assert events[0]["type"] == "session" and events[0]["mode"] == "analysis"
    assert events[0]["names"] == {"A": "Alex", "B": "Sam"} and events[-1] == {
        "type": "end", "t": pytest.approx(45.0), "reason": "analysed"}
    turn_lines = [e for e in events if e["type"] == "turn"]
    assert [t["act"] for t in turn_lines] == [
        "other", "other", "message", "mirror", "other", "more", "message", "mirror", "other",
        "summary", "other", "validation", "other", "empathy", "other"]
    assert [t["speaker"] for t in turn_lines] == [who for who, _ in DIALOGUE]
    assert turn_lines[3]["role"] == "receiver" and turn_lines[3]["confidence"] == 0.9
    verdicts = [(e["kind"], e["label"]) for e in events if e["type"] == "verdict"]
    assert ("mirror", "mirror") in verdicts and ("mirror", "not_mirror") in verdicts
    assert {k for k, _ in verdicts} == {"sender_statement", "mirror", "summary", "validation", "empathy"}
    assert any(e["type"] == "step" and e["name"] == "summary" for e in events)
    assert outcome.turns == len(DIALOGUE) and outcome.voices == 2
    assert set(transcriber.contexts) == {""}       # a reply is never primed with the Sender's words

    from facilitator.review.report import write_report

    session, files, summary = write_report(record)
    assert [e.kind for e in session.mirrors] == ["mirror", "mirror"]
    assert "Alex & Sam" in summary and files.html.exists() and len(files.subtitles) == 2


def test_history_counts_an_analysis_as_a_session_of_the_couple_marked_analysed(tmp_path):
    from facilitator.review.history import by_couple, scan_history, text_history
    from facilitator.review.sample import write_sample

    sessions = tmp_path / "sessions"
    sessions.mkdir()
    write_sample(sessions / "20261121-153000.jsonl")
    turns = [(who, 3.0 * i, 3.0 * i + 2.5) for i, (who, _) in enumerate(DIALOGUE)]
    analyze(Request(noise_wav(tmp_path / "talk.wav", 46.0), names={"A": "Sam", "B": "Alex"},
                    record=sessions / "analysed.jsonl"), Config(), who_spoke=fake_who(turns),
            transcriber=ScriptedTranscriber([text for _, text in DIALOGUE]), judge=WordJudge())
    couples, hidden = by_couple(scan_history(sessions).entries)
    assert len(couples) == 1 and len(couples[0].entries) == 2 and hidden == 0
    listing = text_history(couples)
    assert "2 sessions (1 analysed from a recording)" in listing
    assert any(line.endswith("analysed from a recording") for line in listing.splitlines())
    assert "finishing" not in couples[0].entries[-1].session.weaknesses()


def test_one_voice_is_written_and_reported_with_nothing_judged(tmp_path):
    recording = noise_wav(tmp_path / "alone.wav", 12.0)
    record = tmp_path / "alone.jsonl"
    outcome = analyze(Request(recording, record=record), Config(),
                      who_spoke=fake_who([("A", 0.0, 5.0), ("A", 6.0, 11.0)], voices=1),
                      transcriber=ScriptedTranscriber(["I feel lonely.", "You never listen."]),
                      judge=WordJudge())
    events = lines(record)
    assert outcome.note and outcome.voices == 1
    assert not [e for e in events if e["type"] == "verdict"]
    assert any(e["type"] == "error" and "only one voice" in e["message"] for e in events)
    assert [e.get("act") for e in events if e["type"] == "turn"] == [None, None]


def test_a_note_from_who_spoke_is_kept_and_the_dialogue_still_judged(tmp_path):
    record = tmp_path / "noted.jsonl"
    note = "the two channels did not tell the partners apart; decided by the voices"
    analyze(Request(noise_wav(tmp_path / "t.wav", 8.0), record=record), Config(),
            who_spoke=fake_who([("A", 0.0, 3.0), ("B", 4.0, 7.0)], note=note),
            transcriber=ScriptedTranscriber(["I feel lonely at night.", "You feel lonely at night."]),
            judge=WordJudge())
    events = lines(record)
    assert {"type": "error", "t": 0.0, "message": note} in events
    assert [e["kind"] for e in events if e["type"] == "verdict"] == ["sender_statement", "mirror"]


def test_analyze_refuses_an_existing_record_before_reading_anything(tmp_path):
    record = tmp_path / "old.jsonl"
    record.write_text("{}\n")
    with pytest.raises(AnalyzeError, match="already exists"):
        analyze(Request(tmp_path / "nothing.wav", record=record), Config(),
                who_spoke=fake_who([]), transcriber=ScriptedTranscriber([]), judge=WordJudge())
    assert record.read_text() == "{}\n"


# -- bad input through the command: a message, exit code 2, nothing written --------------------
def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    text = tmp / "notes.txt"
    text.write_text("Alex and Sam talked about the dinners.\n" * 40)
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    silence = write_wav(tmp / "silence.wav", np.zeros(RATE * 20, np.int16))
    voice = noise_wav(tmp / "voice.wav", 4.0)
    short = noise_wav(tmp / "short.wav", 2.0)
    old = tmp / "old.jsonl"
    old.write_text('{"type": "session"}\n')
    return {
        "missing": ([str(tmp / "no_such.wav")], "not found"),
        "text file": ([str(text)], "not an audio file"),
        "0 bytes": ([str(empty)], "empty (0 bytes)"),
        "silence": ([str(silence)], "no speech found"),
        "existing record": ([str(voice), "--record", str(old)], "already exists"),
        "bad enroll": ([str(voice), "--enroll", f"A={text}", "--enroll", f"B={voice}"], "--enroll A="),
        "enroll too short": ([str(voice), "--enroll", f"A={short}", "--enroll", f"B={voice}"], "too short"),
        "one enroll only": ([str(silence), "--enroll", f"A={silence}"], "one partner's voice only"),
        "bad enroll label": ([str(voice), "--enroll", f"C={voice}"], "A=... or B="),
        "bad name": ([str(voice), "--name", "Alex"], "A=... or B="),
    }


@pytest.mark.parametrize("case", ["missing", "text file", "0 bytes", "silence", "existing record",
                                  "bad enroll", "enroll too short", "one enroll only",
                                  "bad enroll label", "bad name"])
def test_bad_input_is_refused_with_a_message_and_nothing_written(case, tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("FACILITATOR_DATA_DIR", str(data))
    inputs = tmp_path / "in"
    inputs.mkdir()
    argv, message = _bad_inputs(inputs)[case]
    before = sorted(p.name for p in inputs.iterdir())
    assert main(["analyze", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err.strip().splitlines()[-1] and "Traceback" not in err
    assert not data.exists() and sorted(p.name for p in inputs.iterdir()) == before


# -- end to end: rendered voices, the real rooms -------------------------------------------------
def _render(script: list[tuple[str, str]], gap_s: float = 1.2) -> tuple[np.ndarray, list[tuple[float, float]]]:
    from facilitator.sim.voices import speak_to_array

    parts, times, at = [np.zeros(int(0.5 * RATE), np.int16)], [], 0.5
    for who, text in script:
        speech = speak_to_array(text, VOICES[who])
        parts += [speech, np.zeros(int(gap_s * RATE), np.int16)]
        times.append((at, at + len(speech) / RATE))
        at += len(speech) / RATE + gap_s
    return np.concatenate(parts), times


FORMATS = (("mp3", "mp3"), ("m4a", "aac"), ("flac", "flac"), ("ogg", "libopus"),
           ("webm", "libopus"), ("mp4", "aac"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    import av  # noqa: F401  (PyAV: the encoders for the MP3 / M4A / FLAC versions)

    folder = tmp_path_factory.mktemp("analyze")
    audio, times = _render(DIALOGUE)
    wav = write_wav(folder / "dialogue.wav", audio)
    from facilitator.sim.voices import speak_to_array

    enroll = {who: write_wav(folder / f"enroll_{who}.wav", speak_to_array(text, VOICES[who]))
              for who, text in ENROLL.items()}
    return {"folder": folder, "wav": wav, "times": times, "enroll": enroll,
            **{fmt: _encode(wav, folder / f"dialogue.{fmt}", codec)
               for fmt, codec in FORMATS}}


def _encode(source: Path, target: Path, codec: str) -> Path:
    """The WAV encoded with PyAV (44.1 kHz stereo for the lossy ones, as phones write them)."""
    import av

    rate = {"flac": 16000, "libopus": 48000}.get(codec, 44100)
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono" if codec == "flac" else "stereo"
        resampler = av.AudioResampler(format=stream.format.name, layout=stream.layout.name, rate=rate)
        for frame in inp.decode(audio=0):
            for piece in resampler.resample(frame):
                for packet in stream.encode(piece):
                    out.mux(packet)
        for piece in resampler.resample(None):
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


@pytest.fixture(scope="module")
def judge():
    from facilitator.judging import default_judge

    return default_judge()


def _run(tmp_path, recording: Path, transcriber, judge, **kwargs):
    """analyze with the session's shared transcriber, whose glossary is given back after
    (analyze sets its own; later tests expect the fixture's)."""
    record = tmp_path / "r.jsonl"
    glossary = transcriber.glossary
    try:
        outcome = analyze(Request(recording, record=record, names={"A": "Alex", "B": "Sam"}, **kwargs),
                          Config(), transcriber=transcriber, judge=judge)
    finally:
        transcriber.set_glossary(glossary)
    return outcome, lines(record)


def _speaker_right(events, times) -> float:
    """Share of the script's lines whose middle falls in a turn given to the right partner."""
    turns = [e for e in events if e["type"] == "turn"]
    right = 0
    for (who, _), (start, end) in zip(DIALOGUE, times):
        middle = (start + end) / 2
        hit = next((t for t in turns if t["start"] - 0.2 <= middle <= t["end"] + 0.2), None)
        right += bool(hit and hit["speaker"] == who)
    return right / len(DIALOGUE)


@pytest.mark.e2e
def test_analyze_without_enrollment_finds_the_speakers_and_judges_the_mirrors(rendered, tmp_path,
                                                                               transcriber, judge, capsys):
    outcome, events = _run(tmp_path, rendered["wav"], transcriber, judge)
    assert outcome.voices == 2 and _speaker_right(events, rendered["times"]) >= 0.9
    mirrors = [e for e in events if e["type"] == "verdict" and e["kind"] == "mirror"]
    assert [m["passed"] for m in mirrors][:2] == [True, False], mirrors
    kinds = {e["kind"] for e in events if e["type"] == "verdict"}
    assert {"summary", "validation", "empathy", "sender_statement"} <= kinds
    acts = [e["act"] for e in events if e["type"] == "turn"]
    assert {"message", "mirror", "more", "summary", "validation", "empathy"} <= set(acts)
    from facilitator.recorded.cli import _report

    assert _report(outcome.record) == 0
    out = capsys.readouterr().out
    html = outcome.record.with_suffix(".html")
    assert "Report:" in out and html.exists() and "Mirror" in html.read_text(encoding="utf-8")
    vtt = outcome.record.with_suffix(".vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "<v Sam>" in vtt and outcome.record.with_suffix(".srt").exists()


@pytest.mark.e2e
def test_mp3_m4a_flac_ogg_webm_and_mp4_versions_decode_to_the_same_dialogue(rendered):
    reference = read_recording(rendered["wav"]).audio
    for fmt, _ in FORMATS:
        audio = read_recording(rendered[fmt]).audio
        assert audio.ndim == 1, fmt                    # identical stereo channels are mixed down
        assert abs(len(audio) - len(reference)) < 0.1 * RATE, fmt
        assert _best_correlation(audio, reference) > 0.9, fmt


def _best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 4000) -> float:
    """The normalised cross-correlation at its best lag (an encoder's delay allowed)."""
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    size = 1 << (2 * n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    lags = np.r_[corr[:max_lag], corr[-max_lag:]]
    return float(lags.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.e2e
def test_analyze_an_mp3_with_enrollment(rendered, tmp_path, transcriber, judge):
    outcome, events = _run(tmp_path, rendered["mp3"], transcriber, judge, enroll=rendered["enroll"])
    assert events[1]["type"] == "speakers" and events[1]["enrolled"] == ["A", "B"]
    assert _speaker_right(events, rendered["times"]) >= 0.9
    assert any(e["type"] == "verdict" and e["kind"] == "mirror" and e["passed"] for e in events)


@pytest.mark.e2e
def test_one_voice_says_so_and_judges_nothing(rendered, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACILITATOR_DATA_DIR", str(tmp_path / "data"))
    audio, _ = _render([(who, text) for who, text in DIALOGUE if who == "A"][:4])
    recording = write_wav(tmp_path / "alone.wav", audio)
    record = tmp_path / "alone.jsonl"
    assert main(["analyze", str(recording), "--record", str(record)]) == 3
    captured = capsys.readouterr()
    assert "only one voice was heard" in captured.err and "Traceback" not in captured.err
    events = lines(record)
    assert not [e for e in events if e["type"] == "verdict"]
    assert "only one voice" in record.with_suffix(".html").read_text(encoding="utf-8")


def test_stopped_part_way_the_record_ends_so_that_resume_leaves_it_alone(tmp_path):
    turns = [(who, 3.0 * i, 3.0 * i + 2.5) for i, (who, _) in enumerate(DIALOGUE)]

    class Interrupted(ScriptedTranscriber):
        def transcribe(self, audio, context=""):
            if len(self.texts) == len(DIALOGUE) - 3:
                raise KeyboardInterrupt
            return super().transcribe(audio, context)

    record = tmp_path / "cut.jsonl"
    with pytest.raises(KeyboardInterrupt):
        analyze(Request(noise_wav(tmp_path / "talk.wav", 46.0), record=record), Config(),
                who_spoke=fake_who(turns), transcriber=Interrupted([t for _, t in DIALOGUE]),
                judge=WordJudge())
    events = lines(record)
    assert [e["type"] for e in events if e["type"] == "turn"] == ["turn"] * 3
    assert events[-1]["type"] == "end" and events[-1]["reason"] == "analysed"
    assert "stopped before the end" in events[-2]["message"]
    assert events[-1]["t"] == max(e["t"] for e in events)


def test_a_stereo_file_is_two_microphones_only_when_its_channels_differ(tmp_path):
    rng = np.random.default_rng(2)
    left = (rng.standard_normal(RATE * 2) * 3000).astype(np.int16)
    right = (rng.standard_normal(RATE * 2) * 3000).astype(np.int16)

    def stereo(path, a, b, rate=RATE):
        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(np.stack([a, b], axis=1).tobytes())
        return path

    assert read_recording(stereo(tmp_path / "two.wav", left, right)).audio.shape == (RATE * 2, 2)
    same = read_recording(stereo(tmp_path / "same.wav", left, left, rate=48000)).audio
    assert same.ndim == 1 and abs(len(same) - RATE * 2 / 3) < 10      # 48 kHz read as 16 kHz


def test_a_defect_inside_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    from facilitator.recorded import pipeline

    def broken(audio, **kwargs):
        raise RuntimeError("the voices room fell over")

    monkeypatch.setattr(pipeline, "_who_spoke", lambda: broken)
    monkeypatch.setattr(pipeline, "_load_transcriber", lambda config, names: (ScriptedTranscriber([]), ""))
    monkeypatch.setattr(pipeline, "_load_judge", lambda config: WordJudge())
    monkeypatch.setenv("FACILITATOR_DATA_DIR", str(tmp_path / "data"))
    assert main(["analyze", str(noise_wav(tmp_path / "talk.wav", 3.0))]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: the voices room fell over" in err and "Traceback" not in err
    assert not (tmp_path / "data").exists()


def test_an_unusable_voice_sample_is_named(tmp_path):
    from facilitator.recorded.voices import VoicesError

    def refuses(audio, *, enrolled=None, config=None, progress=None):
        raise VoicesError("the voice sample of partner A cannot be used: too little speech")

    samples = {who: noise_wav(tmp_path / f"{who}.wav", 5.0) for who in "AB"}
    with pytest.raises(AnalyzeError, match=r"partner A cannot be used.*--enroll A=.*A\.wav"):
        analyze(Request(noise_wav(tmp_path / "t.wav", 5.0), enroll=samples, record=tmp_path / "r.jsonl"),
                Config(), who_spoke=refuses, transcriber=ScriptedTranscriber([]), judge=WordJudge())
    assert not (tmp_path / "r.jsonl").exists()
