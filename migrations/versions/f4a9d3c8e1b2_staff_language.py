"""each staff account's interface language, chosen in the staff header (none: the browser's)

Revision ID: f4a9d3c8e1b2
Revises: f2c9a6d4e1b8
Create Date: 2026-12-07 05:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4a9d3c8e1b2'
down_revision = 'f2c9a6d4e1b8'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, never batch mode: on SQLite a batch copy drops the old staff_users table, and with
# foreign keys on that deletes every session (ON DELETE CASCADE) and the audit log's actors (SET NULL).


def upgrade():
    op.add_column('staff_users', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    op.drop_column('staff_users', 'language')
