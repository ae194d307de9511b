"""The Open311 GeoReport v2 back office: services cached and mapped to tags, a service request created from an
urgent report through the outbox (no resident contact unless the agent adds it), its id or token stored, its
status polled until « résolu » on the item; the specification's errors (400 with an error array, 403 bad key);
an answer lost after the request was made is looked up by its reference, never posted twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.messages.labels import SERVICE_REQUEST_LABELS
from core import repo
from core.errors import ConfigError, PermissionDenied, ValidationError
from core.models import Author, Mention, Platform
from core.repo import integrations as integrations_repo
from services.inbox import triage
from services.integrations import kinds as integration_kinds
from services.integrations import open311
from services.integrations.kind import deliver_now
from services.outbox.runner import Runner
from tests.fakes.georeport import FakeGeoReport
from tests.integrations.conftest import make_settings
from tests.integrations.test_email import POLICY, URGENT
from tests.publishing.fakes import FakeClock, SimulatedCrash


def _settings(tmp_path, url, key="key-311"):
    return make_settings(tmp_path, PARVIS_OPEN311_ENDPOINT=url, PARVIS_OPEN311_API_KEY=key,
                         PARVIS_OPEN311_JURISDICTION_ID="valmont.fr", PARVIS_OPEN311_POLL_S="60")


def _urgent(db, now, *, geo=True, pid="c42"):
    raw = {"id": pid, "coordinates": {"lat": 48.8566, "long": 2.3522}} if geo else {"id": pid}
    m = Mention(platform=Platform.FACEBOOK, platform_id=pid, text="Arbre tombé sur la route, danger !",
                author=Author(platform_id="u-5", handle="camille.durand", display_name="Camille Durand"),
                created_at=now - timedelta(minutes=10), permalink=f"https://facebook.com/{pid}",
                media=("https://cdn.example/arbre.jpg",), raw=raw)
    repo.upsert_mentions(db, [m], now=now - timedelta(minutes=9),
                         scores=[repo.Scores(risk_score=0.95, risk_flags=(URGENT,), priority=90.0)])
    return m.uid


@pytest.fixture
def back_office(httpserver):
    fake = FakeGeoReport()
    fake.url = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


def test_round_trip_from_an_urgent_report_to_resolved(db, agents, now, tmp_path, back_office):
    settings = _settings(tmp_path, back_office.url)
    services = open311.services(db, settings, now=now)
    assert [s["service_code"] for s in services] == ["VOI-01", "ARB-02"]
    open311.services(db, settings, now=now + timedelta(hours=1))
    assert back_office.service_gets == 1  # cached
    open311.set_mapping(db, agents["admin"], "arbre", "ARB-02", now=now)
    uid = _urgent(db, now)
    triage.add_tag(db, uid, "arbre", actor=agents["julie"], now=now)
    sr = open311.create_request(db, settings, agents["julie"], uid, now=now)
    assert sr.status == "sent" and sr.service_request_id == "1001" and sr.service_code == "ARB-02"
    assert SERVICE_REQUEST_LABELS[sr.status] == "transmis"
    [form] = back_office.posts
    assert form["service_code"] == "ARB-02" and form["lat"] == "48.8566" and form["long"] == "2.3522"
    assert form["media_url"] == "https://cdn.example/arbre.jpg" and form["jurisdiction_id"] == "valmont.fr"
    assert "Arbre tombé" in form["description"] and "PARVIS-facebook-c42-1" in form["description"]
    assert not {"email", "first_name", "last_name", "phone"} & set(form)  # no resident contact
    assert "camille" not in str(form).lower()
    # the crew starts, then resolves; the worker's poll shows it on the item
    back_office.set_status("1001", "open", "Équipe en route")
    assert open311.poll(db, settings, now=now + timedelta(minutes=1)) == 1
    [sr] = open311.requests_for(db, agents["julie"], uid)
    assert sr.status == "in_progress" and sr.status_notes == "Équipe en route"
    back_office.set_status("1001", "closed", "Arbre dégagé")
    assert open311.poll(db, settings, now=now + timedelta(minutes=1, seconds=30)) == 0  # at most every 60 s
    open311.poll(db, settings, now=now + timedelta(minutes=4))
    [sr] = open311.requests_for(db, agents["julie"], uid)
    assert SERVICE_REQUEST_LABELS[sr.status] == "résolu"
    assert open311.poll(db, settings, now=now + timedelta(minutes=10)) == 0  # resolved: no longer polled
    assert integrations_repo.recent(db, "open311")[0].state == "done"


def test_a_token_answer_is_resolved_when_polling(db, agents, now, tmp_path, httpserver):
    fake = FakeGeoReport(tokens=True)
    settings = _settings(tmp_path, fake.install(httpserver))
    uid = _urgent(db, now)
    sr = open311.create_request(db, settings, agents["julie"], uid, now=now, service_code="ARB-02")
    assert sr.status == "sent" and sr.token == "tok-1001" and sr.service_request_id == ""
    fake.set_status("1001", "closed")
    open311.poll(db, settings, now=now + timedelta(minutes=5))
    [sr] = integrations_repo.service_requests_for(db, uid)
    assert sr.service_request_id == "1001" and sr.status == "resolved"


def test_the_agent_may_add_a_contact_and_an_address(db, agents, now, tmp_path, back_office):
    settings = _settings(tmp_path, back_office.url)
    uid = _urgent(db, now, geo=False)
    with pytest.raises(ValidationError) as err:
        open311.create_request(db, settings, agents["julie"], uid, now=now, service_code="VOI-01")
    assert err.value.reason == "open311_location_needed"
    open311.create_request(db, settings, agents["julie"], uid, now=now, service_code="VOI-01",
                           address="12 rue Haute, Valmont",
                           contact=open311.Contact(email="camille@example.fr", first_name="Camille"))
    form = back_office.posts[-1]
    assert form["address_string"] == "12 rue Haute, Valmont" and form["email"] == "camille@example.fr"
    assert "lat" not in form


def test_spec_errors_400_with_an_error_array_and_403_bad_key(db, agents, now, tmp_path, back_office):
    uid = _urgent(db, now)
    settings = _settings(tmp_path, back_office.url)
    sr = open311.create_request(db, settings, agents["julie"], uid, now=now, service_code="NOPE")
    assert sr.status == "failed"
    row = integrations_repo.recent(db, "open311")[0]
    assert row.state == "failed" and "service_code not found" in row.error
    bad = _settings(tmp_path, back_office.url, key="wrong")
    sr = open311.create_request(db, bad, agents["julie"], uid, now=now, service_code="ARB-02")
    assert sr.status == "failed"
    row = integrations_repo.recent(db, "open311")[0]
    assert row.error_code == "auth_failed" and "api_key is invalid" in row.error
    assert len(back_office.requests) == 0


def test_a_lost_answer_is_looked_up_by_its_reference_not_posted_twice(db, agents, now, tmp_path, back_office):
    settings = _settings(tmp_path, back_office.url)
    uid = _urgent(db, now)
    fired = []

    def crash(point):
        if point == "called" and not fired:
            fired.append(point)
            raise SimulatedCrash(point)

    kind = open311.Open311Kind(settings)
    with pytest.raises(SimulatedCrash):  # the back office made the request; the process died before recording it
        _create_with_hook(db, settings, agents["julie"], uid, now, kind, crash)
    assert len(back_office.requests) == 1
    clock = FakeClock(now + timedelta(minutes=5))
    runner = Runner(db, integration_kinds(settings), clock=clock, policy=POLICY, worker_id="restarted")
    runner.run_pass()
    assert len(back_office.posts) == 1  # looked up, found by its reference: never posted again
    [sr] = integrations_repo.service_requests_for(db, uid)
    assert sr.status == "sent" and sr.service_request_id == "1001"
    assert integrations_repo.recent(db, "open311")[0].via == "lookup"


def _create_with_hook(db, settings, agent, uid, now, kind, hook):
    """create_request, with the crash hook on its immediate delivery."""
    import services.integrations.open311 as mod

    original = mod.deliver_now
    mod.deliver_now = lambda db_, kind_, key, **kw: original(db_, kind_, key, **{**kw, "hook": hook})
    try:
        return open311.create_request(db, settings, agent, uid, now=now, service_code="ARB-02", kind=kind)
    finally:
        mod.deliver_now = original


def test_rights_and_configuration(db, agents, now, tmp_path):
    uid = _urgent(db, now)
    with pytest.raises(ConfigError):
        open311.create_request(db, make_settings(tmp_path), agents["julie"], uid, now=now, service_code="X")
    with pytest.raises(PermissionDenied):
        open311.set_mapping(db, agents["julie"], "arbre", "ARB-02", now=now)
    assert deliver_now is not None
