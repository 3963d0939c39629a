"""commits halfway: creates a table outside the migration's transaction, then runs a statement PostgreSQL rejects"""

from alembic import op

revision = "0005"
down_revision = "0003"


def upgrade():
    # Committed at once, whatever happens next: the revision stays at 0003 while the schema has changed.
    with op.get_context().autocommit_block():
        op.execute("CREATE TABLE audit_partial (id bigserial PRIMARY KEY)")
    op.execute("ALTER TABLE notes ADD COLUMN broken integer NOT NULL DEFAULT 'not a number'")
