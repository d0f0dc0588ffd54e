"""Contract tests every state port implementation passes."""
