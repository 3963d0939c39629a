"""create notes"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute(
        "CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL,"
        " created_at timestamptz NOT NULL DEFAULT now())"
    )
