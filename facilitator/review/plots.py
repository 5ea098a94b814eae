"""Plots as inline SVG text (matplotlib, no pyplot state), for reports and the history page.

Each function returns an `<svg>` element with glyphs drawn as paths, so the HTML that
holds it needs no fonts, scripts or images from anywhere else.
"""

from __future__ import annotations

import io
import re
from typing import Sequence

from facilitator.review.analysis import UNKNOWN, Session

COLOURS = {"A": "#1f6fb2", "B": "#c25e00", UNKNOWN: "#6b6b6b"}  # blue / orange: colour-blind safe


def _figure(width: float, height: float):  # -> matplotlib.figure.Figure
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return figure


def _svg(figure, label: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    text = text[start:]
    # Sizes in the HTML come from CSS; a title names the plot for screen readers.
    text = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1', text, count=1)
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _style(axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=11)


def talk_time_svg(session: Session) -> str:
    """Horizontal bars: minutes each partner spoke."""
    talk = session.talk_time()
    keys = [k for k in session.partners if k != UNKNOWN or talk.get(k)]
    minutes = [talk.get(k, 0.0) / 60 for k in keys]
    total = sum(talk.values()) or 1.0
    figure = _figure(6.4, 0.7 + 0.6 * len(keys))
    axes = figure.add_subplot()
    labels = [session.name(k) for k in keys]
    bars = axes.barh(labels, minutes, color=[COLOURS.get(k, "#6b6b6b") for k in keys])
    axes.invert_yaxis()
    for bar, key in zip(bars, keys):
        share = talk.get(key, 0.0) / total
        seconds = int(round(talk.get(key, 0.0)))
        axes.annotate(f" {seconds // 60}:{seconds % 60:02d} ({share:.0%})",
                      (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                      va="center", fontsize=11)
    axes.set_xlabel("minutes spoken", fontsize=11)
    axes.set_xlim(0, max(minutes + [0.1]) * 1.45)
    _style(axes)
    return _svg(figure, "Talk time per partner")


def mirror_scores_svg(session: Session) -> str:
    """Every mirror try's score over the session: filled when it passed, hollow when not."""
    figure = _figure(6.4, 2.8)
    axes = figure.add_subplot()
    for key in session.partners:
        tries = [a for m in session.mirrors if m.receiver == key for a in m.attempts]
        if not tries:
            continue
        colour = COLOURS.get(key, "#6b6b6b")
        xs = [a.t / 60 for a in tries]
        ys = [a.score if a.score is not None else (1.0 if a.passed else 0.0) for a in tries]
        faces = [colour if a.passed else "white" for a in tries]
        axes.plot(xs, ys, color=colour, alpha=0.35, linewidth=1)
        axes.scatter(xs, ys, s=70, facecolors=faces, edgecolors=colour, linewidths=2,
                     label=f"{session.name(key)} mirroring", zorder=3)
    axes.set_ylim(-0.05, 1.05)
    axes.set_xlabel("minutes into the session", fontsize=11)
    axes.set_ylabel("mirror score", fontsize=11)
    if axes.has_data():
        axes.legend(fontsize=10, frameon=False, loc="lower right")
    _style(axes)
    return _svg(figure, "Mirror scores through the session; filled dots passed")


def timeline_svg(session: Session) -> str:
    """Who spoke when: one lane per partner, one bar per turn."""
    keys = [k for k in session.partners if k != UNKNOWN or any(t.speaker == k for t in session.turns)]
    figure = _figure(6.4, 0.8 + 0.55 * len(keys))
    axes = figure.add_subplot()
    for lane, key in enumerate(keys):
        spans = [(t.start / 60, max(t.duration, 0.5) / 60) for t in session.turns if t.speaker == key]
        axes.broken_barh(spans, (lane - 0.35, 0.7), facecolors=COLOURS.get(key, "#6b6b6b"))
    axes.set_yticks(range(len(keys)), [session.name(k) for k in keys])
    axes.invert_yaxis()
    axes.set_xlabel("minutes into the session", fontsize=11)
    axes.set_xlim(0, max(session.duration / 60, 0.5))
    _style(axes)
    return _svg(figure, "Timeline of turns per partner")


def first_try_history_svg(points: Sequence[tuple[str, float]]) -> str:
    """First-try mirror success (0-100 %) per session, oldest first; each point's label
    names its session (formatting.short_labels: date and time, so one day's sessions differ)."""
    figure = _figure(6.4, 2.8)
    axes = figure.add_subplot()
    xs = list(range(1, len(points) + 1))
    ys = [rate * 100 for _, rate in points]
    axes.plot(xs, ys, color=COLOURS["A"], marker="o", markersize=8, linewidth=2)
    axes.set_ylim(-5, 105)
    axes.set_xlim(0.5, max(len(points), 1) + 0.5)
    axes.set_ylabel("first-try mirrors (%)", fontsize=11)
    ticks = [label for label, _ in points]
    step = max(1, -(-len(points) // 8))
    axes.set_xticks(xs[::step], ticks[::step])
    if len(points) > 2:
        axes.tick_params(axis="x", labelrotation=30)
    _style(axes)
    return _svg(figure, "First-try mirror success over time")
