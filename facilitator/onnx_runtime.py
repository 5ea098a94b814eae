"""Every onnxruntime session of the program is made here, by `inference_session`.

Telemetry. onnxruntime 1.29 and later collect telemetry on Linux too (a 1DS uploader):
as soon as the library is loaded it writes a device id and a queue of events
(`~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid`, `onnxruntime.db`) and, a few
seconds later, looks up and posts to mobile.events.data.microsoft.com. Its only full
opt-out is the environment variable `ORT_DISABLE_TELEMETRY=1`, read once, when the native
library starts (that is, on `import onnxruntime`); `disable_telemetry_events()` after the
import only quiets later events, not the ones of the start. So the variable is set when the
`facilitator` package is imported (`facilitator/__init__.py`), before anything can import
onnxruntime (faster-whisper's VAD included), again here before every import, and the API
is called as well. A process that imported onnxruntime before facilitator cannot be fixed
from inside: `telemetry_was_off_at_import()` says so.

Memory. The models are small (CAM++ 28 MB, segmentation 6 MB, MiniLM 70 MB of float32
weights), and onnxruntime's CPU arena would keep the largest intermediate buffers each
session ever needed, for each session, for the rest of the run; with the arena and the
memory pattern off, buffers are allocated per run and returned to malloc. Outputs are
the same (only where the buffers live changes).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

TELEMETRY_ENV = {"ORT_DISABLE_TELEMETRY": "1"}
LEAN_MEMORY = True        # the default of `lean_memory` (benchmarks/memory.py --compare turns it off)

_lock = threading.Lock()
_api_called = False
_imported_before: bool | None = None


def disable_telemetry() -> None:
    """Put onnxruntime's telemetry opt-out into the environment (before its first import)."""
    global _imported_before
    if _imported_before is None:
        _imported_before = "onnxruntime" in sys.modules and any(
            os.environ.get(k) != v for k, v in TELEMETRY_ENV.items())
    os.environ.update(TELEMETRY_ENV)


def telemetry_was_off_at_import() -> bool:
    """False when onnxruntime had been imported (without the opt-out) before facilitator."""
    return not _imported_before


def runtime():
    """The `onnxruntime` module, loaded with its telemetry off (ImportError when missing)."""
    global _api_called
    disable_telemetry()
    import onnxruntime as ort

    with _lock:
        if not _api_called:
            off = getattr(ort, "disable_telemetry_events", None)
            if off is not None:
                off()
            _api_called = True
            if not telemetry_was_off_at_import():
                logging.getLogger("facilitator").warning(
                    "onnxruntime was imported before facilitator, so its telemetry could not "
                    "be turned off; set ORT_DISABLE_TELEMETRY=1 in the environment")
    return ort


def session_options(threads: int = 1, lean_memory: bool | None = None):
    """Options for one CPU session: `threads` intra-op threads, quiet logs and, with
    `lean_memory`, no arena and no memory pattern (see the module's docstring)."""
    ort = runtime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if LEAN_MEMORY if lean_memory is None else lean_memory:
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
    return options


def inference_session(model: str | Path | bytes, threads: int = 1,
                      lean_memory: bool | None = None, optimized: bool = False):
    """An onnxruntime CPU session of `model` (a path, or the serialized model's bytes);
    `optimized`: a model onnxruntime has optimized already (not optimized again)."""
    ort = runtime()
    source = model if isinstance(model, (bytes, bytearray)) else str(model)
    options = session_options(threads, lean_memory)
    if optimized:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
