"""Human titles for the dialogue's steps ("summary_confirm" -> "Checking the summary").

A step in a script of `prompts/` may carry its own `title = "..."`; that wins. Steps
without one take the title below, and a name nobody knows is shown with its underscores
turned to spaces. The report, the history and the coach view all use `step_title`.
"""

from __future__ import annotations

from functools import lru_cache

DEFAULT_SCRIPT = "intentional_dialogue"

# Titles for the steps of prompts/intentional_dialogue.toml (and older records' names),
# used until each step there has a `title` of its own.
TITLES = {
    "appointment": "Appointment",
    "availability": "Appointment: is now a good time?",
    "send": "Sender's message",
    "mirror": "Mirroring",
    "confirm": "Did I get that?",
    "clarify": "Sender clarifies",
    "clarify_heard": "Sender clarifies",
    "more": "Is there more?",
    "send_more": "Sender's message, more",
    "more_heard": "Sender's message, more",
    "summary": "Summary",
    "summary_confirm": "Checking the summary",
    "validate": "Validation",
    "empathize": "Empathy",
    "empathy_confirm": "Checking the empathy",
    "round_end": "End of the round",
    "switch": "Switching roles",
    "appreciate": "Appreciations",
    "appreciate_sender": "Appreciations: the Sender",
    "appreciate_receiver": "Appreciations: the Receiver",
    "close": "Closing",
}


@lru_cache(maxsize=None)
def _script_titles(script: str) -> dict[str, str]:
    """`title` of each step of a script that has one; {} when the script cannot be read."""
    from facilitator import prompts

    try:
        data = prompts.load_toml(script)
    except (prompts.PromptsError, OSError, ValueError):
        return {}
    found = {}
    for step in data.get("steps", []) if isinstance(data.get("steps"), list) else []:
        if isinstance(step, dict) and isinstance(step.get("name"), str) \
                and isinstance(step.get("title"), str) and step["title"].strip():
            found[step["name"]] = step["title"].strip()
    return found


def step_names(script: str = DEFAULT_SCRIPT) -> list[str]:
    """The names of a script's steps, in file order ([] when it cannot be read)."""
    from facilitator import prompts

    try:
        steps = prompts.load_toml(script).get("steps", [])
    except (prompts.PromptsError, OSError, ValueError):
        return []
    return [s["name"] for s in steps if isinstance(s, dict) and isinstance(s.get("name"), str)]


def step_title(name: str | None, script: str = DEFAULT_SCRIPT) -> str:
    """The title to show for a step: the script's own, else ours, else the name made readable."""
    if not name:
        return ""
    titles = _script_titles(script or DEFAULT_SCRIPT)
    if name in titles:
        return titles[name]
    if name in TITLES:
        return TITLES[name]
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def step_titles(script: str = DEFAULT_SCRIPT) -> dict[str, str]:
    """Every known step's title (ours, the script's steps and their own titles), for the page."""
    names = list(TITLES) + [n for n in step_names(script) if n not in TITLES]
    return {name: step_title(name, script) for name in names}
