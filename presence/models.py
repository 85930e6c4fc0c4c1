"""Tables of the presence app (filled in by its own issue)."""
