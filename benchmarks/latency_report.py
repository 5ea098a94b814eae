"""The latency benchmark's report: the sessions' numbers (dicts from latency_measure.run,
one per child process) against issue 17's targets. Pure: no audio, no models."""

from __future__ import annotations

import statistics

# Issue 17's targets (seconds, MB) and the start-up target of the live loop.
TARGETS = {"cue_p50": 0.250, "cue_p95": 0.400, "finished_p50": 1.0, "finished_p95": 1.5,
           "mid_turn": 0, "rss_mb": 500.0, "ready": 3.0}
PARTS = ("wait for pause", "transcribe", "wait between reads", "judge+dialogue",
         "  of which: wait for who spoke", "render+start prompt", "audio transcribed (s)")


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile of `values` (linear between the two nearest), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:6.0f}"


def verdict(value: float | None, limit: float) -> str:
    """"ok" / "MISS" against an upper limit; "n/a" without a value."""
    return "n/a" if value is None else ("ok" if value <= limit else "MISS")


def groups(turns: list[dict]) -> dict[str, list[dict]]:
    """Cue-ended turns, the others (by end reason, each reason the loop gave), all."""
    cue = [t for t in turns if t["reason"] == "cue"]
    other = [t for t in turns if t["reason"] != "cue"]
    table = {"cue-ended": cue, "not cue": other}
    for reason in sorted({t["reason"] for t in other}):
        table[f"  {reason}"] = [t for t in other if t["reason"] == reason]
    table["all"] = turns
    return table


def summarize(turns: list[dict]) -> dict[str, dict]:
    """Per group: n, transcript and prompt latency p50 / p95 (prompt: turns answered by one)."""
    table = {}
    for label, group in groups(turns).items():
        text = [t["to_text"] for t in group if t["to_text"] is not None]
        prompt = [t["to_prompt"] for t in group if t["to_prompt"] is not None]
        own = [t["own_prompt"] for t in group if t["own_prompt"] is not None]
        table[label.strip()] = {
            "label": label, "n": len(group), "n_prompted": len(prompt),
            "transcript_p50": pct(text, 0.5), "transcript_p95": pct(text, 0.95),
            "prompt_p50": pct(prompt, 0.5), "prompt_p95": pct(prompt, 0.95),
            "own_prompt_p50": pct(own, 0.5), "own_prompt_p95": pct(own, 0.95)}
    return table


def per_session(turns: list[dict]) -> dict[str, dict]:
    """The no-cue turns' prompt latency per session (the partners' pace differs)."""
    table = {}
    for name in dict.fromkeys(t["session"] for t in turns):
        prompt = [t["to_prompt"] for t in turns if t["session"] == name and t["reason"] != "cue"
                  and t["to_prompt"] is not None]
        table[name] = {"n_prompted": len(prompt), "prompt_p50": pct(prompt, 0.5),
                       "prompt_p95": pct(prompt, 0.95)}
    return table


def breakdown(turns: list[dict]) -> dict[str, float | None]:
    """Median of each part of the prompt latency of `turns` (those answered by a prompt)."""
    values: dict[str, list[float]] = {key: [] for key in PARTS}
    for turn in turns:
        for key, value in (turn.get("parts") or {}).items():
            if value is not None and key in values:
                values[key].append(value)
    return {key: (statistics.median(v) if v else None) for key, v in values.items()}


def targets(table: dict[str, dict], mid_turn: int, rss_mb: float) -> dict[str, dict]:
    """Each of issue 17's targets: the measured value, the limit, ok / MISS / n/a."""
    cue, other = table["cue-ended"], table["not cue"]
    rows = {
        "cue_p50": (cue["prompt_p50"], TARGETS["cue_p50"]),
        "cue_p95": (cue["prompt_p95"], TARGETS["cue_p95"]),
        "finished_p50": (other["prompt_p50"], TARGETS["finished_p50"]),
        "finished_p95": (other["prompt_p95"], TARGETS["finished_p95"]),
        "mid_turn": (mid_turn, TARGETS["mid_turn"]),
        "rss_mb": (rss_mb, TARGETS["rss_mb"]),
    }
    return {key: {"value": value, "limit": limit, "verdict": verdict(value, limit)}
            for key, (value, limit) in rows.items()}


def combination(results: list[dict]) -> dict:
    """The numbers of one (engine, partners) combination from its sessions' results."""
    turns = [dict(t, session=r["session"]) for r in results for t in r["turns"]]
    table = summarize(turns)
    mid = sum(len(r["mid_turn"]) for r in results)
    rss = max(r["rss_mb"] for r in results)
    return {"latency": table, "targets": targets(table, mid, rss), "mid_turn": mid,
            "no_cue_per_session": per_session(turns),
            "rss_mb": rss, "turns": turns,
            "sessions": [{k: r[k] for k in ("session", "code", "lines", "turn_count", "dropped",
                                            "end", "wall_s", "input_s", "rss_mb", "mid_turn",
                                            "prompts")}
                         for r in results]}


