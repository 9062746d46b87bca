"""Orders: one interface, an embedded demo shop and an adapter for a shop's own API."""
