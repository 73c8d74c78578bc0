"""each partial response's draft: what a fellow typed but could not save yet when going back a page

Revision ID: f4c9a1e3d7b2
Revises: e5b8c2f71a3d
Create Date: 2026-12-07 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4c9a1e3d7b2'
down_revision = 'e5b8c2f71a3d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('draft')
