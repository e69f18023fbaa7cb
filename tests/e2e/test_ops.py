"""Issue 4, the operator API end to end: who may use it (auth_basic and
allow/deny of the demo nginx.conf), per-date quota overrides and check-in.

Denied address: the demo server listens on 127.0.0.1 only and its ops
location says `allow 127.0.0.1; deny all;`. Every 127.x.y.z address is a
local address of the loopback interface on Linux, so the test client binds
its socket to 127.0.0.2 as the *source* address and connects to
127.0.0.1:<port>: nginx then sees $remote_addr = 127.0.0.2 and must deny it.
This exercises the demo configuration unchanged (no second server block or
edited copy of the ops location that could drift from the real one)."""

import datetime

import pytest

from conftest import assert_no_alerts
from helpers import http_for, wib_today
from appointments_helpers import (BOOK, availability, booking,
                                  first_open_date, open_dates, redis_day, rows,
                                  second_nginx)
from applications_helpers import (OPS_CHECK_IN, OPS_QUOTA, OPS_STATUS,
                                  app_row, appointment_row,
                                  history_rows, insert_appointment,
                                  submit)



def set_quota(http, date, quota, office="mpp", service="ktp"):
    body = {"office": office, "service": service, "date": str(date),
            "quota": quota}
    r = http.ops.put(OPS_QUOTA, body)
    assert r.status == 200, (body, r)
    return r


def quota_rows(stack):
    out = stack.psql("SELECT office, service, date, quota, set_by "
                     "FROM quota_override ORDER BY 1, 2, 3").split()
    return [tuple(line.split("|")) for line in out]


# --- who may use the operator API ----------------------------------------------

def ops_requests(stack, http, date):
    """One request of each operator endpoint: (name, method, path, body)."""
    app_code, _ = submit(http, 1, "pickup")
    r = http.post(BOOK, booking(2, date))
    assert r.status == 201, r
    return app_code, r.json()["code"], [
        ("status", "POST", OPS_STATUS % app_code, {"status": "verified"}),
        ("check-in", "POST", OPS_CHECK_IN % r.json()["code"], {}),
        ("quota", "PUT", OPS_QUOTA, {"office": "mpp", "service": "ktp",
                                     "date": str(date), "quota": 1}),
    ]


def assert_nothing_done(stack, app_code, appt_code):
    assert app_row(stack, app_code)["status"] == "submitted"
    assert len(history_rows(stack, app_code)) == 1
    assert appointment_row(stack, appt_code)["status"] == "booked"
    assert quota_rows(stack) == []


def test_ops_endpoints_without_or_with_wrong_credentials_are_401(
        stack, http, clean_log):
    """No Authorization, a wrong password, an unknown user, a malformed
    header: 401 with a Basic challenge, and nothing changes."""
    date = first_open_date()
    app_code, appt_code, reqs = ops_requests(stack, http, date)
    plain = http_for(stack, source="127.0.0.1")
    variants = [
        ("none", plain, None),
        ("wrong password", plain.with_auth(stack.ops_user, "not-the-password"),
         None),
        ("unknown user", plain.with_auth("penyusup", stack.ops_password),
         None),
        ("empty", plain.with_auth("", ""), None),
        ("not basic", plain, {"Authorization": "Bearer abc"}),
    ]
    for name, method, path, body in reqs:
        for vname, client, headers in variants:
            r = client.request(method, path, body, headers=headers)
            assert r.status == 401, (name, vname, r.status, r.body)
            assert r.headers.get("www-authenticate", "").startswith("Basic"), \
                (name, vname, r.headers)
    assert_nothing_done(stack, app_code, appt_code)


