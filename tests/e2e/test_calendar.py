"""Issue 12, holidays and special days: the office's calendar as data.

Closures (PUT/DELETE /api/v1/ops/closures) close a date for one office or
all, every service; openings (PUT/DELETE /api/v1/ops/openings) open a
weekday the office is normally closed (Sunday in the demo configuration).
PostgreSQL holds them (calendar_closure, calendar_opening), Redis each
office's day hash (fields `closed` and `opened`), which book.lua and
availability read. Appointments on a date closed later become
cancelled_by_office at once, their slots released; the night job never makes
them no-shows nor counts them for a bar. dukcapil-scheduler import-holidays
imports the government's yearly list."""

import datetime
import json
import os
import subprocess
import threading
import time

import pytest

from helpers import http_for, wib_today
from appointments_helpers import (AVAIL, BOOK, assert_redis_agrees_with_rows,
                                  booking, closed_date_in_window, day_key,
                                  open_dates, redis_day)
from applications_helpers import insert_appointment, q
from scheduler_fixtures import SCHEDULER

CLOSURES = "/api/v1/ops/closures"
OPENINGS = "/api/v1/ops/openings"
OFFICES = ("mpp", "sukajadi", "binawidya", "tenayan_raya", "rumbai")
JSON = {"Content-Type": "application/json"}


# --- helpers ----------------------------------------------------------------

def day_of(http, date, office="mpp"):
    """The availability of one date: {date, open, reason?, services}."""
    r = http.get("%s?office=%s&from=%s&to=%s" % (AVAIL, office, date, date))
    assert r.status == 200, r
    return r.json()["days"][0]


def close(http, date, reason, office=None, status=200):
    body = {"date": str(date), "reason": reason}
    if office:
        body["office"] = office
    r = http.ops.put(CLOSURES, body)
    assert r.status == status, (body, r)
    return r


def reopen(http, date, office=None, status=200):
    body = {"date": str(date)}
    if office:
        body["office"] = office
    r = http.ops.request("DELETE", CLOSURES, body)
    assert r.status == status, (body, r)
    return r


def open_day(http, date, office=None, method="PUT", status=200):
    body = {"date": str(date)}
    if office:
        body["office"] = office
    r = http.ops.request(method, OPENINGS, body)
    assert r.status == status, (body, r)
    return r


def book(http, i, date, office="mpp", service="ktp"):
    return http.post(BOOK, booking(i, date, office=office, service=service))


def status_of(stack, code):
    out = stack.psql("SELECT status || '|' || coalesce(cancel_reason, '')"
                     " FROM appointment WHERE code = %s" % q(code)).strip()
    return tuple(out.split("|", 1))


def calendar_rows(stack):
    return stack.psql(
        "SELECT 'closure', date, coalesce(office, '*'), reason, source,"
        "       set_by FROM calendar_closure"
        " UNION ALL SELECT 'opening', date, coalesce(office, '*'), '', '',"
        "       set_by FROM calendar_opening ORDER BY 1, 2, 3").splitlines()


def scheduler(stack, *args, env=None):
    """Runs dukcapil-scheduler against the stack's PostgreSQL and Redis."""
    cmd = [SCHEDULER, "-c", stack.write_scheduler_yaml()] + list(args)
    e = dict(os.environ)
    e.pop("DK_CLOCK_OFFSET", None)
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=e)


def a_weekday(k=1):
    """The k-th open weekday of the window, not a Saturday (k from 0)."""
    return [d for d in open_dates() if d.weekday() != 5][k]


# --- closures -----------------------------------------------------------------

