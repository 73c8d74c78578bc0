"""A section's posted answers, read and checked against its questions on the server."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

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


# Whole numbers as typed on a keyboard: ASCII digits with an optional minus. int() alone would also
# take "٣", "1_950" and " +7", and "²".isdigit() is true though int("²") fails.
_WHOLE_NUMBER = re.compile(r"-?[0-9]+", re.ASCII)
# No number answer may go beyond this, whatever its question says: the column is a 32-bit integer,
# and sums of many answers must stay exact.
NUMBER_LIMIT = 1_000_000_000


def parse_whole_number(raw: str) -> int | None:
    """The integer a fellow typed, or None unless it is ASCII digits within ±NUMBER_LIMIT."""
    if not _WHOLE_NUMBER.fullmatch(raw) or len(raw.lstrip("-")) > len(str(NUMBER_LIMIT)):
        return None
    number = int(raw)
    return number if -NUMBER_LIMIT <= number <= NUMBER_LIMIT else None


def number_bounds(question: QuestionView) -> tuple[int, int]:
    """The range a number question accepts: its own min_value and max_value, within ±NUMBER_LIMIT."""
    low, high = question.settings.get("min_value"), question.settings.get("max_value")
    return (max(int(low), -NUMBER_LIMIT) if low is not None else -NUMBER_LIMIT,
            min(int(high), NUMBER_LIMIT) if high is not None else NUMBER_LIMIT)


def validate_question(form: SectionAnswers, q: QuestionView) -> list[str]:
    """Check one question's submitted values; return messages for the fellow (empty when fine).

    Each question type has its own check below, beside the function that turns its checked values
    into answer rows: what one accepts, the other stores. A field a browser sends once and that
    arrives several times is refused with a message, never left for the database to refuse.
    """
    check, _rows = QUESTION_TYPES[q.type]
    return [str(e) for e in check(form, q)]


def answer_rows_for(form: SectionAnswers, q: QuestionView) -> Iterable[AnswerRow]:
    """The answer rows of one validated question."""
    _check, rows = QUESTION_TYPES[q.type]
    return rows(form, q)


def _other_errors(form: SectionAnswers, q: QuestionView, chosen: set[str]) -> list[str]:
    other = q.other_option
    if other is None or other.code not in chosen:
        return []
    if len(form.values(other_field_name(q))) > 1:
        return [str(_l("Enter only one answer"))]
    text = _clean(form.value(other_field_name(q)))
    if not text:
        return [str(_l("Say what the other answer is"))]
    if len(text) > OTHER_TEXT_MAX:
        return [str(_l("Your answer must be %(max)d characters or fewer (it is %(len)d)", max=OTHER_TEXT_MAX,
                       len=len(text)))]
    return []


def _choice_rows(form: SectionAnswers, q: QuestionView, chosen: Iterable[str]) -> Iterator[AnswerRow]:
    other = q.other_option
    for code in chosen:
        if code:
            text = _clean(form.value(other_field_name(q))) if other is not None and code == other.code else None
            yield AnswerRow(q.id, option_code=code, text=text)


# --- single choice and Likert: one option code --------------------------------------------------

def _check_single(form: SectionAnswers, q: QuestionView) -> list:
    posted = form.values(q.code)
    if len(posted) > 1:
        return [_l("Select only one answer")]
    value = posted[0] if posted else None
    errors: list = []
    if not value:
        if q.required:
            errors.append(_l("Select an answer") if not is_select(q) else _l("Select an option from the list"))
    elif value not in q.choice_codes:
        errors.append(_l("Select one of the options shown"))
    return errors + _other_errors(form, q, {value} if value else set())


def _single_rows(form: SectionAnswers, q: QuestionView) -> Iterator[AnswerRow]:
    return _choice_rows(form, q, [form.value(q.code) or ""])


# --- multiple choice: a set of option codes -----------------------------------------------------

def _check_multiple(form: SectionAnswers, q: QuestionView) -> list:
    posted = form.values(q.code)
    chosen = set(posted)
    errors: list = []
    if chosen - q.choice_codes:
        errors.append(_l("Select only the options shown"))
    elif len(posted) != len(chosen):
        errors.append(_l("Select each answer only once"))
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
    return errors + _other_errors(form, q, chosen)


def _multiple_rows(form: SectionAnswers, q: QuestionView) -> Iterator[AnswerRow]:
    return _choice_rows(form, q, form.values(q.code))


# --- text and textarea: one text ----------------------------------------------------------------

def _check_text(form: SectionAnswers, q: QuestionView) -> list:
    if len(form.values(q.code)) > 1:
        return [_l("Enter only one answer")]
    value = _clean(form.value(q.code))
    if not value and q.required:
        return [_l("Enter an answer")]
    if len(value) > text_limit(q):
        return [_l("Your answer must be %(max)d characters or fewer (it is %(len)d)", max=text_limit(q),
                   len=len(value))]
    return []


def _text_rows(form: SectionAnswers, q: QuestionView) -> Iterator[AnswerRow]:
    value = _clean(form.value(q.code))
    if value:
        yield AnswerRow(q.id, text=value)


# --- number: one whole number within the question's range ---------------------------------------

def _check_number(form: SectionAnswers, q: QuestionView) -> list:
    if len(form.values(q.code)) > 1:
        return [_l("Enter only one number")]
    raw = _clean(form.value(q.code))
    if not raw:
        return [_l("Enter a number")] if q.required else []
    number = parse_whole_number(raw)
    low, high = number_bounds(q)
    if number is None:
        if any(ch.isdigit() and not ch.isascii() for ch in raw):
            return [_l("Enter the number using the digits 0 to 9")]
        if not _WHOLE_NUMBER.fullmatch(raw):
            return [_l("Enter a whole number, like 2015")]
    if number is None or not low <= number <= high:
        return [_l("Enter a number between %(low)s and %(high)s", low=low, high=high)]
    return []


def _number_rows(form: SectionAnswers, q: QuestionView) -> Iterator[AnswerRow]:
    number = parse_whole_number(_clean(form.value(q.code)))
    if number is not None:
        yield AnswerRow(q.id, number=number)


# --- matrix: one option code per row ------------------------------------------------------------

def _check_matrix(form: SectionAnswers, q: QuestionView) -> list:
    unanswered = 0
    for row in q.rows:
        posted = form.values(cell_field_name(q, row.code))
        if len(posted) > 1:
            return [_l("Select only one answer in each row")]
        if not posted or not posted[0]:
            unanswered += 1
        elif posted[0] not in q.choice_codes:
            return [_l("Select one of the options shown")]
    if q.required and unanswered:
        return [_l("Select an answer for each row")]
    return []


def _matrix_rows(form: SectionAnswers, q: QuestionView) -> Iterator[AnswerRow]:
    for row in q.rows:
        value = form.value(cell_field_name(q, row.code))
        if value:
            yield AnswerRow(q.id, item_code=row.code, option_code=value)


# --- ranking: a rank from 1 to the number of items, per item ------------------------------------

def _rank(raw: str, q: QuestionView) -> int | None:
    """The rank chosen from the list, or None when it is not one the list offers."""
    number = parse_whole_number(raw)
    return number if number is not None and 1 <= number <= len(q.choices) else None


def _check_ranking(form: SectionAnswers, q: QuestionView) -> list:
    ranks = []
    for item in q.choices:
        posted = form.values(cell_field_name(q, item.code))
        if len(posted) > 1:
            return [_l("Give each item only one rank")]
        if posted and posted[0]:
            rank = _rank(posted[0], q)
            if rank is None:
                return [_l("Choose a rank from the list")]
            ranks.append(rank)
    if len(ranks) != len(set(ranks)):
        return [_l("Give each rank to only one item")]
    if sorted(ranks) != list(range(1, len(ranks) + 1)):
        return [_l("Use the ranks in order, starting from 1, without gaps")]
    if q.required and len(ranks) < len(q.choices):
        return [_l("Rank every item")]
    return []


def _ranking_rows(form: SectionAnswers, q: QuestionView) -> Iterator[AnswerRow]:
    for item in q.choices:
        rank = _rank(form.value(cell_field_name(q, item.code)) or "", q)
        if rank is not None:
            yield AnswerRow(q.id, item_code=item.code, number=rank)


Check = Callable[[SectionAnswers, QuestionView], list]
Rows = Callable[[SectionAnswers, QuestionView], Iterable[AnswerRow]]
# Each question type's check and the rows it stores, side by side.
QUESTION_TYPES: dict[str, tuple[Check, Rows]] = {
    "single": (_check_single, _single_rows),
    "likert": (_check_single, _single_rows),
    "multiple": (_check_multiple, _multiple_rows),
    "text": (_check_text, _text_rows),
    "textarea": (_check_text, _text_rows),
    "number": (_check_number, _number_rows),
    "matrix": (_check_matrix, _matrix_rows),
    "ranking": (_check_ranking, _ranking_rows),
}


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
