"""Issue 13, the outbox's events: each event a citizen must hear writes its
notification row in the transaction of the event (sql/011, and the booking's
own statement in the module), with the params its template names and never
a NIK or a KK; an event that did not commit writes nothing."""

import json
import os

import psycopg2

from appointments_helpers import (BOOK, booking, e164, first_open_date,
                                  make_nik, make_phone, open_dates)
from applications_helpers import drive, make_kk, move, submit
from scheduler_fixtures import (  # noqa: F401
    code, sched, sched_stack, seed_completed)

CLOSURES = "/api/v1/ops/closures"


def a_weekday():
    """An open weekday of the window, not a Saturday."""
    return [d for d in open_dates() if d.weekday() != 5][1]


def notes(st, kind=None):
    """The outbox: [(kind, phone, params)] in order of writing."""
    rows = st.psql("SELECT kind || '|' || phone || '|' || params::text"
                   " FROM notification"
                   + (" WHERE kind = '%s'" % kind if kind else "")
                   + " ORDER BY id")
    out = []
    for line in rows.splitlines():
        if line.strip():
            k, phone, params = line.split("|", 2)
            out.append((k, phone, json.loads(params)))
    return out


def assert_no_nik_or_kk(st, secrets):
    dump = st.psql("SELECT params::text FROM notification")
    for s in secrets:
        assert s not in dump, "a NIK or KK in the outbox"


# --- appointments ------------------------------------------------------------

def test_a_booking_writes_its_notification_with_its_row(stack, http):
    date = first_open_date()
    r = http.post(BOOK, booking(1, date))
    assert r.status == 201, r
    got = r.json()
    assert notes(stack) == [(
        "appointment_booked", e164(make_phone(1)),
        {"code": got["code"], "date": str(date),
         "office_name": "Mal Pelayanan Publik Pekanbaru",
         "service_name": "KTP-el", "queue_number": got["queue_number"]})]
    assert stack.psql("SELECT a.id = n.appointment_id FROM appointment a,"
                      " notification n").strip() == "t"
    assert_no_nik_or_kk(stack, [make_nik(1)])


def test_a_refused_booking_writes_nothing(stack, http):
    date = first_open_date()
    assert http.post(BOOK, booking(1, date)).status == 201
    # the same NIK again that day, at another office: 409, no row
    again = http.post(BOOK, booking(1, date, office="sukajadi"))
    assert (again.status, again.error) == (409, "already_booked"), again
    assert len(notes(stack, "appointment_booked")) == 1


def test_a_cancellation_by_its_citizen_is_told(stack, http):
    date = first_open_date()
    r = http.post(BOOK, booking(2, date))
    assert r.status == 201, r
    c = r.json()["code"]
    d = http.delete("%s/%s" % (BOOK, c), headers={"X-NIK": make_nik(2)})
    assert d.status == 200, d
    assert notes(stack, "appointment_cancelled") == [(
        "appointment_cancelled", e164(make_phone(2)),
        {"code": c, "date": str(date),
         "office_name": "Mal Pelayanan Publik Pekanbaru"})]
    # cancelling again changes nothing and tells nothing
    http.delete("%s/%s" % (BOOK, c), headers={"X-NIK": make_nik(2)})
    assert len(notes(stack, "appointment_cancelled")) == 1


def test_a_closure_tells_each_booked_citizen_with_the_reason(stack, http):
    date = a_weekday()
    codes = []
    for i in (3, 4):
        r = http.post(BOOK, booking(i, date))
        assert r.status == 201, r
        codes.append(r.json()["code"])
    stack.psql("UPDATE appointment SET status = 'checked_in',"
               " checked_in_at = now(), checked_in_by = 'petugas'"
               " WHERE code = '%s'" % codes[1])
    r = http.ops.put(CLOSURES, {"date": str(date),
                                "reason": "Libur Nasional: Hari Uji"})
    assert r.status == 200, r
    # the checked-in citizen is at the office already: not told
    assert notes(stack, "appointment_cancelled_by_office") == [(
        "appointment_cancelled_by_office", e164(make_phone(3)),
        {"code": codes[0], "date": str(date),
         "office_name": "Mal Pelayanan Publik Pekanbaru",
         "reason": "Libur Nasional: Hari Uji"})]


def test_an_event_rolled_back_tells_nothing(stack, http):
    """The rows are written in the event's transaction: rolled back, gone
    with it (a cancellation and a closure, each in a transaction that does
    not commit)."""
    date = a_weekday()
    r = http.post(BOOK, booking(5, date))
    assert r.status == 201, r
    conn = psycopg2.connect(stack.pg_conninfo)
    try:
        with conn.cursor() as c:
            c.execute("UPDATE appointment SET status = 'cancelled',"
                      " cancelled_at = now()")
            c.execute("SELECT count(*) FROM notification"
                      " WHERE kind = 'appointment_cancelled'")
            assert c.fetchone()[0] == 1     # seen inside ...
        conn.rollback()
        with conn.cursor() as c:
            c.execute("SELECT count(*) FROM calendar_close(%s, NULL, 'Uji',"
                      " 'petugas', 'operator')", (date,))
        conn.rollback()
    finally:
        conn.close()
    assert [n[0] for n in notes(stack)] == ["appointment_booked"]  # ... only


# --- applications ------------------------------------------------------------