def test_ops_endpoints_from_a_denied_address_are_403_even_with_credentials(
        stack, http, clean_log):
    """From 127.0.0.2 (not allowed by the demo ops location): 403 with the
    right credentials too; the same request from 127.0.0.1 is accepted,
    so the 403 is the address and nothing else."""
    date = first_open_date()
    app_code, appt_code, reqs = ops_requests(stack, http, date)
    denied = http_for(stack, source="127.0.0.2")
    for name, method, path, body in reqs:
        for client in (denied.ops, denied):
            r = client.request(method, path, body)
            assert r.status == 403, (name, client.auth is not None, r.status,
                                     r.body)
    assert_nothing_done(stack, app_code, appt_code)
    # the control: the same status change from 127.0.0.1 goes through
    name, method, path, body = reqs[0]
    r = http_for(stack, source="127.0.0.1").ops.request(method, path, body)
    assert r.status == 200, r.body
    # and the public API stays open to 127.0.0.2
    r = denied.get("/api/v1/services")
    assert r.status == 200, r.body


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://calo.example"},
    {"Origin": "null"},
    {"Origin": "https://127.0.0.1"},            # another scheme and port
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example"},
], ids=["cross-site", "same-site", "foreign-origin", "null-origin",
        "other-port", "origin-lies"])
def test_ops_steps_a_page_of_another_site_makes_a_browser_send_are_403(
        stack, http, clean_log, headers):
    """With the operator's credentials cached by the browser, a page of
    another site that makes it send an operator's step (Sec-Fetch-Site not
    same-origin, or a foreign Origin) is answered 403 cross_site_request,
    and nothing changes; the same step from the service's own page (its own
    Origin, same-origin) or from no browser at all goes through."""
    date = first_open_date()
    app_code, appt_code, reqs = ops_requests(stack, http, date)
    for name, method, path, body in reqs:
        r = http.ops.request(method, path, body, headers=headers)
        assert (r.status, r.error) == (403, "cross_site_request"), (name, r)
    assert_nothing_done(stack, app_code, appt_code)

    own = {"Origin": "http://127.0.0.1:%d" % stack.http_port,
           "Sec-Fetch-Site": "same-origin"}
    for name, method, path, body in reqs:
        r = http.ops.request(method, path, body, headers=own)
        # the step's own answer (the appointment is for tomorrow)
        assert r.status == 200 or (r.status, r.error) == \
            (409, "not_today"), (name, r)


def test_ops_steps_need_a_json_body(stack, http, clean_log):
    """A check-in (like every operator's step) needs a JSON body: a form
    post, which a page of another site can make a browser send without
    asking, is 415, and a body that is not a JSON object is 400."""
    date = first_open_date()
    app_code, appt_code, reqs = ops_requests(stack, http, date)
    path = OPS_CHECK_IN % appt_code
    r = http.ops.request("POST", path, None)
    assert (r.status, r.error) == (415, "unsupported_media_type"), r
    r = http.ops.request("POST", path, b"code=x", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status, r.error) == (415, "unsupported_media_type"), r
    r = http.ops.request("POST", path, b"[]", headers={
        "Content-Type": "application/json"})
    assert (r.status, r.error) == (400, "invalid_json"), r
    assert_nothing_done(stack, app_code, appt_code)


# --- quota overrides --------------------------------------------------------------

def test_quota_override_visible_in_availability_at_once_and_enforced(
        stack, http, clean_log):
    """PUT quota 2 -> 200; stored (set_by = operator) and in Redis; the
    very next availability says quota 2; two bookings 201, the third 409
    quota_full; other services and dates keep their default."""
    date, other_date = open_dates()[:2]
    before = availability(http, date)
    assert before["quota"] == 150
    r = set_quota(http, date, 2)
    assert r.json() == {"office": "mpp", "service": "ktp", "date": str(date),
                        "quota": 2}, r
    assert quota_rows(stack) == [("mpp", "ktp", str(date), "2",
                                  stack.ops_user)]
    assert redis_day(stack, "mpp", date)[0].get("q:ktp") == "2"
    a = availability(http, date)
    assert (a["quota"], a["booked"], a["remaining"], a["open"]) == \
        (2, 0, 2, True), a
    assert availability(http, date, service="kk")["quota"] == 100
    assert availability(http, other_date)["quota"] == 150
    for i in range(2):
        r = http.post(BOOK, booking(10 + i, date))
        assert r.status == 201, r
    r = http.post(BOOK, booking(12, date))
    assert (r.status, r.error) == (409, "quota_full"), r
    a = availability(http, date)
    assert (a["quota"], a["booked"], a["remaining"], a["open"]) == \
        (2, 2, 0, False), a
    assert len(rows(stack, date)) == 2
    # raised again: the next citizen gets in, at once
    set_quota(http, date, 3)
    assert availability(http, date)["remaining"] == 1
    r = http.post(BOOK, booking(12, date))
    assert r.status == 201, r
    assert quota_rows(stack)[0][3] == "3"


