"""Custom actions served by the rasa-sdk action server (``python -m bot.serve actions``)."""
