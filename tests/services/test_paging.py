"""Page arithmetic of every paged staff list (participants, outbox, free text, audit log)."""
from survey_app.services.paging import window


def test_pages_round_up_and_the_offset_skips_earlier_pages():
    assert window(total=101, page=3, per_page=50) == (3, 3, 100)


def test_a_page_past_the_end_shows_the_last_and_a_page_before_the_first_shows_the_first():
    assert window(total=51, page=99, per_page=50) == (2, 2, 50)
    assert window(total=51, page=0, per_page=50) == (1, 2, 0)


def test_an_empty_list_still_has_one_page():
    assert window(total=0, page=5, per_page=50) == (1, 1, 0)