def test_quota_zero_closes_the_day_for_that_service(stack, http, clean_log):
    """quota 0: availability shows it closed at once, booking answers 422
    invalid_date; another service that day still books."""
    date = first_open_date()
    set_quota(http, date, 0)
    a = availability(http, date)
    assert (a["quota"], a["remaining"], a["open"]) == (0, 0, False), a
    r = http.post(BOOK, booking(20, date))
    assert (r.status, r.error, r.field) == \
        (422, "invalid_date", "date"), r
    assert rows(stack, date) == []
    r = http.post(BOOK, booking(21, date, service="kk"))
    assert r.status == 201, r


def test_quota_lowered_below_booked_admits_no_one_and_cancels_nothing(
        stack, http, clean_log):
    """4 booked, quota lowered to 1: the 4 stay booked (PostgreSQL, Redis,
    the citizen's view), availability shows 0 remaining, the next booking
    is 409 quota_full; back to 5 admits exactly one more."""
    date = first_open_date()
    set_quota(http, date, 10)
    booked = []
    for i in range(4):
        r = http.post(BOOK, booking(30 + i, date))
        assert r.status == 201, r
        booked.append((r.json()["code"], booking(30 + i, date)["nik"]))
    set_quota(http, date, 1)
    a = availability(http, date)
    assert (a["quota"], a["booked"], a["remaining"], a["open"]) == \
        (1, 4, 0, False), a
    r = http.post(BOOK, booking(40, date))
    assert (r.status, r.error) == (409, "quota_full"), r
    assert [x[0] for x in rows(stack, date)] == [c for c, _ in booked]
    for code, nik in booked:
        g = http.get("%s/%s" % (BOOK, code), headers={"X-NIK": nik})
        assert (g.status, g.json()["status"]) == (200, "booked"), g
    day = redis_day(stack, "mpp", date)
    assert day[0]["n:ktp"] == "4" and len(day[1]) == 4, day
    set_quota(http, date, 5)
    assert http.post(BOOK, booking(41, date)).status == 201
    r = http.post(BOOK, booking(42, date))
    assert (r.status, r.error) == (409, "quota_full"), r
    assert len(rows(stack, date)) == 5


@pytest.mark.parametrize("change,field", [
    ({"quota": -1}, "quota"),
    ({"quota": "5"}, "quota"),
    ({"quota": 1.5}, "quota"),
    ({"date": "2026-02-30"}, "date"),
    ({"date": None}, "date"),
    ({"office": "bogor"}, "office"),
    ({"service": "sim"}, "service"),
])
def test_quota_override_bad_input_is_422_and_sets_nothing(
        stack, http, clean_log, change, field):
    body = {"office": "mpp", "service": "ktp",
            "date": str(first_open_date()), "quota": 5}
    for k, v in change.items():
        if v is None:
            del body[k]
        else:
            body[k] = v
    r = http.ops.put(OPS_QUOTA, body)
    assert r.status == 422 and r.field == field, r
    assert quota_rows(stack) == []
    assert "q:ktp" not in redis_day(stack, "mpp", first_open_date())[0]


# --- check-in ---------------------------------------------------------------------

def test_check_in_on_the_appointments_date_records_the_operator(
        stack, http, clean_log):
    """An appointment dated today (WIB), written straight into PostgreSQL
    (booking only takes tomorrow onwards): 200 checked_in, stored with
    checked_in_at and checked_in_by = $remote_user; the citizen reads
    checked_in; a second check-in changes nothing."""
    today = wib_today()
    code, nik = insert_appointment(stack, 1, today)
    r = http.ops.post(OPS_CHECK_IN % code, {})
    assert r.status == 200, r
    assert {k: r.json()[k] for k in ("code", "status", "date")} == \
        {"code": code, "status": "checked_in", "date": str(today)}, r
    assert r.json()["nik_masked"] == nik[:4] + "*" * 8 + nik[-4:], r
    row = appointment_row(stack, code)
    assert row["status"] == "checked_in"
    assert row["checked_in_by"] == stack.ops_user
    assert row["checked_in_at"] is not None
    g = http.get("%s/%s" % (BOOK, code), headers={"X-NIK": nik})
    assert (g.status, g.json()["status"]) == (200, "checked_in"), g
    again = http.ops.post(OPS_CHECK_IN % code, {})
    assert again.status in (200, 409), again
    assert appointment_row(stack, code)["checked_in_at"] == \
        row["checked_in_at"]


