"""Tables of the chat app (filled in by its own issue)."""
