"""Simulation: the demo's reactive room, synthetic partners, and fakes of the loop's rooms
for fast tests. Nothing here runs in a real session except the built-in demo."""