def test_check_in_on_another_date_is_409_not_today(stack, http, clean_log):
    """Booked for tomorrow (through the API) or dated yesterday: 409
    not_today naming the appointment's date; still booked."""
    tomorrow = first_open_date()
    r = http.post(BOOK, booking(2, tomorrow))
    assert r.status == 201, r
    future = r.json()["code"]
    past, _ = insert_appointment(stack, 3,
                                 wib_today() - datetime.timedelta(days=1))
    for code, date in ((future, tomorrow),
                       (past, wib_today() - datetime.timedelta(days=1))):
        r = http.ops.post(OPS_CHECK_IN % code, {})
        assert (r.status, r.error, r.json().get("date")) == \
            (409, "not_today", str(date)), r
        row = appointment_row(stack, code)
        assert row["status"] == "booked" and row["checked_in_at"] is None


def test_check_in_of_cancelled_or_no_show_is_409_closed(
        stack, http, clean_log):
    """Today's appointment cancelled, today's marked no_show, and one
    cancelled by the citizen through the API: 409 appointment_closed;
    unknown code: 404."""
    today = wib_today()
    cancelled, _ = insert_appointment(stack, 4, today, status="cancelled")
    no_show, _ = insert_appointment(stack, 5, today, status="no_show")
    date = first_open_date()
    r = http.post(BOOK, booking(6, date))
    assert r.status == 201, r
    by_citizen = r.json()["code"]
    d = http.delete("%s/%s" % (BOOK, by_citizen),
                    headers={"X-NIK": booking(6, date)["nik"]})
    assert d.status == 200, d
    for code, status in ((cancelled, "cancelled"), (no_show, "no_show"),
                         (by_citizen, "cancelled")):
        r = http.ops.post(OPS_CHECK_IN % code, {})
        assert (r.status, r.error) == (409, "appointment_closed"), \
            (status, r)
        row = appointment_row(stack, code)
        assert row["status"] == status and row["checked_in_at"] is None
    r = http.ops.post(OPS_CHECK_IN % "A-0000-0000-0000", {})
    assert (r.status, r.error) == (404, "not_found"), r


LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


@pytest.mark.parametrize("utc_now, wib_date, utc_date", [
    ("2026-12-01 16:59:59", "2026-12-01", None),          # 23:59:59 WIB
    ("2026-12-01 17:30:00", "2026-12-02", "2026-12-01"),  # 00:30 WIB
])
def test_check_in_day_is_the_wib_day_not_the_servers(
        stack, make_stack, utc_now, wib_date, utc_date):
    """A second nginx on the same Redis and PostgreSQL, its clock frozen
    by libfaketime at utc_now (TZ=UTC): an appointment dated the WIB date
    checks in; where the UTC date differs, one dated the UTC date is 409
    not_today."""
    st = second_nginx(make_stack, stack, env={
        "LD_PRELOAD": LIBFAKETIME, "FAKETIME": utc_now, "TZ": "UTC",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    mark = st.error_log_size()
    ops = http_for(st).ops
    code, _ = insert_appointment(stack, 50, wib_date)
    r = ops.post(OPS_CHECK_IN % code, {})
    assert (r.status, r.json().get("status")) == (200, "checked_in"), \
        (utc_now, r)
    if utc_date:
        other, _ = insert_appointment(stack, 51, utc_date)
        r = ops.post(OPS_CHECK_IN % other, {})
        assert (r.status, r.error, r.json().get("date")) == \
            (409, "not_today", utc_date), (utc_now, r)
        assert appointment_row(stack, other)["status"] == "booked"
    assert_no_alerts(st, mark)
