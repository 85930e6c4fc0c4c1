"""Tables of the rbac app (filled in by its own issue)."""
