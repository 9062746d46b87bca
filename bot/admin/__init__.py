"""Admin tools: FAQ editing, retraining with a quality gate, analytics."""
