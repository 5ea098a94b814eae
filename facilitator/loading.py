"""Slow things (the speech model, the judge's sentence model) made on a thread while the
rest of the start-up goes on; `ready()` waits for the result and raises what making it raised."""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Loading(Generic[T]):
    def __init__(self, make: Callable[..., T], *args: object, name: str = "loading") -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(make, args), name=name, daemon=True)
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
