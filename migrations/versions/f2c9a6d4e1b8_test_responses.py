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


# Plain ALTER TABLE, never batch mode: on SQLite a batch copy drops the old responses table, and with
# foreign keys on that deletes every answer (ON DELETE CASCADE). SQLite adds and drops this column in place.


def upgrade():
    op.add_column('responses', sa.Column('is_test', sa.Boolean(), server_default=sa.text('false'), nullable=False))
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
    op.drop_column('responses', 'is_test')
