"""A section's answers, as posted or as stored, read and checked by each question's type on the server."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from werkzeug.datastructures import MultiDict

from survey_app.questions import AnswerRow, QuestionView, Reading, StoredAnswer, TextPicker


class SectionAnswers:
    """One section's answers, and the messages beside its questions once checked.

    A plain reader of the posted values rather than a WTForms form: each question's type reads
    and checks its own fields (survey_app/questions), with our own translated messages, and the
    CSRF check is the link-bound one in survey_app/respond/csrf.py. The question macros ask it
    what was chosen or typed, so a page shows exactly what the fellow sent.
    """

    def __init__(self, section_questions: Sequence[QuestionView], formdata: MultiDict[str, str],
                 text: TextPicker | None = None) -> None:
        self.questions = tuple(section_questions)
        self.formdata = formdata
        self.text = text  # picks the survey's texts in the page's language, for messages that name questions
        self.readings: dict[str, Reading] = {}
        self.question_errors: dict[str, list[str]] = {}

    @classmethod
    def from_answers(cls, section_questions: Sequence[QuestionView], answers: Mapping[int, Sequence[StoredAnswer]],
                     draft: Mapping[str, Sequence[Sequence[str]]] | None = None) -> SectionAnswers:
        """The form that would store these answers, so a revisited page shows them.

        A question kept in the draft (typed, not valid yet, when the fellow went back) shows the
        draft exactly as typed instead of its stored answer.
        """
        data: MultiDict[str, str] = MultiDict()
        for q in section_questions:
            kept = (draft or {}).get(str(q.id))
            fields = [(name, value) for name, value in kept] if kept else q.kind.formdata(q, answers.get(q.id, ()))
            for name, value in fields:
                data.add(name, value)
        return cls(section_questions, data)

    def validate(self) -> bool:
        """Read every question through its type; True when all of them are valid."""
        self.readings = {q.code: q.kind.read(q, self.formdata, self.text) for q in self.questions}
        self.question_errors = {code: reading.errors for code, reading in self.readings.items() if reading.errors}
        return not self.question_errors

    def kept_as_typed(self) -> dict[int, list[tuple[str, str]]]:
        """The posted fields of each question not valid yet, to keep as a draft when going back."""
        invalid = [q for q in self.questions if self.question_errors.get(q.code)]
        return {q.id: [(name, value) for name in q.kind.field_names(q) for value in self.formdata.getlist(name)]
                for q in invalid}

    def answer_rows(self) -> list[AnswerRow]:
        """The rows to store for the valid questions (codes only; an Other text only with Other)."""
        return [row for reading in self.readings.values() if reading.valid for row in reading.rows]

    def first_field_id(self, question: QuestionView) -> str:
        """The id the error summary links to: the first input of the question."""
        return question.kind.first_field_id(question)

    # What the question macros ask (templates/questions/):

    def values(self, name: str) -> list[str]:
        """What was chosen or typed under one field name (a list: check boxes post several)."""
        return self.formdata.getlist(name)

    def value(self, name: str) -> str:
        return self.formdata.get(name) or ""

    def errors(self, question_code: str) -> list[str]:
        return self.question_errors.get(question_code, [])
