"""A session killed with SIGKILL mid-dialogue is resumed at its step with no turn lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import pytest

pytestmark = pytest.mark.e2e
# The prompts at Piper's fastest (about 2.4 times the default rate): each session here renders
# all its prompts (~250 s of speech at the default rate) beside the loop; how fast they are
# spoken is not what these tests are about.
FAST_PROMPTS = "[speech]\nrate = 400\n"


@pytest.fixture(scope="module")
def facilitator(tmp_path_factory):
    """`python -m facilitator` with the config above."""
    config = tmp_path_factory.mktemp("config") / "config.toml"
    config.write_text(FAST_PROMPTS)
    return [sys.executable, "-m", "facilitator", "--config", str(config)]


def turns_in(path):
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return events


def _demo_until_turns(facilitator, record, env, turns):
    demo = subprocess.Popen([*facilitator, "demo", "--fast", "--silent", "--record", str(record)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and demo.poll() is None:
        if record.exists() and sum(e["type"] == "turn" for e in turns_in(record)) >= turns:
            break
        time.sleep(0.02)
    return demo


@pytest.fixture(scope="module")
def killed_demo(tmp_path_factory, facilitator):
    """One `demo --fast --silent` SIGKILLed mid-dialogue (after 6 turns): its data folder (the
    record, the voices kept for resume, the lines played). Each test resumes its own copy."""
    folder = tmp_path_factory.mktemp("killed-demo")
    record = folder / "sessions" / "r.jsonl"
    demo = _demo_until_turns(facilitator, record, {**os.environ, "FACILITATOR_DATA_DIR": str(folder)}, 6)
    os.kill(demo.pid, signal.SIGKILL)
    demo.wait()
    return folder


def _copy_of(killed_demo, tmp_path):
    """A copy of the killed demo's data folder (times kept: resume picks the newest record)."""
    shutil.copytree(killed_demo, tmp_path / "data")
    return tmp_path / "data", tmp_path / "data" / "sessions" / "r.jsonl"


def test_sigkill_then_resume_loses_no_turn(killed_demo, facilitator, tmp_path):
    data, record = _copy_of(killed_demo, tmp_path)
    env = {**os.environ, "FACILITATOR_DATA_DIR": str(data)}
    before = turns_in(record)
    turns_before = [e for e in before if e["type"] == "turn"]
    assert len(turns_before) >= 4 and before[-1]["type"] != "end"
    last_step = [e for e in before if e["type"] == "step"][-1]
    prefix = record.read_bytes()
    assert (record.with_suffix(".voices") / "A.npz").exists()   # the voices, kept for resume

    silence = tmp_path / "quiet.wav"
    with wave.open(str(silence), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(16000)
        handle.writeframes(np.zeros(16000 * 3, np.int16).tobytes())
    done = subprocess.run([*facilitator, "resume", "--input", str(silence),
                           "--fast", "--silent"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"at step {last_step['name']}" in done.stdout
    after = turns_in(record)
    assert record.read_bytes().startswith(prefix.rstrip(b"\n"))       # nothing rewritten
    assert [e for e in after if e["type"] == "turn"][:len(turns_before)] == turns_before
    resumed_at = next(i for i, e in enumerate(after) if e["type"] == "resume")
    restored = next(e for e in after[resumed_at:] if e["type"] == "step")
    assert (restored["name"], restored["round"], restored["sender"]) == (
        last_step["name"], last_step["round"], last_step["sender"])
    assert after[resumed_at]["t"] >= before[-1]["t"] and after[-1]["type"] == "end"
    # the partners' voices came back with the session: nobody is asked to enroll again
    assert not [e for e in after[resumed_at:] if e["type"] == "enrollment"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_terminate_or_hangup_close_the_record_like_ctrl_c(facilitator, tmp_path, signum):
    record = tmp_path / "sessions" / "r.jsonl"
    env = {**os.environ, "FACILITATOR_DATA_DIR": str(tmp_path)}
    demo = _demo_until_turns(facilitator, record, env, 2)
    os.kill(demo.pid, signum)
    _, stderr = demo.communicate(timeout=60)
    events = turns_in(record)
    assert demo.returncode in (0, 130), stderr.decode()[-2000:]
    assert "Traceback" not in stderr.decode()
    assert events[-1]["type"] == "end" and events[-1]["reason"] == "stopped"
    assert not record.with_suffix(".voices").exists()         # the voices are forgotten


def test_an_interrupted_demo_resumes_as_the_demo_and_completes(killed_demo, facilitator, tmp_path):
    data, record = _copy_of(killed_demo, tmp_path)
    env = {**os.environ, "FACILITATOR_DATA_DIR": str(data)}
    before = turns_in(record)
    assert before[-1]["type"] != "end"
    done = subprocess.run([*facilitator, "resume", "--fast", "--silent"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "No microphone" not in done.stderr
    after = turns_in(record)
    resumed = after[len(before):]
    assert resumed[0]["type"] == "resume"
    assert [e for e in resumed if e["type"] == "turn"], "the demo's partners went on talking"
    assert after[-1]["type"] == "end" and after[-1]["reason"] == "complete"
    again = subprocess.run([*facilitator, "resume", "--record", str(record)],
                           env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "ended" in again.stderr     # a finished session is not appended to
