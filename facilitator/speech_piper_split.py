"""The Piper voice split in two, once, and kept in the cache folder (for `speech_piper`).

A VITS voice is one network: text encoder, durations and flow (small activations), then the
decoder, whose activations grow with the sentence (about 30 MB a second of speech, 170 MB
for an 8 s sentence). The voice is split once into `encoder.onnx` (its weights in
`encoder.data`, which onnxruntime maps from the file instead of copying) and
`decoder.onnx`; the encoder is also kept as onnxruntime optimizes it (`encoder.opt.onnx`),
which opens in a quarter of the time. The decoder is then run on windows of
`DECODE_FRAMES` frames with `DECODE_PAD` frames of context on each side (the same samples
as in one piece). A voice whose network is not laid out so is run whole.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

DECODE_FRAMES = 32
DECODE_PAD = 16
SPLIT_VERSION = "2"
OPTIMIZED, OPTIMIZED_DATA = "encoder.opt.onnx", "encoder.opt.data"


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
    _save_optimized(folder)
    return True


def _save_optimized(folder: Path) -> None:
    """Also keep the encoder as onnxruntime optimizes it (`encoder.opt.onnx`, weights in
    `encoder.opt.data`): loaded without optimizing again, it opens in a quarter of the time.
    Nothing is kept when that fails (the plain encoder is used)."""
    from facilitator.onnx_runtime import runtime, session_options

    options = session_options(1, None)
    options.optimized_model_filepath = str(folder / OPTIMIZED)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                     OPTIMIZED_DATA)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    try:
        runtime().InferenceSession(str(folder / "encoder.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    except Exception:     # onnxruntime's own errors
        for name in (OPTIMIZED, OPTIMIZED_DATA):
            (folder / name).unlink(missing_ok=True)


def split_folder(model: Path) -> Path | None:
    """The folder of `model`'s split (made in a child process the first time), or None
    when the voice cannot be split or the folder cannot be written (then it is run whole)."""
    stat = model.stat()
    from facilitator.onnx_runtime import runtime

    runtime_version = str(getattr(runtime(), "__version__", "0"))   # the optimized file is its own
    folder = cache_root() / "piper" / (f"{model.stem}-{stat.st_size}-{stat.st_mtime_ns}"
                                       f"-v{SPLIT_VERSION}-ort{runtime_version}")
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
        code = ("import sys; from pathlib import Path; from facilitator.speech_piper_split import split_voice; "
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
