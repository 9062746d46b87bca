"""Products: one interface, an embedded demo catalog and an adapter for a shop's own product API."""
