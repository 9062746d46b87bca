"""The benchmarks print their figures, not Rasa's logs."""

import logging


def quiet_rasa() -> None:
    """Warnings and errors only (the parses themselves are silenced by ``bot.evaluation.model_parser``)."""
    logging.basicConfig(level=logging.WARNING)
