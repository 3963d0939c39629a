# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fingerprint of a database's schema: what tells whether a failed migration committed anything.

A migration tool's revision says nothing about DDL committed outside its transaction (Alembic's
``autocommit_block``, Django's ``atomic = False``, a ``CREATE INDEX CONCURRENTLY``): comparing this fingerprint
before and after a failure does. It covers relations, columns, constraints, indexes, functions, types and
extensions of every schema but PostgreSQL's own; data is not part of it.
"""

from __future__ import annotations

FINGERPRINT_QUERY = """
WITH user_namespaces AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%'
    AND nspname NOT LIKE 'pg\\_temp\\_%'
), facts AS (
  SELECT 'schema ' || nspname FROM user_namespaces
  UNION ALL
  SELECT format('relation %s.%s %s', n.nspname, c.relname, c.relkind)
  FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace
  UNION ALL
  SELECT format('column %s.%s.%s %s %s %s', n.nspname, c.relname, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN user_namespaces n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('constraint %s.%s %s', n.nspname, con.conname, pg_get_constraintdef(con.oid))
  FROM pg_constraint con JOIN user_namespaces n ON n.oid = con.connamespace
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid))
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN user_namespaces n ON n.oid = c.relnamespace
  UNION ALL
  SELECT format('function %s.%s(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                md5(p.prosrc))
  FROM pg_proc p JOIN user_namespaces n ON n.oid = p.pronamespace
  UNION ALL
  SELECT format('type %s.%s %s', n.nspname, t.typname, t.typtype)
  FROM pg_type t JOIN user_namespaces n ON n.oid = t.typnamespace
  UNION ALL
  SELECT format('extension %s %s', extname, extversion) FROM pg_extension
) SELECT md5(coalesce(string_agg(fact, E'\\n' ORDER BY fact), '')) FROM facts AS f(fact)
"""


def fingerprint(connection):
    """The schema's fingerprint over a DB-API connection (an md5 hex string)."""
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_QUERY)
        return cursor.fetchall()[0][0]