def test_a_closure_of_one_office_closes_every_service_there_and_no_other(
        stack, http, clean_log):
    date = a_weekday()
    before = day_of(http, date)
    assert before["open"] is True and "reason" not in before, before

    r = close(http, date, "Banjir di sekitar MPP", office="mpp")
    assert r.json() == {"date": str(date), "office": "mpp",
                        "reason": "Banjir di sekitar MPP", "cancelled": 0,
                        "closed": True}, r

    day = day_of(http, date)
    assert (day["open"], day["reason"]) == (False, "Banjir di sekitar MPP")
    assert all((s["quota"], s["remaining"], s["open"]) == (0, 0, False)
               for s in day["services"]), day
    for i, service in enumerate(("ktp", "kk", "ambil")):
        r = book(http, i, date, service=service)
        assert (r.status, r.error, r.field) == (422, "invalid_date",
                                                "date"), r
    # another office is open that date, and the mpp the day after
    assert day_of(http, date, "sukajadi")["open"] is True
    assert book(http, 10, date, office="sukajadi").status == 201
    assert book(http, 11, open_dates()[-1]).status == 201

    assert calendar_rows(stack) == [
        "closure|%s|mpp|Banjir di sekitar MPP|operator|%s"
        % (date, stack.ops_user)]
    assert redis_day(stack, "mpp", date)[0]["closed"] == \
        "Banjir di sekitar MPP"


def test_a_closure_of_every_office_and_delete_reopens_it(stack, http,
                                                         clean_log):
    date = a_weekday(2)
    reason = 'Libur Nasional: Hari "Uji" \\ Natal'   # JSON must escape it
    r = close(http, date, reason)
    assert r.json() == {"date": str(date), "reason": reason, "cancelled": 0,
                        "closed": True}, r
    for i, office in enumerate(OFFICES):
        day = day_of(http, date, office)
        assert (day["open"], day["reason"]) == (False, reason), (office, day)
        assert book(http, i, date, office=office).error == "invalid_date"

    # one office closed on its own too: reopening every office leaves it
    close(http, date, "Renovasi loket", office="rumbai")
    r = reopen(http, date)
    assert r.json() == {"date": str(date), "closed": True}, r
    assert day_of(http, date, "rumbai")["reason"] == "Renovasi loket"
    for i, office in enumerate(OFFICES[:-1]):
        day = day_of(http, date, office)
        assert day["open"] is True and "reason" not in day, (office, day)
        assert book(http, 20 + i, date, office=office).status == 201
        assert "closed" not in redis_day(stack, office, date)[0]
    r = reopen(http, date, office="rumbai")
    assert r.json() == {"date": str(date), "office": "rumbai",
                        "closed": False}, r
    assert book(http, 30, date, office="rumbai").status == 201

    # nothing left to reopen
    r = reopen(http, date, status=404)
    assert r.error == "not_found", r
    assert calendar_rows(stack) == []


def test_a_date_closed_later_cancels_its_appointments_by_the_office(
        stack, http, clean_log):
    """Booked appointments become cancelled_by_office with the reason, their
    slots go back at once (Redis agrees with the rows), the other office's
    and other dates' stay; the citizen's lookup says why, and cannot cancel
    it again."""
    date, other = a_weekday(1), a_weekday(2)
    codes = {}
    for i, (office, day, service) in enumerate((
            ("mpp", date, "ktp"), ("mpp", date, "ktp"), ("mpp", date, "kk"),
            ("sukajadi", date, "ktp"), ("mpp", other, "ktp"))):
        r = book(http, i, day, office=office, service=service)
        assert r.status == 201, r
        codes[i] = (r.json()["code"], booking(i, day)["nik"])
    gone, _ = insert_appointment(stack, 50, date, status="cancelled")
    assert int(redis_day(stack, "mpp", date)[0]["n:ktp"]) == 2

    reason = "Cuti Bersama Hari Raya Natal"
    r = close(http, date, reason, office="mpp")
    assert r.json()["cancelled"] == 3, r

    for i in (0, 1, 2):
        assert status_of(stack, codes[i][0]) == ("cancelled_by_office",
                                                 reason)
    for i in (3, 4):
        assert status_of(stack, codes[i][0]) == ("booked", "")
    assert status_of(stack, gone) == ("cancelled", "")
    for service in ("ktp", "kk"):
        assert assert_redis_agrees_with_rows(stack, "mpp", date,
                                             service) == 0
    assert assert_redis_agrees_with_rows(stack, "sukajadi", date) == 1
    assert assert_redis_agrees_with_rows(stack, "mpp", other) == 1
    assert redis_day(stack, "mpp", date)[2] == {}        # no NIK active

    code, nik = codes[0]
    r = http.get(BOOK + "/" + code, headers={"X-NIK": nik})
    assert r.status == 200, r
    assert (r.json()["status"], r.json()["reason"]) == \
        ("cancelled_by_office", reason), r
    r = http.delete(BOOK + "/" + code, headers={"X-NIK": nik})
    assert (r.status, r.error) == (409, "appointment_closed"), r

    # closing again cancels nothing more; reopening frees the day for all
    assert close(http, date, reason, office="mpp").json()["cancelled"] == 0
    reopen(http, date, office="mpp")
    assert status_of(stack, code)[0] == "cancelled_by_office"
    assert day_of(http, date)["services"][0]["remaining"] == 150
    assert book(http, 0, date).status == 201            # the same citizen


