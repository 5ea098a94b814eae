"""The microphone path of the latency benchmark: `facilitator run --device pulse` spawned on a
private PulseAudio server (null sinks, nothing touches the home directory), timed from spawn
to its welcome prompt; its own peak RSS (VmHWM) is measured too."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def mic_startup(timeout_s: float = 30.0) -> dict | None:
    """Spawn the real program on a private PulseAudio server; time it to its first prompt.

    The microphone is opened (and its first audio awaited) before the session is built, so
    "ready" here is spawn -> the welcome prompt is recorded (it is written just before it
    is played). Returns None when PulseAudio is not installed.
    """
    import shutil
    import signal
    import subprocess

    if not all(shutil.which(p) for p in ("pulseaudio", "pactl")):
        return None
    base = Path(tempfile.mkdtemp(prefix="lat-pulse-"))
    for sub in ("rt", "config", "home", "data"):
        (base / sub).mkdir()
    socket = base / "rt" / "native"
    env = dict(os.environ, HOME=str(base / "home"), XDG_RUNTIME_DIR=str(base / "rt"),
               XDG_CONFIG_HOME=str(base / "config"), XDG_DATA_HOME=str(base / "data"),
               PULSE_SERVER=f"unix:{socket}", FACILITATOR_DATA_DIR=str(base / "data"))
    (base / "default.pa").write_text(
        f"load-module module-native-protocol-unix socket={socket} auth-anonymous=1\n"
        "load-module module-null-sink sink_name=facilitator rate=16000 channels=1\n"
        "load-module module-null-sink sink_name=partners rate=16000 channels=1\n"
        "set-default-sink facilitator\nset-default-source partners.monitor\n")
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes",
         "--use-pid-file=no", "-F", str(base / "default.pa")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    program = None
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                return None
            time.sleep(0.1)
        record = base / "session.jsonl"
        spawned = time.monotonic()
        program = subprocess.Popen(
            [sys.executable, "-m", "facilitator", "run", "--device", "pulse", "--record",
             str(record)], env=env, cwd=base, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Ctrl-C as in a terminal even when this benchmark runs in the background
            # (`cmd &` leaves SIGINT ignored, and the child would inherit that).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        session_at = prompt_at = None
        deadline = spawned + timeout_s
        while time.monotonic() < deadline and program.poll() is None and prompt_at is None:
            text = record.read_text() if record.exists() else ""
            if session_at is None and '"type": "session"' in text:
                session_at = time.monotonic()
            if '"type": "prompt"' in text:
                prompt_at = time.monotonic()
            time.sleep(0.02)
        time.sleep(1.0)
        peak_mb = None
        try:      # the program's own high-water mark (RUSAGE_CHILDREN would count the fork)
            for row in Path(f"/proc/{program.pid}/status").read_text().splitlines():
                if row.startswith("VmHWM:"):
                    peak_mb = int(row.split()[1]) / 1024
        except OSError:
            pass
        program.send_signal(signal.SIGINT)          # Ctrl-C while the welcome is played
        stopped = time.monotonic()
        try:
            program.wait(timeout=20)
            sigint = f"exited with {program.returncode} after {time.monotonic() - stopped:.1f} s"
        except subprocess.TimeoutExpired:
            sigint = "did NOT exit within 20 s (killed)"
            program.kill()
            program.wait()
        ended = '"type": "end"' in (record.read_text() if record.exists() else "")
        sigint += ", record ends with an end event" if ended else ", NO end event in the record"
        return {"sigint": sigint,"record_opened_s": None if session_at is None else session_at - spawned,
                "first_prompt_s": None if prompt_at is None else prompt_at - spawned,
                "child_peak_rss_mb": peak_mb if peak_mb is not None else float("nan"),
                "exit_code": program.returncode}
    finally:
        if program is not None and program.poll() is None:
            program.kill()
            program.wait()
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(base, ignore_errors=True)
