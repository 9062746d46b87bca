"""cskh-bot: a Vietnamese customer-service bot on Rasa Open Source."""
