"""The verify stage: every session and route of the intent checked against what
the speakers report (check)."""