def test_a_submission_and_a_rejection_are_told(stack, http):
    c, nik = submit(http, 1)
    r = move(http.ops, c, "rejected", note="Foto KK tidak terbaca.")
    assert r.status == 200, r
    assert notes(stack) == [
        ("application_submitted", e164(make_phone(1)),
         {"code": c, "service_name": "KTP-el", "method": "post"}),
        ("application_rejected", e164(make_phone(1)),
         {"code": c, "reason": "Foto KK tidak terbaca."}),
    ]
    assert_no_nik_or_kk(stack, [nik, make_kk(1)])


def test_a_rejection_without_a_note_still_gives_a_reason(stack, http):
    """An operator cannot reject without a note (422 invalid_note, issue
    15); a rejection written without one all the same (by SQL) tells the
    citizen to ask the office."""
    c, _ = submit(http, 2, method="pickup")
    r = move(http.ops, c, "rejected", note="")
    assert (r.status, r.error) == (422, "invalid_note"), r
    assert notes(stack, "application_rejected") == []
    assert stack.psql("SELECT outcome FROM application_transition('%s',"
                      " 'rejected', 'petugas', NULL)" % c).strip() == "ok"
    (kind, _, params), = notes(stack, "application_rejected")
    assert params["code"] == c and "hubungi" in params["reason"]


def test_ready_for_pickup_names_the_office_and_steps_between_are_silent(
        stack, http):
    c, _ = submit(http, 3, method="pickup", office="sukajadi")
    drive(http.ops, c, ["verified", "processing", "completed"])
    assert [n[0] for n in notes(stack)] == ["application_submitted"]
    drive(http.ops, c, ["awaiting_pickup"])
    assert notes(stack, "application_ready") == [(
        "application_ready", e164(make_phone(3)),
        {"code": c, "office_name": "UPT Disdukcapil Kecamatan Sukajadi"})]
    drive(http.ops, c, ["picked_up"])
    assert len(notes(stack)) == 2


# --- the delivery (the scheduler's stack: delivery-batch, courier files) -----

def courier(sched, name, lines):
    path = os.path.join(sched.st.root, name)
    with open(path, "w") as f:
        f.write("tracking_code,resi,status,time,receiver,note\n")
        for c, resi, status, at in lines:
            f.write("%s,%s,%s,%s,,\n" % (c, resi, status, at))
    r = sched.run("import-delivery", path, config=sched.config())
    assert r.returncode == 0, r.stdout + r.stderr


def told(sched, kind):
    return sched.sql("SELECT params FROM notification WHERE kind = %s"
                     " ORDER BY id", (kind,))


def test_the_delivery_tells_shipped_with_the_receipt_then_delivered_or_failed(
        sched):
    seed_completed(sched, 3)
    r = sched.run("once", "delivery-batch", config=sched.config())
    assert r.returncode == 0, r.stderr
    # batched is the office's business: nothing yet
    assert sched.value("SELECT count(*) FROM notification") == 0
    p1, p2, p3 = code("P", 1), code("P", 2), code("P", 3)
    courier(sched, "a.csv", [
        (p1, "RR123456789ID", "in_transit", "2026-11-28T08:00:00+07:00"),
        (p2, "RR223456789ID", "in_transit", "2026-11-28T08:00:00+07:00"),
        (p1, "RR123456789ID", "delivered", "2026-11-28T11:00:00+07:00"),
        (p2, "RR223456789ID", "returned", "2026-11-28T12:00:00+07:00"),
    ])
    shipped = told(sched, "application_shipped")
    assert [(s[0]["code"], s[0]["receipt_number"]) for s in shipped] == [
        (p1, "RR123456789ID"), (p2, "RR223456789ID")]
    assert [s[0] for s in told(sched, "delivery_delivered")] == [
        {"code": p1}]
    (failed,), = told(sched, "delivery_failed")
    assert failed["code"] == p2
    assert failed["office_name"].startswith("UPT Disdukcapil Kecamatan") \
        or failed["office_name"] == "Mal Pelayanan Publik Pekanbaru"
    assert sched.value("SELECT count(*) FROM notification"
                       " WHERE params::text LIKE '%%' || %s || '%%'",
                       (p3,)) == 0
    # the phone is the application's, never a NIK or KK in the params
    dump = " ".join(json.dumps(r[0]) for r in
                    sched.sql("SELECT params FROM notification"))
    for nik, kk in sched.sql("SELECT nik, kk FROM application"):
        assert nik not in dump and kk not in dump


def test_only_an_otp_wakes_the_sender_at_once(stack):
    """A NOTIFY serialises the commits of the transactions that send one:
    a booking's row is found by the sender's poll; an OTP wakes it."""
    listener = psycopg2.connect(stack.pg_conninfo)
    listener.autocommit = True
    try:
        with listener.cursor() as c:
            c.execute("LISTEN dk_notification")
        stack.psql("INSERT INTO notification (kind, phone, params) VALUES"
                   " ('appointment_booked', '+6281200000009', '{}')")
        listener.poll()
        assert listener.notifies == []
        stack.psql("INSERT INTO notification (kind, phone, params) VALUES"
                   " ('otp', '+6281200000009', '{\"code\": \"123456\"}')")
        listener.poll()
        assert [n.channel for n in listener.notifies] == ["dk_notification"]
    finally:
        listener.close()

