"""The live coach view: a local web page that follows the session and sends the coach's controls.

`CoachView(bus, controls).start()` serves it on 127.0.0.1 with a per-session token and
returns the URL to open.
"""

from facilitator.view.server import CoachView, is_loopback

__all__ = ["CoachView", "is_loopback"]
