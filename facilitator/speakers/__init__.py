"""The speaker room: who is speaking, from the voice (one microphone) or the channel
levels (two microphones), with enrollment, interruptions and saved voice profiles.

    backend = make_backend("gmm")                      # warmed up
    profiles = {s: enroll(s, audio[s], backend, name[s]) for s in "AB"}
    ident = SpeakerIdentifier(profiles, options, backend)
    att = ident.attribute(turn_audio, expected="B")    # .speaker .confidence .segments
    for i in ident.interruptions(att, turn_speaker="B"): bus.publish(i.event(turn_start))
"""

from facilitator.speakers.audio import load_wav
from facilitator.speakers.backends import BackendUnavailable, make_backend
from facilitator.speakers.channels import ChannelAttributor
from facilitator.speakers.decision import Attribution, Interruption, Segment
from facilitator.speakers.enrollment import EnrollmentCheck, EnrollmentError, check_enrollment, enroll
from facilitator.speakers.identify import SpeakerIdentifier
from facilitator.speakers.options import SpeakersOptions
from facilitator.speakers.profiles import VoiceProfile, load_profiles, save_profiles

__all__ = [
    "Attribution", "BackendUnavailable", "ChannelAttributor", "EnrollmentCheck",
    "EnrollmentError", "Interruption", "Segment", "SpeakerIdentifier", "SpeakersOptions",
    "VoiceProfile", "check_enrollment", "enroll", "load_profiles", "load_wav",
    "make_backend", "save_profiles",
]
