"""The benchmarks print their figures, not Rasa's logs."""

import logging

from rasa.utils.log_utils import configure_structlog


def quiet_rasa() -> None:
    """Warnings and errors only: Rasa's structlog prints every parse (the evaluated utterances) at DEBUG
    unless configured, thousands of lines around a benchmark's table."""
    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.WARNING)
