"""The human desk: handoff queue, business hours and agents (issue C)."""
