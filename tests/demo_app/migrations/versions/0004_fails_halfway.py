"""fails halfway: creates a table, then runs a statement PostgreSQL rejects"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade():
    op.execute("CREATE TABLE audit (id bigserial PRIMARY KEY)")
    op.execute("ALTER TABLE notes ADD COLUMN broken integer NOT NULL DEFAULT 'not a number'")
