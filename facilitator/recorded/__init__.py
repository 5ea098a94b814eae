"""A dialogue recorded without the facilitator, reviewed afterwards (`facilitator analyze`):
who spoke when (`voices.py`), then each turn transcribed, labelled and judged, and the
record and the report written as for a live session.
"""
