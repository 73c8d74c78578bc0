"""The registry is the one place that knows question types: nothing else branches on a type's name."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from survey_app.questions import QuestionType, get_type, type_names

ROOT = Path(__file__).resolve().parents[2]
TYPE_NAMES = {"single", "multiple", "likert", "text", "textarea", "number", "matrix", "ranking"}


def test_every_documented_type_is_registered_once():
    assert set(type_names()) == TYPE_NAMES
    assert len(type_names()) == len(set(type_names()))


def _python_files() -> list[Path]:
    files = [*(ROOT / "survey_app").rglob("*.py"), *(ROOT / "forms").rglob("*.py")]
    return [p for p in files if "questions" not in p.relative_to(ROOT).parts[:2]]


def _type_operand(node: ast.AST) -> bool:
    """q.type, question.type, Question.type, or a variable named for a type."""
    return ((isinstance(node, ast.Attribute) and node.attr == "type")
            or (isinstance(node, ast.Name) and node.id in {"qtype", "question_type", "type_name"}))


def _names_a_type(node: ast.AST) -> bool:
    """A literal type name, or a set, tuple or list of them."""
    if isinstance(node, ast.Constant):
        return node.value in TYPE_NAMES
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        return any(_names_a_type(element) for element in node.elts)
    return False


def type_branches(source: str) -> list[int]:
    """Lines comparing something with a type name, or a type with a constant set of them."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            literal = any(_names_a_type(o) for o in operands)
            variable = any(isinstance(o, ast.Attribute | ast.Name) for o in operands)
            constant_set = any(isinstance(o, ast.Name) and o.id.isupper() for o in operands)
            if (literal and variable) or (any(_type_operand(o) for o in operands) and constant_set):
                lines.append(node.lineno)
    return lines


def test_no_python_outside_the_registry_branches_on_a_question_type():
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in _python_files()
                 for line in type_branches(path.read_text())]
    assert not offenders, "branch on a question type outside survey_app/questions: " + ", ".join(offenders)


_TEMPLATE_BRANCH = re.compile(
    r"\.type\s*(==|!=|\bin\b|\bnot in\b)|(==|!=|\bin\b)\s*[(\[]?\s*[\"'](" + "|".join(TYPE_NAMES) + r")[\"']")


def test_no_template_outside_the_registry_branches_on_a_question_type():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.parent.name == "questions":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if _TEMPLATE_BRANCH.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, "branch on a question type outside templates/questions: " + ", ".join(offenders)


def test_the_branch_checks_catch_what_they_are_meant_to():
    """The checks above find the chains this project used to have, and leave other comparisons alone."""
    source = ('if q.type in ("single", "likert"):\n    pass\n'
              'if kind == "matrix":\n    pass\n'
              'if question.type in CHOICE_TYPES:\n    pass\n'
              'if question.type != definition["type"]:\n    pass\n'
              'if name not in type_names():\n    pass\n')
    assert type_branches(source) == [1, 3, 5]
    assert _TEMPLATE_BRANCH.search('{% elif q.type == "matrix" %}')
    assert _TEMPLATE_BRANCH.search('{% if question.kind in ("single", "likert") %}')
    assert not _TEMPLATE_BRANCH.search('{% if f.kind == "bars" %}')


@pytest.mark.parametrize("name", sorted(TYPE_NAMES))
def test_each_type_owns_every_concern(app, name):
    """Every type implements the whole contract and has its template with both macros."""
    kind = get_type(name)
    for method in ("read", "formdata", "sampler", "describe", "export_columns", "export_values", "summarise",
                   "figures"):
        assert getattr(type(kind), method) is not getattr(QuestionType, method), f"{name} lacks {method}"
    source = app.jinja_env.loader.get_source(app.jinja_env, kind.template_path)[0]
    assert "{% macro input(" in source and "{% macro answer(" in source
