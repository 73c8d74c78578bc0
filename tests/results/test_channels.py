"""Results and exports split by channel; the dashboard flags bursts of open-link responses from one address."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from survey_app.dev.generate import generate
from survey_app.extensions import db
from survey_app.models import AuditEvent, Response, Survey
from survey_app.models.base import utcnow
from survey_app.services import bursts, exports
from survey_app.services import results as rs
from tests.conftest import csrf_from
from tests.security.helpers import answer_all, structure_of, submit

URL = "/staff/surveys/legacy-projects/results/"
BURSTING = "203.0.113.5"


def complete_open_responses(app, survey_id: int, address: str, count: int) -> None:
    """Answer and submit `count` responses through the open link from one address, as a browser would."""
    structure = structure_of(app, survey_id)
    for _ in range(count):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        page = client.get("/survey/legacy-projects")
        started = client.post("/survey/legacy-projects", data={"csrf_token": csrf_from(page.data)})
        prefix = re.search(r"(/r/[^/]+)/1", started.headers["Location"]).group(1)
        answer_all(client, prefix, structure)
        assert submit(client, prefix).status_code == 302


@pytest.fixture
def mixed(app, make_survey) -> int:
    """30 complete personal-link responses, then 8 through the open link: 6 from one address, 2 from others."""
    survey_id = make_survey()
    with app.app_context():
        generate(db.session.get(Survey, survey_id), 30, seed=5, partial=0)
    complete_open_responses(app, survey_id, BURSTING, 6)
    complete_open_responses(app, survey_id, "203.0.113.6", 1)
    complete_open_responses(app, survey_id, "203.0.113.7", 1)
    return survey_id


def _filtered_count(page: str) -> int:
    return int(re.search(r'data-count="filtered">(\d+) complete', page).group(1))


def test_dashboard_splits_by_channel_and_flags_the_burst(app, staff_client, mixed):
    everything = staff_client.get(URL).get_data(as_text=True)
    assert _filtered_count(everything) == 38
    assert 'name="channel" value="personal"' in everything and 'name="channel" value="open"' in everything
    # The notice: the rule, the count and the span, never the hash.
    notice = everything.split("data-bursts>", 1)[1].split("</div>", 1)[0]
    assert "at least 5 started within 60 minutes" in notice
    assert re.search(r'data-burst="6">6 responses started between \d+ \w+ \d{4} \d\d:\d\d and', notice)
    with app.app_context():
        hashes = set(db.session.execute(select(Response.client_hash).where(Response.client_hash.is_not(None)))
                     .scalars())
    assert len(hashes) == 3 and not any(h in everything for h in hashes)
    personal = staff_client.get(URL + "?channel=personal").get_data(as_text=True)
    assert _filtered_count(personal) == 30 and "data-bursts" not in personal
    assert "Showing: personal link" in personal
    open_only = staff_client.get(URL + "?channel=open").get_data(as_text=True)
    assert _filtered_count(open_only) == 8 and "data-bursts" in open_only
    assert 'data-count="invited">0<' in open_only  # invitations belong to the personal channel
    # The export links follow a single-channel filter.
    assert "export.csv?channel=open" in open_only and "export.csv?channel" not in everything


def test_channel_filter_counts_from_the_responses(app, mixed):
    with app.app_context():
        survey = db.session.get(Survey, mixed)
        open_filter = rs.ResultFilter.from_values(channels=["open", "bogus"])
        assert open_filter.channels == ("open",) and not open_filter.totals_suffice
        with pytest.raises(ValueError):
            rs.summarise(survey, open_filter, from_totals=True)  # the totals hold no channel
        scanned = rs.summarise(survey, open_filter)
        assert scanned.completed == 8 and not scanned.withheld
        platforms = next(q for q in scanned.questions if q.code == "platforms_used")
        assert platforms.base == 8
        both = rs.summarise(survey, rs.ResultFilter(channels=("open", "personal")))
        assert both.completed == rs.summarise(survey).completed == 38
        assert [b.responses for b in rs.summarise(survey).bursts] == [6]
        assert rs.summarise(survey, rs.ResultFilter(channels=("personal",))).bursts == []


def test_a_channel_filter_naming_every_channel_present_reads_the_totals(app, make_survey):
    """With only personal-link responses, "personal" changes no figure: the totals answer it, as the scan does."""
    survey_id = make_survey()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        generate(survey, 40, seed=9, partial=0)
        personal = rs.ResultFilter(channels=("personal",))
        from_totals = rs.summarise(survey, personal, from_totals=True)
        assert from_totals == rs.summarise(survey, personal, from_totals=False)
        assert from_totals.completed == 40 and from_totals.filter == personal
        with pytest.raises(ValueError):
            rs.summarise(survey, rs.ResultFilter(channels=("open",)), from_totals=True)


def test_a_small_channel_is_withheld_with_its_complement(app, make_survey, staff_client):
    """Three open-link responses: the open channel is withheld, and so is personal (all minus personal = open)."""
    survey_id = make_survey()
    with app.app_context():
        generate(db.session.get(Survey, survey_id), 20, seed=6, partial=0)
    complete_open_responses(app, survey_id, "203.0.113.9", 3)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert rs.filter_choices(survey)["channels"] == []
        for channel in ("open", "personal"):
            assert rs.summarise(survey, rs.ResultFilter(channels=(channel,))).withheld
    page = staff_client.get(URL + "?channel=personal").get_data(as_text=True)
    assert "data-withheld" in page and 'name="channel"' not in page


def test_exports_carry_the_channel_and_filter_by_it(app, staff_client, mixed):
    def rows(url: str) -> list[dict]:
        body = staff_client.get(url).get_data(as_text=True).lstrip("\ufeff")
        return list(csv.DictReader(io.StringIO(body)))

    every = rows(URL + "export.csv")
    assert [r["channel"] for r in every].count("open") == 8 and len(every) == 38
    assert set(every[0]) >= {"response_id", "channel", "respondent_cohort", "platforms_used.facebook"}
    only_open = rows(URL + "export.csv?channel=open")
    assert len(only_open) == 8 and {r["channel"] for r in only_open} == {"open"}
    assert {r["response_id"] for r in only_open} < {r["response_id"] for r in every}
    assert len(rows(URL + "export.csv?channel=personal")) == 30
    assert len(rows(URL + "export.csv?channel=nonsense")) == 38  # an unknown value exports everything
    download = staff_client.get(URL + "export.xlsx?channel=open")
    assert "-open.xlsx" in download.headers["Content-Disposition"]
    with app.app_context():
        hashes = db.session.execute(select(Response.client_hash).where(Response.client_hash.is_not(None))).scalars()
        raw = staff_client.get(URL + "export.csv").get_data(as_text=True)
        assert not any(h in raw for h in hashes)  # the address hash never leaves
        details = db.session.execute(select(AuditEvent.detail).where(AuditEvent.action == "results.export")
                                     .order_by(AuditEvent.id)).scalars().all()
    assert {"format": "csv", "channel": "open"} in details and {"format": "csv"} in details
    with app.app_context():
        survey = db.session.get(Survey, mixed)
        assert sum(1 for _ in exports.iter_rows(survey, channel="open")) == 9  # header and 8 rows


def test_burst_rule_counts_responses_within_one_window():
    start = utcnow()
    spread = [start + timedelta(minutes=20 * n) for n in range(6)]  # 6 over 100 minutes
    assert bursts.largest_window(spread) == (0, 4)  # at most 4 fall within any hour
    tight = [start, start + timedelta(minutes=59), start + timedelta(minutes=60), start + timedelta(minutes=61)]
    assert bursts.largest_window(tight) == (0, 3)


def test_bursts_older_than_their_hashes_are_not_flagged(app, mixed):
    with app.app_context():
        db.session.execute(update(Response).values(client_hash=None))
        db.session.commit()
        assert rs.summarise(db.session.get(Survey, mixed)).bursts == []