def test_a_booking_redis_admits_on_a_date_postgresql_closed_is_refused(
        stack, http, clean_log):
    """The INSERT checks the calendar itself: a closure committed in
    PostgreSQL and not (yet) in Redis still refuses the row, 422
    invalid_date, and the admission is given back."""
    date = a_weekday()
    stack.psql("SELECT count(*) FROM calendar_close('%s', 'mpp', 'Uji',"
               " 'petugas', 'operator')" % date)
    assert "closed" not in redis_day(stack, "mpp", date)[0]

    r = book(http, 1, date)
    assert (r.status, r.error, r.field) == (422, "invalid_date", "date"), r
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 0
    assert stack.psql("SELECT count(*) FROM appointment").strip() == "0"


# The module's statement (sql.c) with the calendar's check for mpp and a
# deadline an hour away; it answers (inserted, in time, bookable).
INSERT_AS_THE_MODULE = (
    "WITH t AS (SELECT NOT EXISTS (SELECT 1 FROM calendar_closure c"
    "  WHERE c.date = %s AND (c.office = 'mpp' OR c.office IS NULL))"
    "  AS bookable,"
    "  clock_timestamp() < now() + interval '1 hour' AS in_time),"
    " booked AS (INSERT INTO appointment (code, nik, name, phone,"
    "  office, service, date, queue_number)"
    "  SELECT %s, %s, 'Warga', '+6281200000001', 'mpp', 'ktp', %s,"
    "   %s FROM t WHERE t.bookable AND t.in_time"
    "  ON CONFLICT (nik, date) WHERE status IN ('booked',"
    "   'checked_in') DO NOTHING RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM booked), t.in_time, t.bookable"
    " FROM t")


def test_the_calendar_lock_orders_closures_and_bookings(stack):
    """The calendar's lock in PostgreSQL (sql/010): a closure that comes
    while a booking's INSERT is in its transaction waits for it and cancels
    it; a booking after the closure inserts nothing. (Without the lock
    neither would see the other: a booked row on a closed date.)"""
    import psycopg2

    date = a_weekday()
    booker = psycopg2.connect(stack.pg_conninfo)
    closer = stack.connect()
    try:
        with booker.cursor() as c:
            c.execute(INSERT_AS_THE_MODULE, (date, "A-0000-0000-0001", "1471010101010001",
                               date, 1))
            assert c.fetchone() == (True, True, True)
        result = {}

        def closing():
            with closer.cursor() as c:
                c.execute("SELECT office, cancelled FROM calendar_close("
                          "%s, 'mpp', 'Uji', 'petugas', 'operator')",
                          (date,))
                result["rows"] = c.fetchall()

        t = threading.Thread(target=closing)
        t.start()
        time.sleep(0.5)
        assert t.is_alive(), "the closure did not wait for the booking"
        booker.commit()
        t.join(10)
        assert result["rows"] == [("mpp", "A-0000-0000-0001")]
        with booker.cursor() as c:
            c.execute(INSERT_AS_THE_MODULE, (date, "A-0000-0000-0002", "1471010101010002",
                               date, 2))
            assert c.fetchone() == (False, True, False)
        booker.commit()
    finally:
        booker.close()
        closer.close()
    assert stack.psql("SELECT code, status FROM appointment ORDER BY 1"
                      ).split() == ["A-0000-0000-0001|cancelled_by_office"]


