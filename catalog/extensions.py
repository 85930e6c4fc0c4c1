"""PostgreSQL extensions the catalog uses when the server has them.

pg_trgm (typo-tolerant search) ships with PostgreSQL's contrib package, which every production
server and the test server have, but the embedded PostgreSQL of `make run` (pgserver) does not.
Without it the catalog still works: the trigram indexes are skipped and search corrects typos by
edit distance over the same dictionary instead (catalog.selectors).
"""

from django.db import connection
from django.db.migrations.operations import AddIndex

_EXTENSION_SQL = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    END IF;
END
$$;
"""

_available: dict[str, bool] = {}


def trigram_available(conn=None) -> bool:
    """Whether pg_trgm is installed in this database (asked once per process and database)."""
    conn = conn or connection
    key = conn.settings_dict["NAME"]
    if not _available.get(key):  # only a positive answer is kept: it can be installed later
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _available[key] = cursor.fetchone() is not None
    return _available[key]


class AddIndexIfTrigram(AddIndex):
    """AddIndex for a gin_trgm_ops index, skipped where pg_trgm is not installed."""

    def _applies(self, app_label, schema_editor, state) -> bool:
        model = state.apps.get_model(app_label, self.model_name)
        return self.allow_migrate_model(
            schema_editor.connection.alias, model
        ) and trigram_available(schema_editor.connection)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if self._applies(app_label, schema_editor, to_state):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self._applies(app_label, schema_editor, from_state):
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def create_trigram_extension_sql() -> str:
    return _EXTENSION_SQL
