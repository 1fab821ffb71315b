"""Synthesis: the speech service, its Triton client and scheduler, voices, audio encoding, kept downloads."""
