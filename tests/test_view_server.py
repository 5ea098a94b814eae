"""The coach view's server: token required, loopback only, events streamed, controls queued."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from facilitator.events import Control, ControlQueue, EventBus
from facilitator.view import CoachView, is_loopback


@pytest.fixture
def view() -> Iterator[CoachView]:
    coach = CoachView(EventBus(), ControlQueue())
    coach.start()
    yield coach
    coach.stop()


def _base(view: CoachView) -> str:
    return f"http://127.0.0.1:{view.port}"


def _status(request: urllib.request.Request | str) -> int:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _post(url: str, body: object, token: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Coach-Token"] = token
    return _status(urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", ""])
def test_refuses_non_loopback_hosts(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ValueError, match="only listens on this computer"):
        CoachView(EventBus(), ControlQueue(), host=host)


def test_loopback_names() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"))


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net shows them) listening on `port`."""
    found = []
    for name in ("tcp", "tcp6"):
        table = Path("/proc/net") / name
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":    # 0A = LISTEN
                found.append(address)
    return found


def test_listens_on_loopback_only(view: CoachView) -> None:
    parts = urlsplit(view.url)
    assert parts.hostname == "127.0.0.1" and parts.port == view.port
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to read listening sockets from")
    assert _listening(view.port) == ["0100007F"]        # 127.0.0.1, and nothing on 0.0.0.0 or ::


def test_requests_without_the_token_are_refused(view: CoachView) -> None:
    base = _base(view)
    for path in ("/", "/events", "/?token=", "/?token=wrong", f"/?token={view.token}x"):
        assert _status(base + path) == 403, path
    assert _post(base + "/control", {"action": "pause"}) == 403
    assert _post(base + "/control?token=nope", {"action": "pause"}) == 403
    assert view.controls.drain() == []
    assert _status(view.url) == 200
    token_count = len(view.token)
    assert token_count >= 32


def test_controls_are_checked_and_queued(view: CoachView) -> None:
    url = _base(view) + "/control"
    assert _post(url, {"action": "repeat"}, view.token) == 200
    assert _post(url, {"action": "override", "detail": {"kind": "mirror", "label": "mirror"}}, view.token) == 200
    assert _post(url, {"action": "dance"}, view.token) == 400
    assert _post(url, {"action": "override"}, view.token) == 400
    assert _post(url, ["pause"], view.token) == 400
    assert view.controls.drain() == [
        Control("repeat", source="coach"),
        Control("override", source="coach", detail={"kind": "mirror", "label": "mirror"}),
    ]


def _read_events(url: str, count: int) -> list[dict]:
    events = []
    with urllib.request.urlopen(url, timeout=5) as stream:
        while len(events) < count:
            line = stream.readline().decode()
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def test_late_page_gets_every_event_then_new_ones_fast(view: CoachView) -> None:
    for number in range(3):
        view.bus.publish({"type": "prompt", "t": float(number), "text": f"prompt {number}"})
    stream_url = _base(view) + f"/events?token={view.token}"
    assert [e["text"] for e in _read_events(stream_url, 3)] == ["prompt 0", "prompt 1", "prompt 2"]

    with urllib.request.urlopen(stream_url, timeout=5) as stream:
        seen = 0
        while seen < 3:
            seen += stream.readline().startswith(b"data: ")
        sent = time.monotonic()
        view.bus.publish({"type": "turn", "t": 5.0, "speaker": "A", "text": "new"})
        while not (line := stream.readline()).startswith(b"data: "):
            pass
        assert json.loads(line[6:])["text"] == "new"
        assert time.monotonic() - sent < 1.0


def test_reconnect_resumes_after_last_event_id(view: CoachView) -> None:
    for number in range(4):
        view.bus.publish({"type": "prompt", "t": float(number), "text": str(number)})
    request = urllib.request.Request(_base(view) + "/events", headers={
        "X-Coach-Token": view.token, "Last-Event-ID": "1"})
    assert [e["text"] for e in _read_events(request, 2)] == ["2", "3"]


def test_stop_closes_open_streams_and_frees_the_port() -> None:
    bus = EventBus()
    coach = CoachView(bus, ControlQueue())
    url = coach.start()
    stream = urllib.request.urlopen(url.replace("/?", "/events?"), timeout=5)
    started = time.monotonic()
    coach.stop()
    assert time.monotonic() - started < 3
    stream.close()
    bus.publish({"type": "prompt", "t": 0.0, "text": "after stop"})   # no listener left
    assert all(e.get("text") != "after stop" for e in coach.events)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", coach.port)) != 0


def test_internal_events_and_audio_never_reach_the_page(view: CoachView) -> None:
    import numpy as np

    view.bus.publish({"type": "_spoken", "t": 1.0, "text": "Welcome", "audio": np.zeros(16000), "rate": 16000})
    view.bus.publish({"type": "_partial", "t": 1.5, "speaker": "A", "text": "I feel"})
    view.bus.publish({"type": "_timing", "turn": 1, "decided": 2.0})
    view.bus.publish({"type": "prompt", "t": 2.0, "text": "Alex, please share.", "audio": b"\x00" * 64})
    view.bus.publish({"t": 2.5, "text": "no type at all"})
    view.preload([{"type": "_spoken", "t": 0.5, "audio": [0.0]}, {"type": "step", "t": 3.0, "name": "send"}])
    assert view.events == [{"type": "prompt", "t": 2.0, "text": "Alex, please share."},
                           {"type": "step", "t": 3.0, "name": "send"}]
    streamed = _read_events(_base(view) + f"/events?token={view.token}", 2)
    assert [e["type"] for e in streamed] == ["prompt", "step"] and "audio" not in streamed[0]


def _page(view: CoachView) -> str:
    with urllib.request.urlopen(view.url, timeout=5) as response:
        return response.read().decode()


def test_page_has_step_titles_and_an_empty_talk_bar(view: CoachView) -> None:
    page = _page(view)
    config = json.loads(page.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["steps"]["summary_confirm"] == "Checking the summary"
    assert config["steps"]["mirror"] == "Mirroring"
    assert "STEP_NAMES" not in page                       # no second list of titles in the page
    # before anyone speaks: no 50/50 split, an empty bar and words saying so
    bar = page.split('<div id="balance-bar"', 1)[1].split("</div>", 1)[0]
    assert 'class="empty"' in bar and "width:50%" not in bar
    assert "No one has spoken yet." in page
    assert ": 50;" not in page.split("function drawBalance", 1)[1].split("}", 1)[0]


def test_page_titles_follow_the_session_script(view: CoachView, tmp_path: Path) -> None:
    script = tmp_path / "ours.toml"
    script.write_text('[[steps]]\nname = "mirror"\ntitle = "Say it back"\n')
    view.bus.publish({"type": "session", "t": 0.0, "names": {"A": "Alex", "B": "Sam"}, "script": str(script)})
    assert '"mirror": "Say it back"' in _page(view)
