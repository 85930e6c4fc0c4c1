"""Live presence tests reuse the chat fixtures (committed users and tokens)."""

from chat.tests.conftest import world  # noqa: F401
