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


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('language')
