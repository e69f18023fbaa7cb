"""Issue 12, caps and settings that must agree, and what PostgreSQL logs:
a phone's cap is per date across every office; the daemon rebuilds every
day that holds a booking, whatever its own window says; a NIK never reaches
PostgreSQL's log."""

import subprocess

from conftest import wait_until
from helpers import health_ok, http_for
from appointments_helpers import (BOOK, assert_redis_agrees_with_rows,
                                  availability, booking, day_key,
                                  open_dates, redis_day)
from stack import SCHEDULER


def reconcile(stack, window_days=14):
    """One run of the daemon's reconcile against this stack."""
    path = stack.write_scheduler_yaml()
    with open(path) as f:
        text = f.read()
    text = text.replace("window_days: 14", "window_days: %d" % window_days)
    assert "window_days: %d" % window_days in text
    mine = path + ".window"
    with open(mine, "w") as f:
        f.write(text)
    res = subprocess.run([SCHEDULER, "-c", mine, "once", "reconcile"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return res


def test_a_phones_cap_is_per_date_across_every_office(stack, http):
    """With dukcapil_phone_cap 5, one phone holds 3 appointments at MPP and
    2 at Sukajadi on one date; a 6th at Binawidya is 409 phone_limit (it
    was counted per office: 5 at every office). The daemon's reconcile
    keeps the count per date."""
    date = open_dates()[0]
    phone = "081277770001"
    where = ["mpp"] * 3 + ["sukajadi"] * 2
    for i, office in enumerate(where):
        r = http.post(BOOK, booking(9000 + i, date, office=office,
                                    phone=phone))
        assert r.status == 201, (office, r)
    r = http.post(BOOK, booking(9010, date, office="binawidya", phone=phone))
    assert (r.status, r.error, r.field) == (409, "phone_limit", "phone"), r

    reconcile(stack)
    phones = stack.redis(decode_responses=True).hgetall(
        day_key("mpp", date, "phone"))
    assert phones == {"+6281277770001": "5"}, phones
    r = http.post(BOOK, booking(9011, date, office="rumbai", phone=phone))
    assert (r.status, r.error) == (409, "phone_limit"), r
    # another date is another count
    r = http.post(BOOK, booking(9012, open_dates()[1], office="rumbai",
                                phone=phone))
    assert r.status == 201, r
    for office in ("mpp", "sukajadi", "binawidya"):
        assert_redis_agrees_with_rows(stack, office, date)


def test_days_past_the_daemons_window_are_rebuilt_when_they_hold_bookings(
        stack, http):
    """nginx books 14 days ahead, the daemon's appointments.window_days is
    3. After a Redis loss the daemon rebuilds every day that holds a
    booking, not only its own window: the booking 10 days ahead keeps its
    admission, so that day cannot be over-booked."""
    far = [d for d in open_dates() if (d - open_dates(first=0)[0]).days >= 8]
    date = far[0]
    r = http.post(BOOK, booking(9100, date))
    assert r.status == 201, r
    code = r.json()["code"]

    admin = stack.redis()
    admin.flushall()
    admin.close()
    r = http.post(BOOK, booking(9101, date))
    assert (r.status, r.error) == (503, "state_rebuilding"), r

    reconcile(stack, window_days=3)
    wait_until(lambda: health_ok(stack), 10, what="health after rebuild")
    _, adm, _, _ = redis_day(stack, "mpp", date)
    assert list(adm) == [code], adm
    assert availability(http, date)["booked"] == 1
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 1


def test_a_nik_booked_at_another_office_never_reaches_postgres_log(stack,
                                                                   http):
    """The same NIK on the same date at a second office is 409
    already_booked, found without a unique violation: PostgreSQL's log
    (which would print the key's values in the violation's DETAIL) holds
    no trace of the NIK."""
    date = open_dates()[0]
    body = booking(9200, date)
    assert http.post(BOOK, body).status == 201
    with open(stack.pg_log) as f:
        f.seek(0, 2)
        mark = f.tell()
    again = dict(body, office="sukajadi")
    r = http.post(BOOK, again)
    assert (r.status, r.error) == (409, "already_booked"), r
    # the admission is given back in the background (booking.c): soon
    wait_until(lambda: not redis_day(stack, "sukajadi", date)[1], 5,
               what="the admission at sukajadi given back")
    assert assert_redis_agrees_with_rows(stack, "sukajadi", date) == 0
    with open(stack.pg_log) as f:
        f.seek(mark)
        logged = f.read()
    assert body["nik"] not in logged, logged
    assert "duplicate key" not in logged, logged
