"""How long facilitator.turn_end.ThoughtEnd waits, measured on synthetic speech (not a test).

    .venv/bin/python benchmarks/turn_end.py            # espeak-ng and Piper voices
    .venv/bin/python benchmarks/turn_end.py --quick    # two voices, fewer turns

Each turn of TURNS (our own wording, kept out of training; plus the latency benchmark's
FINISHED_LINES) is rendered phrase by phrase (a "|" is a pause of 0.8, 1.0, 1.2 or 1.5 s,
joined as benchmarks/latency_sessions.py joins them: that much silence between the loud
parts) in each voice. At every pause the audio so far is transcribed by the shipped tiny.en
(as the live loop reads the words at a pause) and `wait_s` is asked with that audio and
its speech end; at the end of the turn the same for the whole turn. Reported:
- finished turns: the distribution of wait_s (wanted p50 <= ~0.85 s, p95 <= ~1.3 s);
- mid-thought pauses: the share where wait_s < the pause (the turn would be cut), for
  mid-clause pauses and for sentence-boundary pauses (wanted 0 for pauses up to 1.5 s);
- the text-only view and other settings (PRESET_OPTIONS), and the prosody's time per call.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from facilitator.config import TurnsConfig  # noqa: E402


@dataclass(frozen=True)
class BenchTurn:
    step: str
    text: str           # "|" marks a pause inside the turn


# Our own turns for this measurement (never in data/turn_end's training text).
TURNS = [
    BenchTurn("send", "When we got home from the wedding, | you went straight to bed | and I cleaned up alone. | "
                      "I felt like a guest in my own house."),
    BenchTurn("send", "I get anxious when | the phone bill comes | and neither of us has looked at it."),
    BenchTurn("send", "I loved the picnic you planned for us. | I want more days like that."),
    BenchTurn("send", "Every morning I make | the lunches, | and I would like us to take turns."),
    BenchTurn("send", "I feel invisible | when you answer emails while I'm talking."),
    BenchTurn("send_more", "Also, | when your brother called, | you promised him our weekend without asking me."),
    BenchTurn("mirror", "So you get anxious when the phone bill comes | and neither of us has looked at it."),
    BenchTurn("mirror", "What I hear is that you felt like a guest in your own house, | because I went to bed | "
                        "and left you to clean up."),
    BenchTurn("mirror", "If I got it, you loved the picnic | and you want more days like that."),
    BenchTurn("summary", "Let me see if I have all of it. | You make the lunches every morning, | you feel invisible "
                         "when I answer emails, | and you would like us to take turns."),
    BenchTurn("validate", "You make sense, because | the lunches fall on you every single day."),
    BenchTurn("validate", "That makes sense to me. | Nobody wants to clean up alone after a long night."),
    BenchTurn("empathize", "I imagine you might be feeling | tired and a bit unseen."),
    BenchTurn("empathize", "I imagine you felt | lonely that night, | and maybe angry too."),
    BenchTurn("appointment", "I'd like to talk about | the weekend with your brother."),
    BenchTurn("availability", "Yes, I can listen now."),
    BenchTurn("confirm", "Yes, that's it."),
    BenchTurn("confirm", "Not quite. | I said the lunches, not the dinners."),
    BenchTurn("more", "No, I think that covers it."),
    BenchTurn("summary_confirm", "You got all of it."),
    BenchTurn("empathy_confirm", "Yes, tired is the word."),
    BenchTurn("appreciate_sender", "I appreciate that you heard me out | without getting defensive."),
    BenchTurn("appreciate_receiver", "Thank you for telling me | what the mornings are like for you."),
]
PAUSES = [0.8, 1.0, 1.2, 1.5]
VOICES = ["en-us+m7", "en-us+f4", "piper:joe", "piper:joe+low", "piper:joe+high"]
QUICK_VOICES = ["en-us+m7", "piper:joe+high"]
# Other settings of ThoughtEnd measured beside the default ("both") and text only ("text"):
# the trade between a fast answer and patience where the words so far are a whole sentence.
PRESET_OPTIONS = {
    "floor1.0": {"knots": ((0.08, 2.8), (0.2, 2.0), (0.35, 1.6), (0.5, 1.2), (0.62, 1.0))},
    "floor1.3": {"knots": ((0.08, 2.8), (0.2, 2.0), (0.35, 1.6), (0.5, 1.4), (0.62, 1.3))},
    "fast": {"knots": ((0.05, 2.8), (0.15, 2.0), (0.3, 1.2), (0.45, 0.7))},
    # the default [turns] end_model = "words" with its least_end_s
    "as configured": {"min_end_s": TurnsConfig().least_end_s, "use_prosody": False},
}
PRESETS: dict = {}


def all_turns(quick: bool) -> list[BenchTurn]:
    import latency_sessions
    turns = list(TURNS)
    turns += [BenchTurn(step, text) for _, step, text in latency_sessions.FINISHED_LINES
              if not step.startswith("enroll")]
    return turns[::2] if quick else turns


def render(turn: BenchTurn, voice: str, cache: dict) -> tuple[np.ndarray, list[tuple[float, float, str, str]]]:
    """The turn's audio and its pauses: (speech end s, pause s, kind, the words so far)."""
    import latency_sessions as LS
    from facilitator.sim.voices import speak_to_array
    phrases = [p.strip() for p in turn.text.split("|") if p.strip()]
    parts = []
    for phrase in phrases:
        key = (phrase, voice)
        if key not in cache:
            cache[key] = speak_to_array(phrase, voice)
        parts.append(cache[key])
    pauses = [PAUSES[i % len(PAUSES)] for i in range(len(phrases) - 1)]
    audio = LS.join_phrases(parts, pauses)
    marks = []
    loud = LS.loud_blocks(audio)
    gaps = np.flatnonzero(np.diff(loud) * LS.BLOCK / LS.SAMPLE_RATE >= 0.5)
    for i, g in enumerate(gaps[: len(pauses)]):
        end = float((loud[g] + 1) * LS.BLOCK / LS.SAMPLE_RATE)
        kind = "boundary" if phrases[i].rstrip()[-1:] in ".?!" else "mid-clause"
        marks.append((end, pauses[i], kind, " ".join(phrases[: i + 1])))
    return audio, marks


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--voices", nargs="*")
    parser.add_argument("--show", action="store_true", help="print every decision")
    args = parser.parse_args(argv)
    import latency_sessions as LS
    from facilitator.config import Config
    from facilitator.transcribe import load_transcriber
    from facilitator.turn_end import ThoughtEnd

    transcriber = load_transcriber(Config().transcription)
    ends = {"both": ThoughtEnd(), "text": ThoughtEnd(use_prosody=False)}
    PRESETS.update({name: ThoughtEnd(**kw) for name, kw in PRESET_OPTIONS.items()})
    voices = args.voices or (QUICK_VOICES if args.quick else VOICES)
    cache: dict = {}
    finished: dict[str, list[float]] = {v: [] for v in [*ends, *PRESETS]}
    cut: dict[tuple[str, str], list[tuple[float, float]]] = {}
    prosody_calls: list[float] = []
    fall = {"finished": [], "mid-clause": [], "boundary": []}
    for voice in voices:
        for turn in all_turns(args.quick):
            audio, marks = render(turn, voice, cache)
            _, last_end = LS.voiced_extent(audio)
            points = [(end, pause, kind, said) for end, pause, kind, said in marks]
            points.append((last_end, None, "finished", turn.text.replace("|", " ")))
            text, done = "", 0
            for end, pause, kind, said in points:
                # As the live loop reads the words: the stretch since the last pause, with
                # the words so far as Whisper's context.
                piece = audio[done: int(end * LS.SAMPLE_RATE) + 1600]
                done = int(end * LS.SAMPLE_RATE)
                text = " ".join(t for t in (text, transcriber.transcribe(piece, context=text).text) if t)
                prefix = audio[: int(end * LS.SAMPLE_RATE) + 1600]
                decision = ends["both"].decide(text, turn.step, prefix, end)
                prosody_calls.append(decision.prosody_ms)
                fall[kind].append(decision.prosody.state)
                waits = {"both": decision.wait_s, "text": ends["text"].wait_s(text, turn.step, None, None)}
                for name, preset in PRESETS.items():
                    waits[name] = preset.wait_s(text, turn.step, prefix, end)
                for view, wait in waits.items():
                    if kind == "finished":
                        finished[view].append(wait)
                    else:
                        cut.setdefault((view, kind), []).append((wait, pause))
                if args.show:
                    print(f"{voice:<15}{turn.step:<20}{kind:<11}{pause or 0:>4.1f} wait {decision.wait_s:.2f} "
                          f"(text {waits['text']:.2f}, p {decision.text.finished:.2f}/{decision.text.boundary:.2f}, "
                          f"prosody {decision.prosody.state} {decision.prosody.fall_st}) {text!r}")
    print(f"\nvoices: {', '.join(voices)}; turns: {len(all_turns(args.quick))}")
    print(f"{'view':<9}{'finished n':>11}{'p50':>7}{'p95':>7}{'max':>7}   "
          f"{'mid-clause cut':>15}{'boundary cut':>14}{'  shortest mid / bnd wait':>26}")
    for view in finished:
        f = finished[view]
        mid, bnd = cut.get((view, "mid-clause"), []), cut.get((view, "boundary"), [])
        share = lambda rows: f"{sum(w < p for w, p in rows)}/{len(rows)}"  # noqa: E731
        print(f"{view:<9}{len(f):>11}{pct(f, 50):>7.2f}{pct(f, 95):>7.2f}{max(f):>7.2f}   "
              f"{share(mid):>15}{share(bnd):>14}"
              f"{min((w for w, _ in mid), default=float('nan')):>14.2f} / {min((w for w, _ in bnd), default=float('nan')):.2f}")
    for kind, states in fall.items():
        counts = {s: states.count(s) for s in ("final", "continuing", "unknown")}
        print(f"prosody at {kind:<11} {counts}")
    print(f"prosody ms per call: p50 {pct(prosody_calls, 50):.1f}, p95 {pct(prosody_calls, 95):.1f}, "
          f"max {max(prosody_calls):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