def test_a_booking_during_a_closure_waits_and_sees_it(stack):
    """A booking whose INSERT comes while a closure of its date is in its
    transaction waits for it (the table lock of sql/010), and its snapshot,
    taken once its lock is granted, sees the closure: nothing is inserted.
    (Were the snapshot taken before the wait, the row would go in on a
    closed date.)"""
    import psycopg2

    date = a_weekday()
    closer = psycopg2.connect(stack.pg_conninfo)
    booker = stack.connect()
    try:
        with closer.cursor() as c:
            c.execute("SELECT count(*) FROM calendar_close("
                      "%s, 'mpp', 'Uji', 'petugas', 'operator')", (date,))
        result = {}

        def booking():
            with booker.cursor() as c:
                c.execute(INSERT_AS_THE_MODULE,
                          (date, "A-0000-0000-0003", "1471010101010003",
                           date, 3))
                result["row"] = c.fetchone()

        t = threading.Thread(target=booking)
        t.start()
        time.sleep(0.5)
        assert t.is_alive(), "the booking did not wait for the closure"
        closer.commit()
        t.join(10)
        assert result["row"] == (False, True, False)
    finally:
        closer.close()
        booker.close()
    assert stack.psql("SELECT count(*) FROM appointment").strip() == "0"


# --- openings -----------------------------------------------------------------

def test_opening_a_sunday_makes_it_bookable_and_shown_open(stack, http,
                                                           clean_log):
    sunday = closed_date_in_window()
    day = day_of(http, sunday)
    assert day["open"] is False and "reason" not in day, day
    assert day["services"][0]["quota"] == 0
    assert book(http, 1, sunday).error == "invalid_date"

    r = open_day(http, sunday, office="mpp")
    assert r.json() == {"date": str(sunday), "office": "mpp",
                        "opened": True}, r
    day = day_of(http, sunday)
    assert day["open"] is True, day
    ktp = day["services"][0]
    assert (ktp["service"], ktp["quota"], ktp["open"]) == ("ktp", 150, True)
    r = book(http, 1, sunday)
    assert r.status == 201, r
    # the other offices stay closed that Sunday
    assert day_of(http, sunday, "sukajadi")["open"] is False
    assert book(http, 2, sunday, office="sukajadi").error == "invalid_date"

    # a closure wins over the opening
    close(http, sunday, "Pemadaman listrik", office="mpp")
    assert day_of(http, sunday)["reason"] == "Pemadaman listrik"
    assert book(http, 3, sunday).error == "invalid_date"
    reopen(http, sunday, office="mpp")
    assert book(http, 3, sunday).status == 201

    # taken back only once nobody holds an appointment that day
    r = open_day(http, sunday, office="mpp", method="DELETE", status=409)
    assert (r.error, r.json()["appointments"]) == ("appointments_on_date",
                                                   1), r
    # an opening of every office keeps mpp open: its own may go
    open_day(http, sunday)
    r = open_day(http, sunday, office="mpp", method="DELETE")
    assert r.json() == {"date": str(sunday), "office": "mpp",
                        "opened": True}, r
    assert book(http, 4, sunday, office="sukajadi").status == 201
    stack.psql("UPDATE appointment SET status = 'cancelled',"
               " cancelled_at = now() WHERE status = 'booked'")
    r = open_day(http, sunday, method="DELETE")
    assert r.json() == {"date": str(sunday), "opened": False}, r
    assert book(http, 5, sunday).error == "invalid_date"
    assert calendar_rows(stack) == []


