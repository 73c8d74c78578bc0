"""the published report: cover settings and public link per survey, staff edits of key findings,
free-text review state (rejected, needs translation) and quote translations

Revision ID: e5b8c2f71a3d
Revises: d7a41c6e2b90
Create Date: 2026-12-07 02:56:09.780608

"""
from alembic import op
import sqlalchemy as sa

import survey_app.models.base


# revision identifiers, used by Alembic.
revision = 'e5b8c2f71a3d'
down_revision = 'd7a41c6e2b90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('generated', sa.Text(), nullable=False),
    sa.Column('updated_at', survey_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_report_findings_survey_id_surveys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_users.id'], name=op.f('fk_report_findings_updated_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_findings')),
    sa.UniqueConstraint('survey_id', 'language', 'key', name=op.f('uq_report_findings_survey_id_language_key'))
    )
    with op.batch_alter_table('report_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_findings_survey_id'), ['survey_id'], unique=False)

    op.create_table('report_settings',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('accent_colour', sa.String(length=7), nullable=True),
    sa.Column('logo_png', sa.LargeBinary(), nullable=True),
    sa.Column('logo_width', sa.Integer(), nullable=True),
    sa.Column('logo_height', sa.Integer(), nullable=True),
    sa.Column('public_seed', sa.LargeBinary(length=16), nullable=True),
    sa.Column('public_token_hash', sa.String(length=64), nullable=True),
    sa.Column('published_at', survey_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', survey_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_report_settings_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', name=op.f('pk_report_settings')),
    sa.UniqueConstraint('public_token_hash', name=op.f('uq_report_settings_public_token_hash'))
    )
    op.create_table('quote_translations',
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', survey_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_quote_translations_answer_id_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('answer_id', 'language', name=op.f('pk_quote_translations'))
    )
    op.create_table('text_reviews',
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Boolean(), nullable=False),
    sa.Column('needs_translation', sa.Boolean(), nullable=False),
    sa.Column('reviewed_at', survey_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_text_reviews_answer_id_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('answer_id', name=op.f('pk_text_reviews'))
    )


def downgrade():
    op.drop_table('text_reviews')
    op.drop_table('quote_translations')
    op.drop_table('report_settings')
    with op.batch_alter_table('report_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_findings_survey_id'))

    op.drop_table('report_findings')
