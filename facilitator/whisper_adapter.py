"""Everything that touches faster-whisper's internals, in one place.

`facilitator.transcribe.Transcriber` asks this module for a model and for segments; only
here are `WhisperModel`, its feature extractor and CTranslate2 encoder, `Tokenizer`,
`TranscriptionOptions` and `generate_segments` used. The short window (the turn's own
length, at least `window_s`, instead of Whisper's 30 s) is encoded here and decoded by
faster-whisper's own `generate_segments`.

The options are faster-whisper's own defaults (the keyword defaults of
`WhisperModel.transcribe`) with only `overrides()` changed, so a new library default
reaches us unless we chose otherwise. faster-whisper 1.1.0 to 1.2.1 have the same
`TranscriptionOptions` fields, `generate_segments`, `Tokenizer` and `transcribe()`
signatures; pyproject.toml pins that range (`SUPPORTED`). `contract_problems()` names
what a newer release changed; tests/test_whisper_adapter.py fails with its words.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect

import numpy as np

from facilitator.core import SAMPLE_RATE

SUPPORTED = ">=1.1,<1.3"   # the faster-whisper range in pyproject.toml
# TranscriptionOptions' fields in faster-whisper 1.1.0 to 1.2.1, in order.
KNOWN_FIELDS = (
    "beam_size", "best_of", "patience", "length_penalty", "repetition_penalty",
    "no_repeat_ngram_size", "log_prob_threshold", "no_speech_threshold",
    "compression_ratio_threshold", "condition_on_previous_text",
    "prompt_reset_on_temperature", "temperatures", "initial_prompt", "prefix",
    "suppress_blank", "suppress_tokens", "without_timestamps", "max_initial_timestamp",
    "word_timestamps", "prepend_punctuations", "append_punctuations", "multilingual",
    "max_new_tokens", "clip_timestamps", "hallucination_silence_threshold", "hotwords",
)
TEMPERATURES = (0.0, 0.4, 0.8)   # fewer fallbacks than the default six: a turn stays quick
# The parameters of faster-whisper's callables that this module passes or reads.
SIGNATURES = {
    "WhisperModel.__init__": ("model_size_or_path", "device", "compute_type", "cpu_threads",
                              "local_files_only", "files"),
    "WhisperModel.generate_segments": ("features", "tokenizer", "options", "log_progress",
                                       "encoder_output"),
    "WhisperModel.transcribe": ("audio", "language", "beam_size", "initial_prompt",
                                "condition_on_previous_text", "without_timestamps",
                                "vad_filter"),
    "Tokenizer.__init__": ("tokenizer", "multilingual", "task", "language"),
}
# WhisperModel's attributes used for the short window (checked on a loaded model).
MODEL_ATTRIBUTES = ("feature_extractor", "hf_tokenizer", "model.encode", "model.is_multilingual")
FIX = "update facilitator/whisper_adapter.py (and the pin in pyproject.toml)"


def load_model(path: str, compute_type: str, cpu_threads: int, files: dict[str, bytes] | None = None):
    """faster-whisper's `WhisperModel` on the CPU, from a local directory only, or from the
    model's `files` in memory (then `path` only names it)."""
    from faster_whisper import WhisperModel

    return WhisperModel(path, device="cpu", compute_type=compute_type,
                        cpu_threads=cpu_threads, local_files_only=True,
                        files=dict(files) if files else None)


def overrides(beam_size: int, prompt: str | None) -> dict:
    """The options that differ from faster-whisper's defaults (or must not follow them):
    one decoding per temperature, no timestamps, no carried-over text between windows."""
    return {
        "beam_size": beam_size,
        "best_of": 1,
        "temperatures": list(TEMPERATURES),
        "initial_prompt": prompt,
        "condition_on_previous_text": False,
        "without_timestamps": True,
    }


def option_fields() -> tuple[str, ...]:
    from faster_whisper.transcribe import TranscriptionOptions

    if dataclasses.is_dataclass(TranscriptionOptions):
        return tuple(f.name for f in dataclasses.fields(TranscriptionOptions))
    return tuple(getattr(TranscriptionOptions, "_fields", ()))   # a NamedTuple (< 1.1)


def library_defaults() -> dict:
    """`WhisperModel.transcribe`'s keyword defaults for the option fields of the same name
    (copied: some are lists)."""
    from faster_whisper import WhisperModel

    params = inspect.signature(WhisperModel.transcribe).parameters
    return {name: copy.deepcopy(params[name].default) for name in option_fields()
            if name in params and params[name].default is not inspect.Parameter.empty}


