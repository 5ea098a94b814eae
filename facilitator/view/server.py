"""The coach view's server: Starlette app on uvicorn, in a background thread, loopback only.

Routes (every one needs the session token, as `?token=` or an `X-Coach-Token` header):
  GET  /         the page
  GET  /events   server-sent events: every event so far, then each new one as it comes
                 (the record's events only, as the record has them: the view subscribes to
                 the bus's record channel, never to its signals, and no event carries audio)
  POST /control  {"action": "pause"|"resume"|"repeat"|"skip"|"stop"|"override", "detail": {...}}
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
import socket
import threading
import time
from typing import Any, AsyncIterator

from facilitator.events import CONTROL_ACTIONS, AnyEvent, Control, ControlQueue, Event, EventBus
from facilitator.review.analysis import FAILING_LABELS
from facilitator.review.steps import step_titles
from facilitator.schema import RecordEvent
from facilitator.signals import Signal
from facilitator.view.page import render_page

KEEPALIVE_S = 15.0
DROPPED_FIELDS = ("audio",)                    # never sent to a browser


def for_the_page(event: AnyEvent) -> Event | None:
    """The event as the page may see it (a record line), or None for one it must not get:
    a signal, typed or (until every publisher sends typed events) an old "_..." dict."""
    if isinstance(event, Signal):
        return None
    if isinstance(event, RecordEvent):
        return event.to_dict()
    kind = event.get("type") if isinstance(event, dict) else None
    if not isinstance(kind, str) or kind.startswith("_"):
        return None
    if any(name in event for name in DROPPED_FIELDS):
        event = {k: v for k, v in event.items() if k not in DROPPED_FIELDS}
    return event


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; False for anything else (0.0.0.0 included)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class CoachView:
    """Serves the live page for one session; keeps every event so a late page sees them all."""

    def __init__(self, bus: EventBus, controls: ControlQueue, host: str = "127.0.0.1",
                 port: int = 0, token: str | None = None) -> None:
        if not is_loopback(host):
            raise ValueError(f"the coach view only listens on this computer (127.0.0.1), not {host!r}")
        self.bus = bus
        self.controls = controls
        self.host = "127.0.0.1" if host == "localhost" else host.strip("[]")
        self.port = port
        self.token = token or secrets.token_urlsafe(24)
        self._events: list[str] = []          # JSON text of each event, in order
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Event] = set()   # touched only on the server's loop
        self._closing = False
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.step_titles = step_titles()      # the script's step names -> what the page shows
        bus.subscribe(self._on_event)

    # -- events in --------------------------------------------------------------------
    def preload(self, events: list[AnyEvent]) -> None:
        """Add events that happened before the view existed (a resumed session)."""
        for event in events:
            self._on_event(event)

    def _on_event(self, event: AnyEvent) -> None:
        """Record-channel listener: runs on the publisher's thread, so it only stores and wakes."""
        event = for_the_page(event)
        if event is None:
            return
        if event.get("type") == "session" and isinstance(event.get("script"), str) and event["script"]:
            self.step_titles = step_titles(event["script"])     # that script's own titles, if any
        try:
            text = json.dumps(event, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            return
        with self._lock:
            self._events.append(text)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:
                pass   # the loop closed between the check and the call

    def _wake(self) -> None:
        for waiter in self._waiters:
            waiter.set()

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return [json.loads(text) for text in self._events]

    # -- serving ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/?token={self.token}"

    def start(self) -> str:
        """Start serving in a background thread; return the URL (with token) to open."""
        import uvicorn

        if self._thread is not None:
            return self.url
        if self._closing:
            raise RuntimeError("a stopped coach view cannot be started again; make a new one")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app(), log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1, timeout_keep_alive=5)
        self._server = uvicorn.Server(config)

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await self._server.serve(sockets=[sock])

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), name="coach-view", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the coach view could not start")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        """Close open pages' streams, stop the server and stop listening to the bus."""
        self.bus.unsubscribe(self._on_event)
        self._closing = True
        if self._server is not None:
            self._server.should_exit = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "CoachView":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the web app ------------------------------------------------------------------
    def _app(self):  # -> starlette.applications.Starlette
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
        from starlette.routing import Route

        headers = {
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        }

        def allowed(request: Request) -> bool:
            given = request.query_params.get("token") or request.headers.get("x-coach-token") or ""
            return secrets.compare_digest(given.encode(), self.token.encode())

        def refused() -> Response:
            return PlainTextResponse(
                "Forbidden: open the coach view with the link printed when the session started "
                "(it carries the session's token).\n", status_code=403, headers=headers)

        async def page(request: Request) -> Response:
            if not allowed(request):
                return refused()
            policy = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                      "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
                      "frame-ancestors 'none'")
            return HTMLResponse(render_page(self.token, FAILING_LABELS, self.step_titles),
                                headers={**headers, "Content-Security-Policy": policy})

        async def stream(request: Request) -> Response:
            if not allowed(request):
                return refused()
            try:
                start = int(request.headers.get("last-event-id", "-1")) + 1
            except ValueError:
                start = 0
            return StreamingResponse(self._stream(max(0, start)), media_type="text/event-stream",
                                     headers={**headers, "X-Accel-Buffering": "no"})

        async def control(request: Request) -> Response:
            if not allowed(request):
                return refused()
            origin = request.headers.get("origin")
            if origin and origin != f"http://{request.headers.get('host', '')}":
                return JSONResponse({"error": "wrong origin"}, status_code=403, headers=headers)
            try:
                body = await request.json()
                made = self._control_from(body)
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400, headers=headers)
            self.controls.put(made)
            return JSONResponse({"ok": True, "action": made.action}, headers=headers)

        return Starlette(routes=[
            Route("/", page, methods=["GET"]),
            Route("/events", stream, methods=["GET"]),
            Route("/control", control, methods=["POST"]),
        ])

    @staticmethod
    def _control_from(body: Any) -> Control:
        if not isinstance(body, dict):
            raise ValueError("send a JSON object with an action")
        action = body.get("action")
        if action not in CONTROL_ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(CONTROL_ACTIONS)}")
        detail = None
        if action == "override":
            raw = body.get("detail")
            if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str) \
                    or not isinstance(raw.get("label"), str):
                raise ValueError("an override needs detail {\"kind\": ..., \"label\": ...}")
            detail = {"kind": raw["kind"], "label": raw["label"]}
        return Control(action, source="coach", detail=detail)

    async def _stream(self, index: int) -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        while not self._closing:
            with self._lock:
                batch = self._events[index:]
            if batch:
                for number, text in enumerate(batch, start=index):
                    yield f"id: {number}\ndata: {text}\n\n"
                index += len(batch)
                continue
            waiter = asyncio.Event()
            self._waiters.add(waiter)
            try:
                with self._lock:
                    pending = len(self._events) > index
                if not pending and not self._closing:
                    try:
                        await asyncio.wait_for(waiter.wait(), KEEPALIVE_S)
                    except asyncio.TimeoutError:
                        yield ": keep-alive\n\n"
            finally:
                self._waiters.discard(waiter)
