"""Tables of the catalog app (filled in by its own issue)."""