def short_options(beam_size: int, prompt: str | None):
    """`TranscriptionOptions`: the library's defaults with `overrides()`."""
    from faster_whisper.transcribe import TranscriptionOptions

    values = {**library_defaults(), **overrides(beam_size, prompt)}
    missing = [name for name in option_fields() if name not in values]
    if missing:
        raise RuntimeError(f"faster-whisper's TranscriptionOptions has field(s) with no "
                           f"default and no override: {', '.join(missing)}: {FIX}")
    return TranscriptionOptions(**{name: values[name] for name in option_fields()})


def short_features(model, audio: np.ndarray, window_s: float) -> np.ndarray:
    """Log-mel features of `audio` and trailing silence, at least `window_s` long: shorter
    windows make tiny.en repeat itself ("Yes. Yes. Yes.")."""
    total = max(len(audio) / SAMPLE_RATE + 1.0, window_s)
    padded = np.concatenate([audio, np.zeros(int(total * SAMPLE_RATE) - len(audio), np.float32)])
    features = model.feature_extractor(padded)
    frames = min(3000, features.shape[-1] - features.shape[-1] % 2)
    return np.ascontiguousarray(features[:, :frames])


def transcribe_short(model, audio: np.ndarray, prompt: str | None, language: str,
                     beam_size: int, window_s: float) -> list:
    """faster-whisper segments of `audio` (float32, 16 kHz, at most 28 s) from an encoder
    run on the short window only."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    features = short_features(model, audio, window_s)
    encoder_output = model.model.encode(
        ctranslate2.StorageView.from_array(features[None]), to_cpu=False
    )
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                          task="transcribe", language=language)
    options = short_options(beam_size, prompt)
    return list(model.generate_segments(features, tokenizer, options, False,
                                        encoder_output=encoder_output))


def transcribe_long(model, audio: np.ndarray, prompt: str | None, language: str,
                    beam_size: int) -> list:
    """faster-whisper's own `transcribe` (30 s windows) with the same choices."""
    segments, _ = model.transcribe(
        audio, language=language, beam_size=beam_size, initial_prompt=prompt,
        condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
    )
    return list(segments)


def _parameters(name: str) -> list[str]:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

    owner, method = name.split(".")
    function = getattr({"WhisperModel": WhisperModel, "Tokenizer": Tokenizer}[owner], method)
    return [p for p in inspect.signature(function).parameters if p != "self"]


def contract_problems(model=None) -> list[str]:
    """What the installed faster-whisper changed in what this module relies on, one
    sentence each with the fix; empty when all holds. `model`: also check a loaded
    `WhisperModel`'s attributes."""
    import faster_whisper

    version = getattr(faster_whisper, "__version__", "?")
    changed = f"faster-whisper {version} changed"
    problems = []
    fields = option_fields()
    added = [f for f in fields if f not in KNOWN_FIELDS]
    removed = [f for f in KNOWN_FIELDS if f not in fields]
    if added or removed:
        problems.append(
            f"{changed} TranscriptionOptions' fields (added: {', '.join(added) or 'none'}; "
            f"removed: {', '.join(removed) or 'none'}): {FIX} (KNOWN_FIELDS, overrides())")
    sources = {**library_defaults(), **overrides(1, None)}
    unsourced = [f for f in fields if f not in sources]
    if unsourced:
        problems.append(
            f"{changed} TranscriptionOptions: no default in WhisperModel.transcribe() and "
            f"no override for {', '.join(unsourced)}: {FIX} (overrides())")
    for name, wanted in SIGNATURES.items():
        try:
            have = _parameters(name)
        except (AttributeError, TypeError, ValueError) as error:
            problems.append(f"{changed} {name}: it cannot be read ({error}): {FIX}")
            continue
        if name == "WhisperModel.generate_segments" and have[:len(wanted)] != list(wanted):
            problems.append(f"{changed} {name}'s parameters to ({', '.join(have)}), "
                            f"we pass ({', '.join(wanted)}): {FIX}")
        elif missing := [p for p in wanted if p not in have]:
            problems.append(f"{changed} {name}: no parameter(s) {', '.join(missing)} "
                            f"(it has {', '.join(have)}): {FIX}")
    import ctranslate2

    if not hasattr(ctranslate2.StorageView, "from_array"):
        problems.append(f"ctranslate2 {ctranslate2.__version__} has no "
                        f"StorageView.from_array: {FIX}")
    encode = getattr(ctranslate2.models.Whisper, "encode", None)
    if encode is None or "to_cpu" not in (encode.__doc__ or ""):
        problems.append(f"ctranslate2 {ctranslate2.__version__} changed Whisper.encode "
                        f"(no to_cpu parameter): {FIX}")
    for path in MODEL_ATTRIBUTES if model is not None else ():
        target = model
        for part in path.split("."):
            target = getattr(target, part, None)
        if target is None:
            problems.append(f"{changed} WhisperModel: it has no .{path}: {FIX}")
    return problems
