"""add note title"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("ALTER TABLE notes ADD COLUMN title text NOT NULL DEFAULT ''")
    op.execute("CREATE INDEX notes_created_at ON notes (created_at)")
