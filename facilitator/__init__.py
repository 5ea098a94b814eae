"""facilitator: a local, offline, voice-driven coach for the Imago Dialogue."""

__version__ = "0.1.0"

# Before anything can import onnxruntime (our models, faster-whisper's VAD): its telemetry
# is read from the environment once, when the library loads. See facilitator/onnx_runtime.py.
from facilitator.onnx_runtime import disable_telemetry as _disable_telemetry  # noqa: E402

_disable_telemetry()

# Before any thread or model: large buffers returned to the system when freed (glibc's
# malloc; see facilitator/loading.py).
from facilitator.loading import tune_malloc as _tune_malloc  # noqa: E402

_tune_malloc()
