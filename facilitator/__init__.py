"""facilitator: a local, offline, voice-driven coach for the Imago Dialogue."""

__version__ = "0.1.0"
