"""The audit log: readable by every staff member, filterable, and not editable by anyone."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from survey_app.admin.append_only import AuditLogIsAppendOnly
from survey_app.extensions import db
from survey_app.models import AuditEvent
from survey_app.services import audit


@pytest.fixture
def events(app, make_survey):
    survey_id = make_survey()
    with app.app_context():
        for n in range(60):
            audit.record("invitations.imported" if n % 2 else "invitations.sent", survey_id, actor=None, rows=n)
        audit.record("staff.created", None, actor=None, staff_user_id=999, role="staff")
        db.session.commit()
    return survey_id


def test_staff_read_the_log_newest_first_with_filters_and_pages(staff_client, events):
    page = staff_client.get("/staff/audit")
    assert page.status_code == 200
    html = page.data.decode()
    assert "61 events" in html and '<th scope="col">' in html
    assert html.index('data-action="staff.created"') < html.index('data-action="invitations.imported"')
    assert html.count('<tr data-action=') == 50 and "Next page" in html
    second = staff_client.get("/staff/audit?page=2").data.decode()
    assert second.count('<tr data-action=') == 11 and "Previous page" in second
    only = staff_client.get("/staff/audit?action=invitations.sent").data.decode()
    assert "30 events" in only and 'data-action="invitations.imported"' not in only
    by_survey = staff_client.get(f"/staff/audit?survey={events}").data.decode()
    assert "60 events" in by_survey and "legacy-projects" in by_survey


def test_no_route_under_the_audit_url_accepts_anything_but_get(app):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff/audit")]
    assert rules
    for rule in rules:
        assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}


def test_writes_to_the_audit_url_are_refused(staff_client, admin_client, events):
    for client in (staff_client, admin_client):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(client, method)("/staff/audit").status_code == 405
            assert getattr(client, method)("/staff/audit/1").status_code in {404, 405}


def test_no_endpoint_can_change_or_delete_audit_events(app, events):
    with app.app_context():
        event = db.session.execute(select(AuditEvent).limit(1)).scalar_one()
        event.action = "forged"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.execute(select(AuditEvent).limit(1)).scalar_one())
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        for statement in (update(AuditEvent).values(action="forged"), delete(AuditEvent)):
            with pytest.raises(AuditLogIsAppendOnly):
                db.session.execute(statement)
            db.session.rollback()
        assert db.session.execute(select(AuditEvent.action).where(AuditEvent.action == "forged")).first() is None
        assert len(db.session.execute(select(AuditEvent.id)).all()) == 61


def test_the_nav_links_admins_to_accounts_and_everyone_to_the_log(staff_client, admin_client):
    assert b'href="/staff/audit"' in staff_client.get("/staff/").data
    assert b'href="/staff/admin/users"' in admin_client.get("/staff/").data
