"""The demo conversation with other timing than the demo's own: partners who answer sooner
or later after the facilitator, lines that start at odd offsets, a very quick short answer.
Every run must reach the end of the dialogue (`complete`) with no error event: the short
turn "Yes, you did." once crashed the speaker room whenever the timing differed.

One seed by default (each run is the whole demo, the longest test of all); more with
FACILITATOR_TIMING_SEEDS=11,23,... (comma-separated)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from facilitator.app import RunOptions, build_session, run_session
from facilitator.config import Config
from facilitator.sim.room import SimulatedRoom, load_demo_lines, render_lines

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("shared_prompt_renders")]
SEEDS = [int(s) for s in os.environ.get("FACILITATOR_TIMING_SEEDS", "11").split(",")]


@pytest.fixture(scope="module")
def rendered_lines():
    names, lines = load_demo_lines()
    render_lines(lines)
    return names, lines


@pytest.mark.parametrize("seed", SEEDS)
def test_demo_with_random_gaps_and_shifts_runs_to_complete(seed, rendered_lines, tmp_path,
                                                          transcriber):
    names, lines = rendered_lines
    rng = np.random.default_rng(seed)
    shifted = []
    for line in lines:   # each line starts a random 0-500 ms later (as `sox pad`) ...
        lead = np.zeros(int(rng.uniform(0.0, 0.5) * 16000), np.int16)
        shifted.append(type(line)(line.speaker, line.text, line.step,
                                  np.concatenate([lead, line.audio]), line.interrupt))
    room = SimulatedRoom(shifted, realtime=False, echo=True, seed=seed,
                         reaction_s=0.7, reaction_spread_s=0.5)   # ... after a 0.2-1.2 s reaction
    record = tmp_path / "record.jsonl"
    options = RunOptions(realtime=False, speak_aloud=False, record_path=record, input_name="test",
                         display=False, names=names)
    session, writer = build_session(Config(), room, options, transcriber=transcriber)
    room.attach(session.bus)
    reason = run_session(session, writer)
    events = [json.loads(line) for line in record.read_text().splitlines()]
    errors = [e for e in events if e["type"] == "error"]
    assert reason == "complete", (errors, [e.get("name") for e in events if e["type"] == "step"][-3:])
    assert not errors
    assert events[-1] == {**events[-1], "type": "end", "reason": "complete"}
    assert any(e["type"] == "turn" and e["step"] == "confirm" for e in events)
