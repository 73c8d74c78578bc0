"""each response's channel (personal or open link) and, for open-link responses, a keyed hash of the client address

Revision ID: d7a41c6e2b90
Revises: c3f1d2a94b7e
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a41c6e2b90'
down_revision = 'c3f1d2a94b7e'
branch_labels = None
depends_on = None

# The table as it is at this revision, so the data step never depends on today's models.
responses = sa.table(
    'responses', sa.column('invitation_id', sa.Integer), sa.column('resume_token_hash', sa.String),
    sa.column('channel', sa.String),
)


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), server_default='personal', nullable=False))
        batch_op.add_column(sa.Column('client_hash', sa.String(length=32), nullable=True))
    # Responses already stored: a resume token means the open link, an invitation a personal link.
    # Neither (a submitted anonymous response, or one whose survey's retention ran) cannot be told.
    op.execute(responses.update().where(responses.c.resume_token_hash.is_not(None)).values(channel='open'))
    op.execute(responses.update().where(responses.c.resume_token_hash.is_(None),
                                        responses.c.invitation_id.is_(None)).values(channel='unknown'))
    op.create_index('ix_responses_client_hash', 'responses', ['survey_id', 'client_hash', 'started_at'],
                    unique=False, sqlite_where=sa.text('client_hash IS NOT NULL'),
                    postgresql_where=sa.text('client_hash IS NOT NULL'))
    op.create_index('ix_responses_survey_status_channel', 'responses', ['survey_id', 'status', 'channel'],
                    unique=False)


def downgrade():
    op.drop_index('ix_responses_survey_status_channel', table_name='responses')
    op.drop_index('ix_responses_client_hash', table_name='responses',
                  sqlite_where=sa.text('client_hash IS NOT NULL'), postgresql_where=sa.text('client_hash IS NOT NULL'))
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('client_hash')
        batch_op.drop_column('channel')
