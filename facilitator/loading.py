"""Slow things (the speech model, the judge's sentence model, who spoke) made on a thread
while the rest goes on; `ready()` waits for the result and raises what making it raised.

Every such thread is known to `Loading.join_all()`, which the program calls before it
exits: a thread still inside native code (a model being loaded) when the interpreter shuts
down aborts the process ("terminate called without an active exception")."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Loading(Generic[T]):
    _all: "weakref.WeakSet[Loading]" = weakref.WeakSet()
    _all_lock = threading.Lock()

    def __init__(self, make: Callable[..., T], *args: object, name: str = "loading") -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(make, args), name=name, daemon=True)
        with Loading._all_lock:
            Loading._all.add(self)
        self._thread.start()

    def _run(self, make: Callable[..., T], args: tuple) -> None:
        try:
            self._result = make(*args)
        except BaseException as error:   # handed to whoever waits
            self._error = error

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
