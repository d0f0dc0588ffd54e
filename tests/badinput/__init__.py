"""Malformed raw payloads every source must refuse (see `tests.badinput.corpus`)."""
