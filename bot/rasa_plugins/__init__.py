"""What ``rasa run`` loads from this project besides the NLU components (bot/nlu) and the channels
(connectors/): the tracker store and the event broker named in endpoints.yml."""
