"""A section's posted answers, read and checked against its questions on the server."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict

from survey_app.services.responses import AnswerRow, storable_text
from survey_app.services.structure import QuestionView, SectionView

DEFAULT_TEXT_MAX = 500
DEFAULT_TEXTAREA_MAX = 5000
OTHER_TEXT_MAX = 200
OTHER_SUFFIX = "__other"


def other_field_name(question: QuestionView) -> str:
    return question.code + OTHER_SUFFIX


def cell_field_name(question: QuestionView, code: str) -> str:
    """Field of one matrix row or one ranked item."""
    return f"{question.code}__{code}"


def text_limit(question: QuestionView) -> int:
    default = DEFAULT_TEXTAREA_MAX if question.type == "textarea" else DEFAULT_TEXT_MAX
    return int(question.settings.get("max_length", default))


class SectionAnswers:
    """One section's posted answers, checked against its questions; every check runs on the server.

    A plain reader of the posted values rather than a WTForms form: the fields would only hold the
    values (every rule is in validate_question, with our own translated messages), and binding a
    field per question and matrix row cost more than the rest of a save. The CSRF check is the
    link-bound one in survey_app/respond/csrf.py.
    """

    def __init__(self, section: SectionView, formdata: MultiDict) -> None:
        self.section = section
        self._formdata = formdata
        self.question_errors: dict[str, list[str]] = {}

    def value(self, name: str) -> str | None:
        """The first value posted under `name`, as a single-choice field reads it."""
        return self._formdata.get(name)

    def values(self, name: str) -> list[str]:
        """Every value posted under `name`, as a multiple-choice field reads them."""
        return self._formdata.getlist(name)

    def validate(self) -> bool:
        self.question_errors = {}
        for question in self.section.questions:
            errors = validate_question(self, question)
            if errors:
                self.question_errors[question.code] = errors
        return not self.question_errors

    def first_field_id(self, question: QuestionView) -> str:
        """The id the error summary links to: the first input of the question."""
        if question.type in {"single", "likert", "multiple"} and not is_select(question):
            return f"{question.code}-{question.choices[0].code}"
        if question.type == "matrix":
            return f"{cell_field_name(question, question.rows[0].code)}-{question.choices[0].code}"
        if question.type == "ranking":
            return cell_field_name(question, question.choices[0].code)
        return question.code

    def answer_rows(self) -> list[AnswerRow]:
        """Turn the validated answers into stored answer rows (codes only; Other text only with Other)."""
        rows: list[AnswerRow] = []
        for question in self.section.questions:
            rows.extend(answer_rows_for(self, question))
        return rows


def is_select(question: QuestionView) -> bool:
    """Show a select instead of radios for long lists such as countries."""
    return question.type == "single" and (len(question.choices) > 15 or question.settings.get("display") == "select")


def _clean(value: str | None) -> str:
    """Normalise typed text exactly as it will be stored, so validation judges the stored value."""
    return storable_text((value or "").replace("\r\n", "\n")).strip()


def validate_question(form: SectionAnswers, q: QuestionView) -> list[str]:
    """Check one question's submitted value; return messages for the fellow (empty when fine)."""
    errors: list[str] = []
    if q.type in {"single", "likert"}:
        value = form.value(q.code)
        if not value:
            if q.required:
                errors.append(_l("Select an answer") if not is_select(q) else _l("Select an option from the list"))
        elif value not in q.choice_codes:
            errors.append(_l("Select one of the options shown"))
        errors += _other_errors(form, q, {value} if value else set())
    elif q.type == "multiple":
        chosen = set(form.values(q.code))
        if chosen - q.choice_codes:
            errors.append(_l("Select only the options shown"))
        elif not chosen and q.required:
            errors.append(_l("Select at least one answer, or “None of these”")
                          if any(o.is_exclusive for o in q.choices) else _l("Select at least one answer"))
        exclusive = {o.code for o in q.choices if o.is_exclusive}
        if chosen & exclusive and len(chosen) > 1:
            errors.append(_l("“None of these” cannot be combined with other answers"))
        minimum, maximum = q.settings.get("min_choices"), q.settings.get("max_choices")
        if chosen and minimum and len(chosen) < int(minimum):
            errors.append(ngettext("Select at least %(num)d answer", "Select at least %(num)d answers", int(minimum)))
        if maximum and len(chosen) > int(maximum):
            errors.append(ngettext("Select at most %(num)d answer", "Select at most %(num)d answers", int(maximum)))
        errors += _other_errors(form, q, chosen)
    elif q.type in {"text", "textarea"}:
        value = _clean(form.value(q.code))
        if not value and q.required:
            errors.append(_l("Enter an answer"))
        elif len(value) > text_limit(q):
            errors.append(_l("Your answer must be %(max)d characters or fewer (it is %(len)d)",
                             max=text_limit(q), len=len(value)))
    elif q.type == "number":
        raw = _clean(form.value(q.code))
        if not raw:
            if q.required:
                errors.append(_l("Enter a number"))
        else:
            try:
                number = int(raw)
            except ValueError:
                errors.append(_l("Enter a whole number, like 2015"))
            else:
                low, high = q.settings.get("min_value"), q.settings.get("max_value")
                if (low is not None and number < int(low)) or (high is not None and number > int(high)):
                    errors.append(_l("Enter a number between %(low)s and %(high)s", low=low, high=high))
    elif q.type == "matrix":
        unanswered = 0
        for row in q.rows:
            value = form.value(cell_field_name(q, row.code))
            if not value:
                unanswered += 1
            elif value not in q.choice_codes:
                errors.append(_l("Select one of the options shown"))
                break
        if q.required and unanswered:
            errors.append(_l("Select an answer for each row"))
    elif q.type == "ranking":
        ranks = []
        for item in q.choices:
            raw = form.value(cell_field_name(q, item.code))
            if raw:
                if not raw.isdigit() or not 1 <= int(raw) <= len(q.choices):
                    errors.append(_l("Choose a rank from the list"))
                    break
                ranks.append(int(raw))
        else:
            if len(ranks) != len(set(ranks)):
                errors.append(_l("Give each rank to only one item"))
            elif sorted(ranks) != list(range(1, len(ranks) + 1)):
                errors.append(_l("Use the ranks in order, starting from 1, without gaps"))
            elif q.required and len(ranks) < len(q.choices):
                errors.append(_l("Rank every item"))
    return [str(e) for e in errors]