def test_quota_full_offers_the_next_day_the_calendar_leaves_open(stack,
                                                                  http):
    """next_available skips the dates the office closed, and offers a
    Sunday it opened."""
    sunday = closed_date_in_window()
    if (sunday - wib_today()).days < 2:
        sunday += datetime.timedelta(days=7)
    first = open_dates()[0]
    r = http.ops.put("/api/v1/ops/quota", {"office": "mpp", "service": "ktp",
                                           "date": str(first), "quota": 1})
    assert r.status == 200, r
    assert book(http, 1, first).status == 201
    for d in open_dates():
        if first < d < sunday:
            close(http, d, "Renovasi", office="mpp")
    after = [d for d in open_dates() if d > sunday][0]

    r = book(http, 2, first)
    assert (r.status, r.error, r.json()["next_available"]) == \
        (409, "quota_full", str(after)), r
    open_day(http, sunday, office="mpp")
    time.sleep(1.1)                     # a worker remembers it a second
    r = book(http, 3, first)
    assert r.json()["next_available"] == str(sunday), r


def test_an_opening_of_a_day_that_is_open_anyway_is_refused(stack, http):
    r = open_day(http, a_weekday(), status=422)
    assert (r.error, r.field) == ("not_closed_weekday", "date"), r
    r = open_day(http, closed_date_in_window(), method="DELETE", status=404)
    assert r.error == "not_found", r


# --- the operators' rules ----------------------------------------------------

@pytest.mark.parametrize("path, body", [
    (CLOSURES, {"date": "2099-01-01", "reason": "Uji"}),
    (OPENINGS, {"date": "2099-01-04"}),
])
def test_the_calendar_is_the_operators_behind_auth_and_same_origin(
        stack, http, path, body):
    plain = http_for(stack)
    for method in ("PUT", "DELETE"):
        r = plain.request(method, path, body)
        assert r.status == 401, (method, r)
        assert r.headers["www-authenticate"].startswith("Basic"), r
        r = http.ops.request(method, path, body,
                             headers={"Sec-Fetch-Site": "cross-site"})
        assert (r.status, r.error) == (403, "cross_site_request"), r
        r = http.ops.request(method, path, body,
                             headers={"Origin": "https://calo.example"})
        assert (r.status, r.error) == (403, "cross_site_request"), r
        r = http.ops.request(method, path, json.dumps(body))
        assert r.status == 415, r
    assert http.ops.get(path).status == 405
    assert http.ops.post(path, body).status == 405
    assert calendar_rows(stack) == []


@pytest.mark.parametrize("endpoint", ["ops_closures", "ops_openings"])
def test_a_calendar_endpoint_without_authentication_fails_nginx_t(
        make_stack, endpoint):
    """ops_closures and ops_openings are operators' endpoints: where no
    auth_basic applies, nginx -t refuses them, naming the endpoint. (A
    stack of its own, no server started: nginx -t writes its [emerg] in
    that stack's error.log.)"""
    st = make_stack(start=False)
    line = "location = /open-calendar { dukcapil_endpoint %s; }" % endpoint
    rc, out, _ = st.nginx_test(st.render_nginx_conf(
        extra_server="        " + line, redis_auth=False),
        name="open-calendar.conf")
    assert rc != 0 and "[emerg]" in out and endpoint in out, out
    guarded = line.replace("{ ", '{ auth_basic "Petugas"; '
                           "auth_basic_user_file %s; " % st.htpasswd)
    rc, out, _ = st.nginx_test(st.render_nginx_conf(
        extra_server="        " + guarded, redis_auth=False),
        name="guarded-calendar.conf")
    assert rc == 0, out


