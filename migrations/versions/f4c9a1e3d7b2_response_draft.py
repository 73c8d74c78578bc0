"""each partial response's draft: what a fellow typed but could not save yet when going back a page

Revision ID: f4c9a1e3d7b2
Revises: f4a9d3c8e1b2
Create Date: 2026-12-07 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4c9a1e3d7b2'
down_revision = 'f4a9d3c8e1b2'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, never batch mode: on SQLite a batch copy drops the old responses table, and with
# foreign keys on that deletes every answer (ON DELETE CASCADE). SQLite adds and drops this column in place.


def upgrade():
    op.add_column('responses', sa.Column('draft', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('responses', 'draft')
