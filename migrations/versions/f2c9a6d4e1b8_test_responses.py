"""responses flagged as staff tests (previews), never counted; the channel count's index skips them

Revision ID: f2c9a6d4e1b8
Revises: e5b8c2f71a3d
Create Date: 2026-12-07 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2c9a6d4e1b8'
down_revision = 'e5b8c2f71a3d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_test', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.drop_index('ix_responses_survey_status_channel', table_name='responses')
    op.create_index('ix_responses_survey_status_test_channel', 'responses',
                    ['survey_id', 'status', 'is_test', 'channel'], unique=False)


def downgrade():
    # Test responses were never real answers: they go rather than become counted ones.
    op.execute(sa.text('DELETE FROM answers WHERE response_id IN (SELECT id FROM responses WHERE is_test)'))
    op.execute(sa.text('DELETE FROM responses WHERE is_test'))
    op.drop_index('ix_responses_survey_status_test_channel', table_name='responses')
    op.create_index('ix_responses_survey_status_channel', 'responses', ['survey_id', 'status', 'channel'],
                    unique=False)
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('is_test')