def test_the_calendar_checks_what_it_is_sent(stack, http):
    today, yesterday = wib_today(), wib_today() - datetime.timedelta(days=1)
    good = {"date": str(today), "office": "mpp", "reason": "Uji"}
    for body, error in ((dict(good, date="2026-02-30"), "invalid_date"),
                        (dict(good, date=str(yesterday)), "invalid_date"),
                        (dict(good, date=None), "invalid_date"),
                        (dict(good, office="nowhere"), "unknown_office"),
                        (dict(good, office=""), "unknown_office"),
                        (dict(good, reason=""), "invalid_reason"),
                        (dict(good, reason="   "), "invalid_reason"),
                        (dict(good, reason="a\nb"), "invalid_reason"),
                        (dict(good, reason="x" * 201), "invalid_reason"),
                        ({"date": str(today)}, "invalid_reason")):
        r = http.ops.put(CLOSURES, body)
        assert (r.status, r.error) == (422, error), (body, r)
    r = http.ops.put(CLOSURES, b"[]", headers=JSON)
    assert (r.status, r.error) == (400, "invalid_json"), r
    assert calendar_rows(stack) == []

    # today may be closed (the reason trimmed); a null office is every one
    r = http.ops.put(CLOSURES, dict(good, office=None,
                                    reason="  Banjir  " + "x" * 190))
    assert r.status == 200 and r.json()["reason"] == "Banjir  " + "x" * 190


def test_an_idempotency_key_replays_its_answer_for_its_method_only(stack,
                                                                   http):
    date = a_weekday()
    key = {"Idempotency-Key": "calendar-close-0001"}
    body = {"date": str(date), "reason": "Uji"}
    first = http.ops.put(CLOSURES, body, headers=key)
    assert first.status == 200, first
    again = http.ops.put(CLOSURES, body, headers=key)
    assert (again.status, again.json()) == (200, first.json())
    # the same body deleting is another request
    r = http.ops.request("DELETE", CLOSURES, body, headers=key)
    assert (r.status, r.error) == (422, "idempotency_mismatch"), r
    assert day_of(http, date)["open"] is False


# --- the night, a lost Redis, the yearly list --------------------------------

def test_the_night_never_makes_a_closed_days_appointment_a_no_show(
        stack, http):
    """Two missed appointments within 30 days bar a NIK; one of them on a
    date its office closed (cancelled at once, or booked while the closure
    was on its way) is never a no-show, and bars no one."""
    date = a_weekday(0)
    nik = booking(1, date)["nik"]
    # an earlier no-show of the same NIK
    stack.psql("INSERT INTO appointment (code, nik, name, phone, office,"
               " service, date, queue_number, status) VALUES"
               " ('A-0000-0000-00Z1', %s, 'W', '+6281200000001', 'mpp',"
               " 'ktp', %s, 1, 'no_show')"
               % (q(nik), q(str(wib_today() - datetime.timedelta(days=3)))))
    code = book(http, 1, date).json()["code"]
    close(http, date, "Libur Nasional: Uji", office="mpp")
    # and one written behind the closure's back, as a race would leave it
    other, other_nik = insert_appointment(stack, 2, date)

    # the night after the date
    offset = ((date - wib_today()).days + 1) * 86400
    r = scheduler(stack, "once", "reconcile",
                  env={"DK_CLOCK_OFFSET": str(offset)})
    assert r.returncode == 0, r.stderr

    assert status_of(stack, code) == ("cancelled_by_office",
                                      "Libur Nasional: Uji")
    assert status_of(stack, other) == ("cancelled_by_office",
                                       "Libur Nasional: Uji")
    red = stack.redis(decode_responses=True)
    try:
        assert red.get("dk:bar:" + nik) is None
        assert red.get("dk:bar:" + other_nik) is None
    finally:
        red.close()
    counts = json.loads(stack.psql(
        "SELECT counts FROM scheduler_run ORDER BY id DESC LIMIT 1"))
    assert (counts["cancelled_by_office"], counts["no_shows_marked"],
            counts["bars"]) == (1, 0, 0), counts


