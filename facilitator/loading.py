"""Slow things (the speech model, the judge's sentence model, who spoke) made on a thread
while the rest goes on; `ready()` waits for the result and raises what making it raised.

Every such thread is known to `Loading.join_all()`, which the program calls before it
exits: a thread still inside native code (a model being loaded) when the interpreter shuts
down aborts the process ("terminate called without an active exception")."""

from __future__ import annotations

import ctypes
import functools
import os
import threading
import time
import weakref
from typing import Callable, Generic, TypeVar

T = TypeVar("T")

# Memory (glibc's malloc, Linux). By default malloc keeps what the program frees for
# reuse, and its dynamic mmap threshold soon puts buffers of up to 32 MB (a turn's network
# activations, the copies made while a model is built) into heaps it seldom gives back;
# every thread may also get a heap of its own. `tune_malloc`, called when the package is
# imported (before any thread), fixes the threshold at 8 MB, so that larger buffers are
# mapped on their own and returned when freed, and allows two heaps. `release_memory`
# gives the free pages left inside the heaps back: after each model has loaded, and every
# second from the first model on (`keep_releasing_memory`; about 0.5 ms when there is
# little to give back, a few ms after a transcription). A lower threshold (1 MB) saves a
# little more but makes every transcription ~30% slower (its buffers mapped afresh each
# time); 8 MB costs none measurably. With this and onnxruntime's arena off
# (facilitator/onnx_runtime.py) the peak RSS of `facilitator demo --fast` is about 95 MB
# lower (benchmarks/memory.py --compare). Elsewhere (macOS, musl) all of it does nothing,
# and `FACILITATOR_MALLOC_TUNING=0` leaves malloc as it is (for measuring).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD = 8 << 20
TRIM_THRESHOLD = 16 << 20
ARENA_MAX = 2
TRIM_EVERY_S = 1.0


@functools.lru_cache(maxsize=1)
def _libc():
    if os.environ.get("FACILITATOR_MALLOC_TUNING", "1").strip() == "0":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def tune_malloc() -> bool:
    """Large buffers mapped on their own and two heaps at most (glibc); True when set."""
    libc = _libc()
    if libc is None:
        return False
    return all(libc.mallopt(option, value) == 1 for option, value in (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_ARENA_MAX, ARENA_MAX)) if value)


def release_memory() -> None:
    """Give the free pages inside malloc's heaps back to the system (glibc)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


_trimming = threading.Lock()
_trimmer: threading.Thread | None = None


def keep_releasing_memory(every_s: float = TRIM_EVERY_S) -> None:
    """From now on, `release_memory` every `every_s` seconds on a thread of its own (once
    per process; started with the first model that loads, so a short command has none)."""
    global _trimmer
    if _libc() is None:
        return
    with _trimming:
        if _trimmer is not None:
            return

        def trim() -> None:
            while True:
                time.sleep(every_s)
                release_memory()

        _trimmer = threading.Thread(target=trim, name="memory-release", daemon=True)
        _trimmer.start()


class Loading(Generic[T]):
    _all: "weakref.WeakSet[Loading]" = weakref.WeakSet()
    _all_lock = threading.Lock()

    def __init__(self, make: Callable[..., T], *args: object, name: str = "loading") -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        keep_releasing_memory()
        self._thread = threading.Thread(target=self._run, args=(make, args), name=name, daemon=True)
        with Loading._all_lock:
            Loading._all.add(self)
        self._thread.start()

    def _run(self, make: Callable[..., T], args: tuple) -> None:
        try:
            self._result = make(*args)
        except BaseException as error:   # handed to whoever waits
            self._error = error
        release_memory()   # what building the model copied and let go

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def ready(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def wait(self) -> None:
        """Wait for the thread to end, whatever it gave (an unwanted result is dropped)."""
        self._thread.join()

    @classmethod
    def join_all(cls, timeout_s: float = 60.0) -> bool:
        """Wait for every thread still making something; True when none is left."""
        deadline = time.monotonic() + timeout_s
        with cls._all_lock:
            pending = list(cls._all)
        for loading in pending:
            loading._thread.join(max(0.0, deadline - time.monotonic()))
        return not any(loading.running for loading in pending)
