"""running totals of complete responses, filled from the responses already complete; approved-quote index

Revision ID: c3f1d2a94b7e
Revises: ab8e1a7ae4ce
Create Date: 2026-11-21 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import survey_app.models.base


# revision identifiers, used by Alembic.
revision = 'c3f1d2a94b7e'
down_revision = 'ab8e1a7ae4ce'
branch_labels = None
depends_on = None

NO_COHORT = -1  # as survey_app.models.totals.NO_COHORT, frozen here

# The tables as they are at this revision, so the data step never depends on today's models.
responses = sa.table(
    'responses', sa.column('id', sa.Integer), sa.column('survey_id', sa.Integer), sa.column('status', sa.String),
    sa.column('language', sa.String), sa.column('country', sa.String), sa.column('cohort', sa.Integer),
    sa.column('submitted_at', survey_app.models.base.UTCDateTime(timezone=True)),
)
answers = sa.table(
    'answers', sa.column('response_id', sa.Integer), sa.column('question_id', sa.Integer),
    sa.column('item_code', sa.String), sa.column('option_code', sa.String), sa.column('number', sa.Integer),
    sa.column('text', sa.Text), sa.column('category', sa.String),
)
response_totals = sa.table(
    'response_totals', sa.column('survey_id'), sa.column('country'), sa.column('cohort'), sa.column('language'),
    sa.column('responses'), sa.column('first_submitted_at'), sa.column('last_submitted_at'),
)
answer_totals = sa.table(
    'answer_totals', sa.column('survey_id'), sa.column('question_id'), sa.column('item_code'),
    sa.column('option_code'), sa.column('number'), sa.column('category'), sa.column('country'),
    sa.column('answers'), sa.column('numbers'), sa.column('texts'), sa.column('respondents'),
)


def upgrade():
    op.create_table('response_totals',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('cohort', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('first_submitted_at', survey_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_submitted_at', survey_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_response_totals_survey_id_surveys'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'country', 'cohort', 'language', name=op.f('pk_response_totals'))
    )
    op.create_table('answer_totals',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('option_code', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('numbers', sa.Integer(), nullable=False),
    sa.Column('texts', sa.Integer(), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_answer_totals_question_id_questions'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_answer_totals_survey_id_surveys'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'question_id', 'item_code', 'option_code', 'number', 'category',
                            'country', name=op.f('pk_answer_totals'))
    )
    op.create_index('ix_answers_quote_approved', 'answers', ['question_id', 'id'], unique=False,
                    sqlite_where=sa.text('quote_approved = 1'), postgresql_where=sa.text('quote_approved'))
    _fill_totals()


def _fill_totals():
    """Count the responses already complete, so results stay right on existing deployments."""
    complete = responses.c.status == 'complete'
    country = sa.func.coalesce(responses.c.country, '')
    cohort = sa.func.coalesce(responses.c.cohort, NO_COHORT)
    op.execute(response_totals.insert().from_select(
        ['survey_id', 'country', 'cohort', 'language', 'responses', 'first_submitted_at', 'last_submitted_at'],
        sa.select(responses.c.survey_id, country, cohort, responses.c.language, sa.func.count(),
                  sa.func.min(responses.c.submitted_at), sa.func.max(responses.c.submitted_at))
        .where(complete).group_by(responses.c.survey_id, country, cohort, responses.c.language)
    ))
    joined = (sa.select().select_from(answers.join(responses, responses.c.id == answers.c.response_id))
              .where(complete))
    number = sa.func.coalesce(answers.c.number, 0)
    category = sa.func.coalesce(answers.c.category, '')
    cells = joined.add_columns(
        responses.c.survey_id.label('survey_id'), answers.c.question_id.label('question_id'),
        answers.c.item_code.label('item_code'), answers.c.option_code.label('option_code'),
        number.label('number'), category.label('category'), country.label('country'),
        sa.func.count().label('answers'), sa.func.count(answers.c.number).label('numbers'),
        sa.func.count(answers.c.text).label('texts'), sa.literal(0).label('respondents'),
    ).group_by(responses.c.survey_id, answers.c.question_id, answers.c.item_code, answers.c.option_code, number,
               category, country)
    respondents = joined.add_columns(
        responses.c.survey_id, answers.c.question_id, sa.literal(''), sa.literal(''), sa.literal(0),
        sa.literal(''), country, sa.literal(0), sa.literal(0), sa.literal(0),
        sa.func.count(sa.func.distinct(answers.c.response_id)),
    ).group_by(responses.c.survey_id, answers.c.question_id, country)
    both = sa.union_all(cells, respondents).subquery()
    keys = [both.c.survey_id, both.c.question_id, both.c.item_code, both.c.option_code, both.c.number,
            both.c.category, both.c.country]
    metrics = ['answers', 'numbers', 'texts', 'respondents']
    op.execute(answer_totals.insert().from_select(
        ['survey_id', 'question_id', 'item_code', 'option_code', 'number', 'category', 'country', *metrics],
        sa.select(*keys, *(sa.func.sum(both.c[m]) for m in metrics)).group_by(*keys)
    ))


def downgrade():
    op.drop_index('ix_answers_quote_approved', table_name='answers')
    op.drop_table('answer_totals')
    op.drop_table('response_totals')
