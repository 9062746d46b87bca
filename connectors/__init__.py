"""Channel connectors (Rasa InputChannels) for Zalo OA and Facebook Messenger."""
