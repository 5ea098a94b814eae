"""The review room: what happened in a session, read back from its record.

`record` reads session records (JSON Lines), `analysis` turns events into numbers,
`report` writes the self-contained HTML report, `exports` the WebVTT/SRT transcripts,
`history` lists past sessions per couple, `homework` picks practice from
prompts/homework.toml, `steps` gives the steps' titles (also for the coach view), and
`cli` adds the `report` and `history` sub-commands.
"""

from facilitator.review.record import read_record

__all__ = ["read_record"]
