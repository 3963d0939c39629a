"""create tags"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade():
    op.execute("CREATE TABLE tags (note_id bigint NOT NULL REFERENCES notes (id), tag text NOT NULL)")