def print_combination(engine: str, partners: str, voices: dict, results: list[dict],
                      fast: bool) -> dict:
    """One block of the report; its numbers."""
    numbers = combination(results)
    table, turns = numbers["latency"], numbers["turns"]
    voice_names = " / ".join(f"{k} {v}" for k, v in sorted(voices.items()))
    print(f"\n========== speech engine: {engine} · partners: {partners} ({voice_names}) ==========")
    codes = sorted({r.get("code", "?") for r in results})
    print(f"product as of commit {codes[0]}" if len(codes) == 1 else
          "product (it changed between the sessions): " + "; ".join(
              f"{r['session']} {r.get('code', '?')}" for r in results))
    print("Latency from the end of speech as played in the room, ms" if not fast else
          "Latency from the last voiced frame, ms  (fast clock: estimated)")
    print("  ('own': the pipeline's _timing measure, from the *processing* of the last voiced frame)")
    print(f"{'turns':<13}{'n':>4}{'transcript p50':>16}{'p95':>8}{'prompt n':>10}"
          f"{'prompt p50':>12}{'p95':>8}{'own p50':>9}{'own p95':>9}")
    for row in table.values():
        print(f"{row['label']:<13}{row['n']:>4}{ms(row['transcript_p50']):>16}"
              f"{ms(row['transcript_p95']):>8}{row['n_prompted']:>10}{ms(row['prompt_p50']):>12}"
              f"{ms(row['prompt_p95']):>8}{ms(row['own_prompt_p50']):>9}{ms(row['own_prompt_p95']):>9}")

    goal = numbers["targets"]
    def line(text: str, key: str, shown: str) -> None:
        print(f"  {text:<52}{shown:>9}   {goal[key]['verdict']}")
    print("\nIssue 17's targets:")
    line("cue-ended turn -> prompt p50 <= 250 ms", "cue_p50", f"{ms(goal['cue_p50']['value'])} ms")
    line("cue-ended turn -> prompt p95 <= 400 ms", "cue_p95", f"{ms(goal['cue_p95']['value'])} ms")
    line("finished thought, no cue -> prompt p50 <= 1000 ms", "finished_p50",
         f"{ms(goal['finished_p50']['value'])} ms")
    line("finished thought, no cue -> prompt p95 <= 1500 ms", "finished_p95",
         f"{ms(goal['finished_p95']['value'])} ms")
    line(f"prompts started mid-thought ({partners} partners) = 0", "mid_turn", f"{numbers['mid_turn']}")
    line("peak RSS of the program <= 500 MB", "rss_mb", f"{numbers['rss_mb']:.0f} MB")
    other = table["not cue"]
    print(f"  (no cue: end reason not \"cue\", {other['n_prompted']} of {other['n']} turns answered by a"
          " prompt: a mirror, summary or empathy line that passes is followed by the Sender's answer,"
          " not by a prompt;")
    print(f"   all {other['n']} no-cue turns, end of speech -> final transcript: p50 "
          f"{ms(other['transcript_p50']).strip()} ms, p95 {ms(other['transcript_p95']).strip()} ms;"
          " peak RSS: the largest of the sessions' own processes)")

    print("  no cue, per session (prompt p50 / p95 ms, n):  " + ";  ".join(
        f"{name} {ms(row['prompt_p50']).strip()} / {ms(row['prompt_p95']).strip()} ({row['n_prompted']})"
        for name, row in per_session(turns).items()))

    for reason in sorted({t["reason"] for t in turns}):
        parts = breakdown([t for t in turns if t["reason"] == reason])
        if any(v is not None for v in parts.values()):
            print(f"\nWhere the time goes, {reason}-ended turns with a prompt (medians; in each turn"
                  " the first three add up to its -> transcript):")
            for key, value in parts.items():
                shown = "-" if value is None else (f"{value:6.2f} s" if key.startswith("audio")
                                                   else f"{ms(value)} ms")
                print(f"  {key:<32}{shown}")

    print("\nPer turn:")
    print(f"  {'session':<9}{'#':>3} {'step':<20}{'reason':<9}{'len s':>6}{'->text':>8}"
          f"{'->prompt':>9}{'xcribe':>8}{'audio s':>8}  text")
    for t in turns:
        print(f"  {t['session']:<9}{t['number']:>3} {t['step']:<20}{t['reason']:<9}{t['len_s']:6.1f}"
              f"{ms(t['to_text']):>8}{ms(t['to_prompt']):>9}{ms(t['transcribe_s']):>8}"
              f"{t['audio_s']:8.1f}  {t['text'][:60]}")

    print("\nSessions (each in its own process):")
    for r in results:
        print(f"  {r['session']:<9} lines played {r['lines']:>3}, turns {r['turn_count']:>3}, "
              f"dropped {r['dropped']}, ended: {r['end']}, {r['wall_s']:.0f} s ({r['input_s']:.0f} s of "
              f"input), prompts {r['prompts']}, "
              f"mid-thought prompts {len(r['mid_turn'])}, peak RSS {r['rss_mb']:.0f} MB")
        for m in r["mid_turn"]:
            print(f"            mid-thought: {m}")
        if r["pauses"]:
            print(f"            pauses inside turns: {len(r['pauses'])}, nominal "
                  f"{min(r['pauses']):.1f}-{max(r['pauses']):.1f} s; silences of 0.5 s or more "
                  f"between the loud parts of those turns (a voice's own sentence breaks too): "
                  f"{min(r['gaps']):.2f}-{max(r['gaps']):.2f} s")
    numbers["startup"] = print_startup(results[0])
    return numbers


