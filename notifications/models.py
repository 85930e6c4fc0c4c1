"""Tables of the notifications app (filled in by its own issue)."""
