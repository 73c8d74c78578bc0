"""Every text of a report is in its language, and a written-in "Other" is never named as an answer."""
from __future__ import annotations

from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.services import findings, report
from survey_app.services import results as rs


def test_regions_and_notes_are_in_the_reports_language(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    english, arabic = rs.summarise(survey, lang="en"), rs.summarise(survey, lang="ar")
    assert english.crosstab is not None and arabic.crosstab is not None
    labels = {column.code: column.label for column in arabic.crosstab.columns}
    assert {column.code: column.label for column in english.crosstab.columns}["mena"] == "Middle East and North Africa"
    assert labels["mena"] == "الشرق الأوسط وشمال أفريقيا"
    assert "Percentages" not in arabic.crosstab.note and "النسب المئوية" in arabic.crosstab.note
    withheld = rs.summarise(survey, rs.ResultFilter.from_values(countries=["IS"]), lang="fr")
    assert withheld.withheld and "groupe" in withheld.withheld_reason


def test_the_written_in_other_is_counted_but_never_a_key_finding(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    for lang in ("en", "ar"):
        content = report.build_content(survey, lang)
        crosstab = content.results.crosstab
        assert crosstab is not None and crosstab.other_code is not None
        other_rows = [row for row in crosstab.rows if row[0] == crosstab.other_code]
        assert other_rows and other_rows[0] not in crosstab.answers  # in the table, not among the answers
        question = next(q for q in survey.questions if q.code == crosstab.question_code)
        other_label = next(o for o in question.options if o.is_other).label[lang]
        texts = [finding.text for finding in findings.generate(survey, content.results)]
        assert texts and not any(other_label in text for text in texts)
        assert all(other_label not in top.answers for top in content.region_tops)
