"""The real microphone path, end to end, through a private PulseAudio server.

Two null sinks stand in for the room: the partners' synthetic speech is played into the
sink "partners", whose monitor is the program's microphone (the default source); the
program speaks its prompts into the sink "facilitator" (the default sink), whose monitor
this test listens to, so each partner answers, like a person, once the prompt is over.
First each partner is asked by name for a few sentences (hands-free voice enrollment);
then the dialogue's turns are attributed from the voice.
`facilitator run --device pulse` runs as a subprocess through PortAudio -> ALSA -> the
pulse plugin -> the private server, and is stopped with SIGINT like a person pressing
Ctrl-C. Nothing is written outside a temporary directory, and only the server this test
started is stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.pulse

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
LINE_A = "Sam, I would like to have a dialogue. Is now a good time?"
LINE_B = "Yes, I'm ready now."
ENROLL_A = ("My day was busy. I went for a run in the morning, then I worked on the garden "
            "and cooked a big pot of soup for the week.")
ENROLL_B = ("My day was good but long. I had meetings all morning, I walked the dog at lunch, "
            "and in the afternoon I finished the report.")
# The program's config (in its working folder): prompts at twice the default rate (165 words
# a minute), so that the waits for them (the welcome alone is ~13 s at 165) are half as long.
# Every prompt is still rendered, played into the sink and heard; how fast does not matter here.
CONFIG = "[speech]\nrate = 330\n"


# -- the private server --------------------------------------------------------------------
def _pulse_env(base: Path) -> dict[str, str]:
    for sub in ("rt", "config", "home", "cache", "data"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "HOME": str(base / "home"),
        "XDG_RUNTIME_DIR": str(base / "rt"),
        "XDG_CONFIG_HOME": str(base / "config"),
        "XDG_CACHE_HOME": str(base / "cache"),
        "XDG_DATA_HOME": str(base / "data"),
        "PULSE_SERVER": f"unix:{base / 'rt' / 'native'}",
        "PULSE_RUNTIME_PATH": str(base / "rt" / "pulse"),
        "FACILITATOR_DATA_DIR": str(base / "data" / "facilitator"),
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.pop("DISPLAY", None)
    return env


@pytest.fixture
def pulse():
    missing = [p for p in ("pulseaudio", "pactl", "paplay", "parec") if not shutil.which(p)]
    if missing:
        pytest.skip(f"PulseAudio is not installed (missing {', '.join(missing)}); "
                    "`bash scripts/setup.sh --test` installs it")
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (needed for the partners' synthetic speech)")
    # A short path: a unix socket path must stay under ~108 bytes.
    base = Path(tempfile.mkdtemp(prefix="fac-pulse-"))
    env = _pulse_env(base)
    socket = base / "rt" / "native"
    script = base / "default.pa"
    script.write_text(
        f"load-module module-native-protocol-unix socket={socket} auth-anonymous=1\n"
        "load-module module-null-sink sink_name=facilitator rate=16000 channels=1\n"
        "load-module module-null-sink sink_name=partners rate=16000 channels=1\n"
        "set-default-sink facilitator\n"
        "set-default-source partners.monitor\n"
    )
    log = open(base / "pulseaudio.log", "wb")
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes",
         "--use-pid-file=no", "--system=no", "-F", str(script), "--log-target=stderr"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=base,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if server.poll() is not None:
                log.flush()
                pytest.skip("the private PulseAudio server did not start: "
                            + (base / "pulseaudio.log").read_text(errors="replace")[-500:])
            if socket.exists() and subprocess.run(["pactl", "info"], env=env,
                                                  capture_output=True).returncode == 0:
                break
            if time.monotonic() > deadline:
                pytest.skip("the private PulseAudio server did not answer within 10 s")
            time.sleep(0.1)
        yield base, env
    finally:
        if server.poll() is None:
            server.terminate()              # only the server started above, by its pid
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


# -- the room's ears: the facilitator's sink, heard through its monitor ---------------------
class PromptListener:
    """Follows the loudness of the facilitator's sink (parec on its monitor)."""

    def __init__(self, env: dict[str, str]):
        self.last_loud = 0.0
        self.loud_frames = 0
        self._process = subprocess.Popen(
            ["parec", "-d", "facilitator.monitor", "--raw", "--format=s16le", "--rate=16000",
             "--channels=1", "--latency-msec=20"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        block = RATE // 50 * 2          # 20 ms of s16le
        stream = self._process.stdout
        while True:
            data = stream.read(block)
            if not data:
                return
            samples = np.frombuffer(data[: len(data) // 2 * 2], np.int16)
            if samples.size and np.abs(samples.astype(np.int32)).max() > 300:
                self.last_loud = time.monotonic()
                self.loud_frames += 1

    def wait_prompt_over(self, after_frames: int, quiet_s: float = 0.7, timeout: float = 25.0) -> bool:
        """Wait for a prompt (loud frames beyond `after_frames`) and then `quiet_s` of quiet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.loud_frames > after_frames + 10 and time.monotonic() - self.last_loud >= quiet_s:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self._process.kill()


# -- helpers -------------------------------------------------------------------------------
def _write_wav(path: Path, samples: np.ndarray) -> None:
    lead = np.zeros(int(0.2 * RATE), np.int16)       # the plugin's first block can be clipped
    tail = np.zeros(int(0.3 * RATE), np.int16)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(np.concatenate([lead, samples, tail]).tobytes())


def _default_sigint() -> None:
    """In the child: Ctrl-C handling as in a terminal. A test run in the background (`cmd &`
    in a script) inherits an ignored SIGINT, and Python then installs no handler for it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _play(path: Path, env: dict[str, str]) -> None:
    subprocess.run(["paplay", "-d", "partners", str(path)], env=env, check=True, timeout=30)


def _events(record: Path) -> list[dict]:
    if not record.exists():
        return []
    events = []
    for line in record.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass                      # a line being written
    return events


def _wait_for(record: Path, predicate, timeout: float, program: subprocess.Popen) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _events(record)
        if predicate(events):
            return events
        if program.poll() is not None:
            break
        time.sleep(0.1)
    return _events(record)


def _turns(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("type") == "turn"]


def _prompts(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("type") == "prompt"]


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split())


# -- the test ------------------------------------------------------------------------------
def test_microphone_session_through_pulseaudio(pulse):
    from facilitator.sim.voices import PARTNER_VOICES, speak_to_array

    base, env = pulse
    devices = subprocess.run([sys.executable, "-m", "facilitator", "devices"], env=env, cwd=base,
                             capture_output=True, text=True, timeout=60)
    if "pulse" not in devices.stdout:
        pytest.skip("PortAudio shows no 'pulse' device (is libasound2-plugins installed?): "
                    + devices.stdout.strip()[:300])

    line_a, line_b = base / "a.wav", base / "b.wav"
    _write_wav(line_a, speak_to_array(LINE_A, PARTNER_VOICES["A"]))
    _write_wav(line_b, speak_to_array(LINE_B, PARTNER_VOICES["B"]))
    enroll_a, enroll_b = base / "enroll_a.wav", base / "enroll_b.wav"
    _write_wav(enroll_a, speak_to_array(ENROLL_A, PARTNER_VOICES["A"]))
    _write_wav(enroll_b, speak_to_array(ENROLL_B, PARTNER_VOICES["B"]))

    record = base / "session.jsonl"
    (base / "config.toml").write_text(CONFIG)
    listener = PromptListener(env)
    output = open(base / "program.log", "wb")
    program = subprocess.Popen(
        [sys.executable, "-m", "facilitator", "run", "--device", "pulse", "--record", str(record),
         "--name", "A=Alex", "--name", "B=Sam"],
        env=env, cwd=base, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
        preexec_fn=_default_sigint,
    )

    def log() -> str:
        output.flush()
        return (base / "program.log").read_text(errors="replace")[-2000:]

    try:
        # Hands-free enrollment: each partner is asked by name, answers into the microphone.
        events = _wait_for(record, lambda ev: len(_prompts(ev)) >= 1, 30, program)
        assert _prompts(events), f"no first prompt in the record.\n{log()}"
        assert "Alex" in _prompts(events)[0]["text"]
        assert listener.wait_prompt_over(0), f"the first prompt was never heard.\n{log()}"
        for label, wav in (("A", enroll_a), ("B", enroll_b)):
            heard = listener.loud_frames
            _play(wav, env)
            events = _wait_for(record, lambda ev: any(
                e.get("type") == "enrollment" and e["speaker"] == label for e in ev), 20, program)
            tried = [e for e in events if e.get("type") == "enrollment" and e["speaker"] == label]
            assert tried and tried[0]["ok"], f"{label}'s enrollment: {tried}\n{log()}"
            if label == "A":
                assert listener.wait_prompt_over(heard), f"Sam was never asked.\n{log()}"
        # "I know your voices now" and the welcome: recorded, played into the sink, then over.
        events = _wait_for(record, lambda ev: any(e.get("type") == "step" for e in ev), 20, program)
        assert any(e.get("type") == "speakers" and e["enrolled"] == ["A", "B"] for e in events), log()
        assert listener.wait_prompt_over(heard, quiet_s=1.2), f"the welcome was never heard.\n{log()}"

        # A asks for the appointment; the turn ends on its cue and the next prompt follows.
        heard = listener.loud_frames
        _play(line_a, env)
        events = _wait_for(record, lambda ev: len(_turns(ev)) >= 1, 15, program)
        turns = _turns(events)
        assert turns, f"A's turn never reached the record.\n{log()}"
        assert {"dialogue", "good", "time"} <= _words(turns[0]["text"]), turns[0]
        assert turns[0]["step"] == "appointment"
        assert (turns[0]["speaker"], turns[0]["speaker_method"]) == ("A", "voice"), turns[0]
        listener.wait_prompt_over(heard, timeout=15)

        # B answers.
        _play(line_b, env)
        events = _wait_for(record, lambda ev: len(_turns(ev)) >= 2, 15, program)
        turns = _turns(events)
        assert len(turns) >= 2, f"B's turn never reached the record: {turns}\n{log()}"
        assert _words(turns[1]["text"]) & {"yes", "ready", "now"}, turns[1]
        assert turns[1]["step"] == "availability"
        assert (turns[1]["speaker"], turns[1]["speaker_method"]) == ("B", "voice"), turns[1]
        assert all(t["start"] < t["end"] for t in turns)

        # Ctrl-C: the session ends cleanly and says so in the record.
        program.send_signal(signal.SIGINT)
        try:
            program.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the program did not stop within 20 s of SIGINT.\n{log()}")
        events = _events(record)
        for event in events:
            print(json.dumps(event)[:200])
        assert events and events[-1]["type"] == "end", f"{events[-3:]}\n{log()}"
        assert events[-1]["reason"] == "stopped"
        assert program.returncode == 0, log()
        assert not [e for e in events if e.get("type") == "error"], events
    finally:
        if program.poll() is None:
            program.kill()
            program.wait(timeout=10)
        listener.close()
        output.close()