def test_a_lost_redis_is_rebuilt_with_its_closures_and_openings(stack, http):
    date, sunday = a_weekday(), closed_date_in_window()
    far = wib_today() + datetime.timedelta(days=60)
    close(http, date, "Libur Nasional: Uji")
    close(http, far, "Libur Nasional: Jauh")
    open_day(http, sunday, office="mpp")
    code = book(http, 1, sunday).json()["code"]

    red = stack.redis(decode_responses=True)
    try:
        red.flushall()
        assert book(http, 2, sunday).error == "state_rebuilding"
        r = scheduler(stack, "once", "reconcile")
        assert r.returncode == 0, r.stderr
        assert red.exists("dk:epoch")
        assert red.hget(day_key("rumbai", far), "closed") == \
            "Libur Nasional: Jauh"
    finally:
        red.close()

    for office in OFFICES:
        assert day_of(http, date, office)["reason"] == "Libur Nasional: Uji"
    assert book(http, 3, date).error == "invalid_date"
    assert day_of(http, sunday)["open"] is True
    assert day_of(http, sunday, "sukajadi")["open"] is False
    assert book(http, 4, sunday).status == 201
    assert assert_redis_agrees_with_rows(stack, "mpp", sunday) == 2
    assert status_of(stack, code)[0] == "booked"


HOLIDAYS = """\
date,name
# contoh: periksa dengan SKB
%(a)s,Hari Uji Nasional
%(b)s,"Cuti Bersama Hari Uji, hari kedua"

%(far)s,Hari Raya Jauh
"""


def test_import_holidays_closes_every_office_once_and_a_bad_file_nothing(
        stack, http, tmp_path):
    a, b = a_weekday(1), a_weekday(2)
    far = wib_today() + datetime.timedelta(days=200)
    booked = book(http, 1, a, office="binawidya").json()["code"]
    path = tmp_path / "libur.csv"
    path.write_text(HOLIDAYS % {"a": a, "b": b, "far": far})

    r = scheduler(stack, "import-holidays", str(path))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "3 holidays: 3 new" in r.stdout, r.stdout
    rows = calendar_rows(stack)
    assert rows == [
        "closure|%s|*|Libur Nasional: Hari Uji Nasional|import|scheduler" % a,
        "closure|%s|*|Cuti Bersama Hari Uji, hari kedua|import|scheduler" % b,
        "closure|%s|*|Libur Nasional: Hari Raya Jauh|import|scheduler" % far]
    assert day_of(http, a, "rumbai")["reason"] == \
        "Libur Nasional: Hari Uji Nasional"
    assert day_of(http, b)["reason"] == "Cuti Bersama Hari Uji, hari kedua"
    assert book(http, 2, b, office="sukajadi").error == "invalid_date"
    assert status_of(stack, booked) == ("cancelled_by_office",
                                        "Libur Nasional: Hari Uji Nasional")
    assert assert_redis_agrees_with_rows(stack, "binawidya", a) == 0
    assert redis_day(stack, "mpp", far)[0]["closed"] == \
        "Libur Nasional: Hari Raya Jauh"

    # the same file again changes nothing
    runs = stack.psql("SELECT count(*) FROM scheduler_run").strip()
    r = scheduler(stack, "import-holidays", str(path))
    assert r.returncode == 0, r.stderr
    assert "3 holidays: 0 new, 0 changed, 3 unchanged; 0 appointments" \
        in r.stdout, r.stdout
    assert calendar_rows(stack) == rows
    assert stack.psql("SELECT job, outcome FROM scheduler_run ORDER BY id"
                      ).split()[-2:] == ["import-holidays|ok"] * 2
    assert int(runs) == 1

    # a file with bad lines: each named, nothing applied
    bad = tmp_path / "rusak.csv"
    bad.write_text("date,name\n%s,Hari Baru\n25/12/2027,Natal\n"
                   "%s,Lagi\n%s,\n" % (open_dates()[-1], open_dates()[-1],
                                        open_dates()[-2]))
    r = scheduler(stack, "import-holidays", str(bad))
    assert r.returncode == 65, (r.stdout, r.stderr)
    assert r.stdout.splitlines() == [
        "%s: line 3: date is not a date YYYY-MM-DD" % bad,
        "%s: line 4: date %s is on line 2 already" % (bad, open_dates()[-1]),
        "%s: line 5: name must be text of 1 to 150 characters on one line"
        % bad], r.stdout
    assert calendar_rows(stack) == rows
    assert day_of(http, open_dates()[-1])["open"] is True

    no_header = tmp_path / "tanpa-kepala.csv"
    no_header.write_text("%s,Hari Baru\n" % open_dates()[-1])
    r = scheduler(stack, "import-holidays", str(no_header))
    assert r.returncode == 65 and "line 1: the header must be date,name" \
        in r.stdout, r.stdout
    assert calendar_rows(stack) == rows


