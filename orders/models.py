"""Tables of the orders app (filled in by its own issue)."""