def print_startup(first: dict) -> dict:
    """Start-up of the first session's process."""
    print(f"\nStart-up ({first['session']} session's process):")
    rows = [("process start -> script top", first.get("age_at_top")),
            ("imports (numpy, facilitator)", first.get("imports_s")),
            ("read the partners' lines (WAV)", first.get("read_lines_s")),
            ("transcriber load", first["load_s"]), ("transcriber warm-up", first["warm_s"]),
            ("build (load + warm-up + wiring)", first["build_s"])]
    for label, value in rows:
        if value is not None:
            print(f"  {label:<34}{value:6.2f} s")
    ready = first["first_prompt_s"]
    process = None if ready is None or first.get("before_build_s") is None else ready + first["before_build_s"]
    if ready is not None:
        print(f"  {'build start -> ready':<34}{ready:6.2f} s   (first sample of the welcome prompt)"
              f"   target <= 3 s {verdict(ready, TARGETS['ready'])}")
    if process is not None:
        print(f"  {'process start -> ready':<34}{process:6.2f} s   (the partners' lines were "
              "rendered beforehand, in another process)")
    if first["ready_event_s"] is not None:
        label = 'build start -> "_ready" event'
        print(f"  {label:<34}{first['ready_event_s']:6.2f} s   "
              "(published after the welcome prompt has been played)")
    return {"ready_build_s": ready, "ready_process_s": process}


def print_comparison(blocks: dict[str, dict]) -> None:
    """One line per (engine, partners): the numbers issue 17's targets are about."""
    print("\nSide by side (prompt latency p50/p95, ms; mid-thought prompts; peak RSS, MB; "
          "ok/MISS against issue 17's targets):")
    print(f"  {'engine / partners':<22}{'cue p50':>9}{'p95':>6}{'no cue p50':>12}{'p95':>6}"
          f"{'mid':>5}{'RSS':>6}   verdicts (cue p50 p95, no cue p50 p95, mid, RSS)")
    kinds: dict[str, int] = {}
    for label, numbers in blocks.items():
        goal = numbers["targets"]
        verdicts = " ".join(goal[k]["verdict"] for k in ("cue_p50", "cue_p95", "finished_p50",
                                                          "finished_p95", "mid_turn", "rss_mb"))
        print(f"  {label:<22}{ms(goal['cue_p50']['value']):>9}{ms(goal['cue_p95']['value']):>6}"
              f"{ms(goal['finished_p50']['value']):>12}{ms(goal['finished_p95']['value']):>6}"
              f"{numbers['mid_turn']:>5}{numbers['rss_mb']:>6.0f}   {verdicts}")
        partners = label.split(" / ")[1]
        kinds[partners] = kinds.get(partners, 0) + numbers["mid_turn"]
    for partners, count in kinds.items():
        print(f"  prompts started mid-thought with {partners} partners (all engines): {count}"
              f"   target 0 {verdict(count, TARGETS['mid_turn'])}")


def print_mic(mic: dict | None) -> None:
    if not mic:
        print("\nMicrophone path: skipped (PulseAudio not installed or did not start)")
        return

    def sec(value):
        return "     -" if value is None else f"{value:6.2f}"
    print("\nMicrophone path (`facilitator run --device pulse`, private PulseAudio, own process):")
    print(f"  spawn -> record opened (audio arrived, model loaded)  {sec(mic['record_opened_s'])} s")
    print(f"  spawn -> welcome prompt starts (ready)                {sec(mic['first_prompt_s'])} s"
          f"   target <= 3 s {verdict(mic['first_prompt_s'], TARGETS['ready'])}")
    print(f"  peak RSS of the program                               {mic['child_peak_rss_mb']:6.0f} MB"
          f"   target <= 500 MB {verdict(mic['child_peak_rss_mb'], TARGETS['rss_mb'])}")
    print(f"  SIGINT during the welcome prompt: {mic['sigint']}")