def test_the_sample_list_of_2027_imports_cleanly(stack, tmp_path):
    """conf/holidays-2027.example.csv (an example: the office checks it
    against the SKB) has good lines only; --dry-run writes nothing."""
    sample = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "conf", "holidays-2027.example.csv")
    r = scheduler(stack, "import-holidays", sample, "--dry-run")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "nothing written" in r.stdout, r.stdout
    assert calendar_rows(stack) == []
    r = scheduler(stack, "import-holidays", sample)
    assert r.returncode == 0, (r.stdout, r.stderr)
    rows = calendar_rows(stack)
    assert len(rows) >= 15 and any("|2027-12-25|*|Libur Nasional: " in x
                                   for x in rows), rows


# --- memory ---------------------------------------------------------------

def test_the_calendar_under_asan_leaves_no_finding(make_stack, tmp_path):
    """The calendar's steps (their argument vectors of keys and codes, the
    escaped reasons of availability) under the ASan/UBSan build of the
    module: no finding when nginx exits."""
    from test_foundation import ASAN_MODULES, asan_runtime, sanitizer_findings

    module = next((m for m in ASAN_MODULES if os.path.exists(m)), None)
    if module is None:
        msg = "no ASan module: make SANITIZE=address module (%s)" % \
            ASAN_MODULES[1]
        if os.environ.get("DUKCAPIL_REQUIRE_ASAN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    st = make_stack(nginx=False, module=module)
    asan_dir = os.path.join(st.root, "asan")
    os.makedirs(asan_dir)
    st.start_nginx(env={
        "LD_PRELOAD": "%s %s" % (asan_runtime(), module),
        "ASAN_OPTIONS": "detect_leaks=1:exitcode=0:fast_unwind_on_malloc=0:"
                        "malloc_context_size=40:log_path=%s/asan" % asan_dir,
        "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s/ubsan" % asan_dir,
    })
    st.set_epoch()
    http = http_for(st)
    date, sunday = a_weekday(), closed_date_in_window()
    for i in range(6):
        assert book(http, i, date, office=OFFICES[i % 3]).status == 201
    r = close(http, date, 'Libur "Uji" \\ \u00e9\u00e9 \U0001f384')
    assert r.json()["cancelled"] == 6, r
    day = day_of(http, date)
    assert day["reason"] == 'Libur "Uji" \\ \u00e9\u00e9 \U0001f384', day
    reopen(http, date, status=200)
    open_day(http, sunday, office="mpp")
    assert book(http, 10, sunday).status == 201
    open_day(http, sunday, office="mpp", method="DELETE", status=409)
    r = http.ops.put(CLOSURES, {"date": str(date), "reason": "x" * 300})
    assert r.status == 422, r
    st.stop_nginx()
    findings = sanitizer_findings(asan_dir)
    assert not findings, "%d sanitizer findings:\n%s" % (
        len(findings), "\n".join(findings[:5])[:8000])