def _other_errors(form: SectionAnswers, q: QuestionView, chosen: set[str]) -> list[str]:
    other = q.other_option
    if other is None or other.code not in chosen:
        return []
    text = _clean(form.value(other_field_name(q)))
    if not text:
        return [str(_l("Say what the other answer is"))]
    if len(text) > OTHER_TEXT_MAX:
        return [str(_l("Your answer must be %(max)d characters or fewer (it is %(len)d)", max=OTHER_TEXT_MAX,
                       len=len(text)))]
    return []


def answer_rows_for(form: SectionAnswers, q: QuestionView) -> Iterable[AnswerRow]:
    if q.type in {"single", "likert", "multiple"}:
        chosen = form.values(q.code) if q.type == "multiple" else [form.value(q.code)]
        other = q.other_option
        for code in chosen:
            if not code:
                continue
            text = _clean(form.value(other_field_name(q))) if other is not None and code == other.code else None
            yield AnswerRow(q.id, option_code=code, text=text)
    elif q.type in {"text", "textarea"}:
        value = _clean(form.value(q.code))
        if value:
            yield AnswerRow(q.id, text=value)
    elif q.type == "number":
        raw = _clean(form.value(q.code))
        if raw:
            yield AnswerRow(q.id, number=int(raw))
    elif q.type == "matrix":
        for row in q.rows:
            value = form.value(cell_field_name(q, row.code))
            if value:
                yield AnswerRow(q.id, item_code=row.code, option_code=value)
    elif q.type == "ranking":
        for item in q.choices:
            raw = form.value(cell_field_name(q, item.code))
            if raw:
                yield AnswerRow(q.id, item_code=item.code, number=int(raw))


def formdata_from_answers(section: SectionView, answers: dict[int, list]) -> MultiDict:
    """Rebuild the submitted form from stored answers, so a revisited page shows them."""
    data: MultiDict = MultiDict()
    for q in section.questions:
        for answer in answers.get(q.id, []):
            if q.type in {"single", "likert", "multiple"}:
                data.add(q.code, answer.option_code)
                if answer.text and q.other_option is not None and answer.option_code == q.other_option.code:
                    data.add(other_field_name(q), answer.text)
            elif q.type in {"text", "textarea"}:
                data.add(q.code, answer.text or "")
            elif q.type == "number":
                data.add(q.code, "" if answer.number is None else str(answer.number))
            elif q.type == "matrix":
                data.add(cell_field_name(q, answer.item_code), answer.option_code)
            elif q.type == "ranking":
                data.add(cell_field_name(q, answer.item_code), str(answer.number))
    return data
