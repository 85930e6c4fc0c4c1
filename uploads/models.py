"""Tables of the uploads app (filled in by its own issue)."""
