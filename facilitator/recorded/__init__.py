"""A dialogue recorded without the facilitator, reviewed afterwards (`facilitator analyze`):
who spoke when (`voices.py`), then each turn transcribed, labelled and judged, and the
record and the report written as for a live session.

- `inputs.py`: the recording and the voice samples, read and checked (any format, any rate;
  stereo as two microphones when its channels differ);
- `voices.py` (with `speech`, `local`, `clusters`, `stretches`, `mics`, `handover`): who spoke when;
- `acts.py`: what a turn's words carry (phrases in prompts/acts.toml, beside the judges' own);
- `pairing.py`: what each turn does in its place, and the Sender's words it is judged against;
- `writing.py`: the record in the live schema, written as it goes;
- `progress.py`: progress bars (or plain lines) on stderr;
- `pipeline.py`: the whole flow; `cli.py`: the `analyze` sub-command.
"""
