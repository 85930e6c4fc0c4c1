"""The catalog's list version, kept by the database (catalog.list_cache reads it).

Any statement that writes a table the product list shows (products, categories, tags, product
tags; INSERT, UPDATE, DELETE or TRUNCATE, from any code path, raw SQL included) records its
transaction in catalog_listchange, once per transaction; a deferred trigger on that table bumps
catalog_listversion when the transaction commits. The version row is locked only while the
writing transaction commits, so concurrent writers (checkouts) do not queue on it, and a reader
never sees the new version before the data it stands for.

The version starts at a random number (and starts again at one if the row is ever lost), so a
recreated or restored schema does not meet cache entries left from an earlier life.
"""

from django.db import migrations

LISTED_TABLES = ("catalog_product", "catalog_category", "catalog_tag", "catalog_product_tags")

FORWARD = [
    """
    CREATE TABLE catalog_listversion (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        version bigint NOT NULL DEFAULT floor(random() * 1e15)::bigint
    );
    INSERT INTO catalog_listversion (id) VALUES (1);
    CREATE TABLE catalog_listchange (txid bigint PRIMARY KEY);
    """,
    # Statement-level: one cheap insert per writing statement, whatever its row count.
    """
    CREATE FUNCTION catalog_list_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        EXECUTE format(
            'INSERT INTO %I.catalog_listchange (txid) VALUES (txid_current()) '
            'ON CONFLICT DO NOTHING',
            TG_TABLE_SCHEMA
        );
        RETURN NULL;
    END
    $$;
    """,
    # At commit (deferred): one bump per transaction, then the change row goes.
    """
    CREATE FUNCTION catalog_list_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        EXECUTE format(
            'INSERT INTO %I.catalog_listversion AS v (id) VALUES (1) '
            'ON CONFLICT (id) DO UPDATE SET version = v.version + 1',
            TG_TABLE_SCHEMA
        );
        EXECUTE format('DELETE FROM %I.catalog_listchange WHERE txid = $1', TG_TABLE_SCHEMA)
            USING NEW.txid;
        RETURN NULL;
    END
    $$;
    CREATE CONSTRAINT TRIGGER catalog_listchange_commit
        AFTER INSERT ON catalog_listchange DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION catalog_list_version_bump();
    """,
    *(
        f"""
        CREATE TRIGGER {table}_list_changed
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION catalog_list_changed();
        """
        for table in LISTED_TABLES
    ),
]

BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {table}_list_changed ON {table};" for table in LISTED_TABLES),
    """
    DROP TABLE IF EXISTS catalog_listchange;
    DROP TABLE IF EXISTS catalog_listversion;
    DROP FUNCTION IF EXISTS catalog_list_version_bump();
    DROP FUNCTION IF EXISTS catalog_list_changed();
    """,
]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_words")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
