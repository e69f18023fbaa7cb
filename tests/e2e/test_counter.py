"""Issue 15, the queue at the office end to end: check-in by code on the
appointment's date, calls of the next citizen at counters (loket), recall,
served, absent, the appointment's history written by PostgreSQL with the
operator and the counter, the transitions enforced by SQL itself, calls
at the same moment never handing out a citizen twice, and the public
waiting-room display.

Appointments of today are written straight into PostgreSQL (booking takes
tomorrow onwards), as test_ops.py does."""

import datetime
import subprocess
import threading

import pytest

from stack import wait_until
from helpers import http_for, wib_today
from applications_helpers import (OPS_CHECK_IN, appointment_row,
                                  insert_appointment, q)

CALL = "/api/v1/ops/counters/%s/call"
STEP = "/api/v1/ops/appointments/%s/%s"
LIST = "/api/v1/ops/appointments"
DISPLAY = "/api/v1/display"

OTHER_OPERATOR = ("petugas2", "rahasia-loket-2")


def masked(nik):
    return nik[:4] + "*" * 8 + nik[-4:]


def history(stack, code):
    """The appointment's history rows: (from, to, actor, counter)."""
    out = stack.psql(
        "SELECT h.from_status, h.to_status, h.actor, coalesce(h.counter, '')"
        "  FROM appointment_history h JOIN appointment a"
        "    ON a.id = h.appointment_id"
        " WHERE a.code = %s ORDER BY h.id" % q(code))
    return [tuple(line.split("|")) for line in out.split("\n") if line]


def checked_in(stack, http, i, service="ktp", office="mpp", queue=None):
    """An appointment of today, checked in by the API: (code, nik)."""
    code, nik = insert_appointment(stack, i, wib_today(), office=office,
                                   service=service, queue=queue)
    r = http.ops.post(OPS_CHECK_IN % code, {})
    assert r.status == 200, r
    return code, nik


def call(client, counter, services, office="mpp"):
    return client.post(CALL % counter, {"office": office,
                                        "services": services})


@pytest.fixture
def other_operator(stack):
    """A second operator's account in the stack's htpasswd file."""
    user, password = OTHER_OPERATOR
    subprocess.run(["htpasswd", "-iB", stack.htpasswd, user], input=password,
                   text=True, check=True, capture_output=True)
    return http_for(stack).with_auth(user, password)


# --- check-in ----------------------------------------------------------------

def test_check_in_answers_what_the_operator_compares_with_the_ktp(
        stack, http, clean_log):
    """Check-in by code on the appointment's date: 200 with name, service,
    queue number, office, date and the NIK masked; again: the same answer
    and no second history row."""
    today = wib_today()
    code, nik = insert_appointment(stack, 1, today, service="kk", queue=7)
    r = http.ops.post(OPS_CHECK_IN % code, {})
    assert (r.status, r.json()) == (200, {
        "code": code, "status": "checked_in", "queue_number": 7,
        "service": "kk", "service_name": "Kartu Keluarga", "office": "mpp",
        "date": str(today), "name": "Warga Hadir 1",
        "nik_masked": masked(nik)}), r
    assert nik not in r.text
    again = http.ops.post(OPS_CHECK_IN % code.lower(), {})
    assert (again.status, again.json()) == (200, r.json()), again
    assert history(stack, code) == [("booked", "checked_in", stack.ops_user,
                                     "")]


def test_check_in_on_another_date_or_by_a_wrong_code_changes_nothing(
        stack, http, clean_log):
    """Tomorrow's appointment: 409 not_today with its date; an unknown code
    and a malformed one: 404; a cancelled one: 409 appointment_closed."""
    tomorrow = wib_today() + datetime.timedelta(days=1)
    code, _ = insert_appointment(stack, 2, tomorrow)
    r = http.ops.post(OPS_CHECK_IN % code, {})
    assert (r.status, r.error, r.json()["date"]) == \
        (409, "not_today", str(tomorrow)), r
    for wrong in ("A-0000-0000-0000", "bukan-kode"):
        r = http.ops.post(OPS_CHECK_IN % wrong, {})
        assert (r.status, r.error) == (404, "not_found"), r
    gone, _ = insert_appointment(stack, 3, wib_today(), status="cancelled")
    r = http.ops.post(OPS_CHECK_IN % gone, {})
    assert (r.status, r.error, r.json()["status"]) == \
        (409, "appointment_closed", "cancelled"), r
    assert appointment_row(stack, code)["status"] == "booked"
    assert history(stack, code) == [] and history(stack, gone) == []


# --- a day at two counters ---------------------------------------------------

def test_a_day_at_two_counters(stack, http, other_operator, clean_log):
    """Counter 1 serves ktp and kk, counter A2 serves kk only. Calls take
    the lowest queue number of the counter's services; a recall puts the
    citizen back, called again next; the third call's recall makes a
    no-show; served and absent end the visit; each step is a history row
    with its operator and counter."""
    ktp1, _ = checked_in(stack, http, 10, "ktp", queue=1)
    kk1, _ = checked_in(stack, http, 11, "kk", queue=1)
    ktp2, _ = checked_in(stack, http, 12, "ktp", queue=2)
    kk2, kk2_nik = checked_in(stack, http, 13, "kk", queue=2)
    kk3, _ = checked_in(stack, http, 14, "kk", queue=3)

    # queue number 1 of both services: the one checked in first (ktp1)
    r = call(http.ops, "1", ["ktp", "kk"])
    assert r.status == 200, r
    assert r.json()["code"] == ktp1 and r.json()["status"] == "called"
    r = call(other_operator, "A2", ["kk"])
    assert (r.status, r.json()["code"], r.json()["counter"],
            r.json()["calls"]) == (200, kk1, "A2", 1), r

    # counter 1: ktp1 does not come, recalled, then called again
    r = http.ops.post(STEP % (ktp1, "recall"), {})
    assert (r.status, r.json()) == (200, {"code": ktp1,
                                          "status": "checked_in",
                                          "calls": 1, "counter": "1"}), r
    r = call(http.ops, "1", ["ktp", "kk"])
    assert (r.json()["code"], r.json()["calls"]) == (ktp1, 2), r
    http.ops.post(STEP % (ktp1, "recall"), {})
    r = call(http.ops, "1", ["ktp"])
    assert (r.json()["code"], r.json()["calls"]) == (ktp1, 3), r
    r = http.ops.post(STEP % (ktp1, "recall"), {})
    assert (r.status, r.json()["status"], r.json()["calls"]) == \
        (200, "no_show", 3), r

    # counter A2 serves kk1; counter 1 (both services) takes ktp2 before
    # kk2 (same number 2, checked in first)
    r = http.ops.post(STEP % (kk1, "served"), {})
    assert (r.status, r.json()["status"]) == (200, "served"), r
    r = call(http.ops, "1", ["ktp", "kk"])
    assert r.json()["code"] == ktp2, r
    r = call(other_operator, "A2", ["kk"])
    assert (r.json()["code"], r.json()["nik_masked"],
            r.json()["name"]) == (kk2, masked(kk2_nik), "Warga Hadir 13"), r
    assert http.ops.post(STEP % (ktp2, "absent"), {}).json()["status"] == \
        "no_show"
    assert http.ops.post(STEP % (kk2, "served"), {}).status == 200

    # a step on a citizen not called now: 409 with the status
    for code, step in ((kk1, "served"), (ktp1, "recall"), (kk3, "absent")):
        r = http.ops.post(STEP % (code, step), {})
        assert (r.status, r.error) == (409, "invalid_transition"), r
    assert http.ops.post(STEP % ("A-0000-0000-0000", "served"),
                         {}).status == 404

    # the last one, then nobody waits for either
    assert call(http.ops, "1", ["ktp", "kk"]).json()["code"] == kk3
    r = call(other_operator, "A2", ["kk"])
    assert (r.status, r.error) == (404, "queue_empty"), r

    me, other = stack.ops_user, OTHER_OPERATOR[0]
    assert history(stack, ktp1) == [
        ("booked", "checked_in", me, ""),
        ("checked_in", "called", me, "1"),
        ("called", "checked_in", me, "1"),
        ("checked_in", "called", me, "1"),
        ("called", "checked_in", me, "1"),
        ("checked_in", "called", me, "1"),
        ("called", "no_show", me, "1")]
    assert history(stack, kk1) == [
        ("booked", "checked_in", me, ""),
        ("checked_in", "called", other, "A2"),
        ("called", "served", me, "A2")]
    row = appointment_row(stack, kk1)
    assert (row["status"], row["calls"], row["counter"], row["finished_by"]) \
        == ("served", 1, "A2", me)
    assert row["called_at"] and row["finished_at"] and row["checked_in_at"]
    row = appointment_row(stack, ktp1)
    assert (row["status"], row["calls"]) == ("no_show", 3)

    # the day's list, by service and queue number; filtered by status
    r = http.ops.get(LIST + "?office=mpp")
    assert r.status == 200, r
    assert r.json()["date"] == str(wib_today())
    got = [(a["service"], a["queue_number"], a["status"])
           for a in r.json()["appointments"]]
    assert got == [("kk", 1, "served"), ("kk", 2, "served"),
                   ("kk", 3, "called"), ("ktp", 1, "no_show"),
                   ("ktp", 2, "no_show")], r
    r = http.ops.get(LIST + "?office=mpp&status=served&date=%s"
                     % wib_today())
    assert [a["code"] for a in r.json()["appointments"]] == [kk1, kk2], r
    assert all("nik" not in a and a["nik_masked"].count("*") == 8
               for a in r.json()["appointments"])
    for bad in ("?office=nowhere", "?office=mpp&status=gone",
                "?office=mpp&date=2026-13-01"):
        assert http.ops.get(LIST + bad).status == 422, bad


def test_bad_calls_are_422_and_call_no_one(stack, http, clean_log):
    code, _ = checked_in(stack, http, 20)
    for counter, body, field in (
            ("1", {"office": "nowhere", "services": ["ktp"]}, "office"),
            ("1", {"office": "mpp", "services": []}, "services"),
            ("1", {"office": "mpp", "services": ["paspor"]}, "services"),
            ("1", {"office": "mpp", "services": ["ktp", "ktp"]}, "services"),
            ("1", {"office": "mpp", "services": "ktp"}, "services"),
            ("loket_1", {"office": "mpp", "services": ["ktp"]}, "counter"),
            ("12345678901234567", {"office": "mpp", "services": ["ktp"]},
             "counter")):
        r = http.ops.post(CALL % counter, body)
        assert (r.status, r.field) == (422, field), (counter, body, r)
    assert appointment_row(stack, code)["status"] == "checked_in"


# --- the database refuses what skips a step ----------------------------------

def psql_fails(stack, sql):
    r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-d", stack.pg_conninfo, "-c", sql],
                       capture_output=True, text=True)
    return r.returncode != 0, r.stderr


def test_a_step_the_life_cycle_lacks_is_refused_by_postgresql(
        stack, http, clean_log):
    """A direct UPDATE that skips a step (booked -> served, checked_in ->
    served) fails in PostgreSQL itself, and so does a legal step that names
    no actor; nothing changes and no history row is written."""
    booked, _ = insert_appointment(stack, 30, wib_today())
    waiting, _ = checked_in(stack, http, 31)
    for code, sql in (
            (booked, "UPDATE appointment SET status = 'served',"
                     " finished_at = now(), finished_by = 'x', calls = 1,"
                     " counter = '1', called_at = now(),"
                     " checked_in_at = now() WHERE code = %s"),
            (waiting, "UPDATE appointment SET status = 'served',"
                      " finished_at = now(), finished_by = 'x'"
                      " WHERE code = %s")):
        failed, err = psql_fails(stack, sql % q(code))
        assert failed and "is not a step of its life cycle" in err, err
    failed, err = psql_fails(stack, "UPDATE appointment SET status = 'called',"
                             " calls = 1, counter = '9', called_at = now()"
                             " WHERE code = %s" % q(waiting))
    assert failed and "needs its actor" in err, err
    assert appointment_row(stack, booked)["status"] == "booked"
    assert appointment_row(stack, waiting)["status"] == "checked_in"
    assert history(stack, booked) == []
    assert len(history(stack, waiting)) == 1


def test_the_schedulers_no_show_after_the_day_is_a_history_row(
        stack, http, clean_log):
    """appointment_night() (the scheduler's reconcile) still marks
    yesterday's booked appointments no_show, with actor 'scheduler'; a
    citizen served yesterday stays served."""
    yesterday = wib_today() - datetime.timedelta(days=1)
    code, _ = insert_appointment(stack, 40, yesterday)
    stack.psql("SELECT * FROM appointment_night(%s::date)" % q(wib_today()))
    assert appointment_row(stack, code)["status"] == "no_show"
    assert history(stack, code) == [("booked", "no_show", "scheduler", "")]


# --- calls at the same moment ------------------------------------------------

def concurrent_calls(stack, n, counter=lambda i: "c%d" % i):
    results = [None] * n
    gate = threading.Barrier(n)

    def one(i):
        client = http_for(stack).ops
        gate.wait()
        results[i] = call(client, counter(i), ["ktp", "kk"])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("calls", [20, 25])
def test_concurrent_calls_never_hand_out_a_citizen_twice(
        stack, http, clean_log, calls):
    """20 citizens checked in; 20 (then 25) calls at once from as many
    counters: 20 distinct citizens, each called once, and exactly calls - 20
    queue_empty."""
    today = wib_today()
    codes = set()
    for i in range(20):
        code, _ = insert_appointment(stack, 100 + i, today,
                                     status="checked_in",
                                     service="ktp" if i % 2 else "kk",
                                     queue=i // 2 + 1)
        codes.add(code)
    results = concurrent_calls(stack, calls)
    ok = [r for r in results if r.status == 200]
    empty = [r for r in results if (r.status, r.error) == (404,
                                                           "queue_empty")]
    assert len(ok) == 20 and len(empty) == calls - 20, results
    assert sorted(r.json()["code"] for r in ok) == sorted(codes)
    n = stack.psql("SELECT count(*), count(DISTINCT appointment_id)"
                   "  FROM appointment_history WHERE to_status = 'called'")
    assert n.strip() == "20|20"


# --- the waiting-room display ------------------------------------------------

def test_display_shows_the_calls_of_its_office_only(stack, http, clean_log):
    """Public, no credentials: today's calls newest first, recalls
    included, with queue number, service and counter; no name, no code, no
    NIK in its body; another office's calls are not on it."""
    code, nik = checked_in(stack, http, 50, "ktp", queue=37)
    other, _ = checked_in(stack, http, 51, "ktp", office="sukajadi", queue=5)
    r = http.get(DISPLAY + "?office=mpp")
    assert (r.status, r.json()["calls"]) == (200, []), r
    assert r.headers.get("cache-control") == "no-store"
    assert call(http.ops, "2", ["ktp"]).status == 200
    assert call(http.ops, "7", ["ktp"], office="sukajadi").status == 200
    http.ops.post(STEP % (code, "recall"), {})
    assert call(http.ops, "3", ["ktp"]).status == 200

    r = http.get(DISPLAY + "?office=mpp")
    assert r.status == 200, r
    body = r.json()
    assert (body["office"], body["office_name"]) == \
        ("mpp", "Mal Pelayanan Publik Pekanbaru")
    assert body["now"].endswith("+07:00")
    got = [(c["queue_number"], c["service"], c["service_name"], c["counter"],
            c["calls"]) for c in body["calls"]]
    assert got == [(37, "ktp", "KTP-el", "3", 2), (37, "ktp", "KTP-el", "2",
                                                   1)], body
    assert all(c["called_at"].endswith("+07:00") for c in body["calls"])
    for secret in (code, other, nik, "Warga Hadir", "\"name\""):
        assert secret not in r.text, secret
    r = http.get(DISPLAY + "?office=sukajadi")
    assert [(c["queue_number"], c["counter"]) for c in r.json()["calls"]] \
        == [(5, "7")], r
    assert http.get(DISPLAY + "?office=nowhere").status == 422
    assert http.get(DISPLAY).status == 422


# --- who may -----------------------------------------------------------------

def test_counter_steps_refuse_another_sites_page_and_no_credentials(
        stack, http, clean_log):
    """Every mutating endpoint of the counter: 403 cross_site_request from
    a page of another site, nothing changed; every ops endpoint without
    credentials: 401."""
    code, _ = checked_in(stack, http, 60)
    booked, _ = insert_appointment(stack, 61, wib_today())
    steps = [(OPS_CHECK_IN % booked, {}),
             (CALL % "1", {"office": "mpp", "services": ["ktp"]}),
             (STEP % (code, "recall"), {}), (STEP % (code, "served"), {}),
             (STEP % (code, "absent"), {})]
    for headers in ({"Origin": "https://evil.example"},
                    {"Sec-Fetch-Site": "cross-site"}):
        for path, body in steps:
            r = http.ops.post(path, body, headers=headers)
            assert (r.status, r.error) == (403, "cross_site_request"), \
                (path, r)
    assert appointment_row(stack, code)["status"] == "checked_in"
    assert appointment_row(stack, booked)["status"] == "booked"
    for path, body in steps:
        assert http.post(path, body).status == 401, path
    assert http.get(LIST + "?office=mpp").status == 401
    assert appointment_row(stack, code)["status"] == "checked_in"


# --- PostgreSQL down ---------------------------------------------------------

@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_postgresql_down_is_503_for_every_counter_endpoint(
        stack, http, clean_log, how):
    """The counter needs PostgreSQL only: stopped or hanging, each of its
    endpoints answers 503 unavailable (within dukcapil_postgres_timeout),
    and works again once it is back."""
    code, _ = checked_in(stack, http, 70)
    requests = [("POST", OPS_CHECK_IN % code, {}),
                ("GET", LIST + "?office=mpp", None),
                ("POST", CALL % "1", {"office": "mpp", "services": ["ktp"]}),
                ("POST", STEP % (code, "served"), {}),
                ("GET", DISPLAY + "?office=mpp", None)]
    if how == "stopped":
        stack.stop_postgres()
    else:
        stack.freeze_postgres()
    try:
        for method, path, body in requests:
            client = http if path.startswith(DISPLAY) else http.ops
            r = client.request(method, path, body, timeout=30)
            assert (r.status, r.error) == (503, "unavailable"), (path, r)
    finally:
        if how == "stopped":
            stack.start_postgres(migrate=False)
        else:
            stack.thaw_postgres()
    wait_until(lambda: call(http.ops, "1", ["ktp"]).status == 200, 30,
               what="a call once PostgreSQL is back")
    assert appointment_row(stack, code)["status"] == "called"


# --- a slot used at the counter stays used ----------------------------------------

def test_a_citizen_served_or_called_keeps_the_date_active(stack, http,
                                                          clean_log):
    """The NIK-per-date unique index counts called and served as it counts
    booked and checked_in: another row of the same NIK and date is refused
    (the booking's INSERT, with its ON CONFLICT, inserts nothing); after a
    no-show at the counter, the date is free again."""
    served, nik = checked_in(stack, http, 80)
    called, nik2 = checked_in(stack, http, 81, queue=5)
    call(http.ops, "1", ["ktp"])
    http.ops.post(STEP % (served, "served"), {})
    call(http.ops, "1", ["ktp"])
    assert appointment_row(stack, called)["status"] == "called"

    def insert(n, queue):
        return stack.psql(
            "INSERT INTO appointment (code, nik, name, phone, office,"
            " service, date, queue_number) VALUES ('A-0000-0000-%04d', %s,"
            " 'Warga', '+6281234567890', 'mpp', 'kk', %s, %d)"
            " ON CONFLICT (nik, date)"
            " WHERE status IN ('booked', 'checked_in', 'called', 'served')"
            " DO NOTHING RETURNING id" % (queue, q(n), q(wib_today()), queue))

    assert insert(nik, 90).split() == ["INSERT", "0", "0"]
    assert insert(nik2, 91).split() == ["INSERT", "0", "0"]
    http.ops.post(STEP % (called, "absent"), {})
    assert insert(nik2, 92).split()[-3:] == ["INSERT", "0", "1"]


# --- one citizen at a time per counter (015) ---------------------------------

def test_a_counter_calls_one_citizen_at_a_time(stack, http, other_operator,
                                               clean_log):
    """A second call at a counter whose citizen is still called (a double
    click, a tab that lost the answer) answers that citizen again: no second
    citizen, no second history row, no second line on the display, whatever
    services it names. Once served, the next call takes the next one;
    another counter is not held up meanwhile."""
    first, _ = checked_in(stack, http, 200, queue=1)
    second, _ = checked_in(stack, http, 201, queue=2)
    third, _ = checked_in(stack, http, 202, queue=3)
    r1 = call(http.ops, "4", ["ktp"])
    r2 = call(http.ops, "4", ["ktp", "kk"])
    assert (r1.status, r2.status) == (200, 200), (r1, r2)
    assert r1.json()["code"] == first and r2.json() == r1.json(), (r1, r2)
    me = stack.ops_user
    assert history(stack, first) == [("booked", "checked_in", me, ""),
                                     ("checked_in", "called", me, "4")]
    assert appointment_row(stack, second)["status"] == "checked_in"
    r = http.get(DISPLAY + "?office=mpp")
    assert [(c["queue_number"], c["counter"]) for c in r.json()["calls"]] \
        == [(1, "4")], r

    # counter 5 takes the next one; counter 4 keeps its own
    assert call(other_operator, "5", ["ktp"]).json()["code"] == second
    assert call(http.ops, "4", ["ktp"]).json()["code"] == first

    assert http.ops.post(STEP % (first, "served"), {}).status == 200
    r = call(http.ops, "4", ["ktp"])
    assert (r.status, r.json()["code"], r.json()["calls"]) == \
        (200, third, 1), r
    assert len(history(stack, first)) == 3


def test_a_double_click_at_once_calls_one_citizen(stack, http, clean_log):
    """Eight calls at the same moment at one counter: all answer the same
    citizen, called once; the others still wait."""
    codes = [checked_in(stack, http, 210 + i, queue=i + 1)[0]
             for i in range(4)]
    results = concurrent_calls(stack, 8, counter=lambda i: "9")
    assert {r.status for r in results} == {200}, results
    assert {r.json()["code"] for r in results} == {codes[0]}, results
    n = stack.psql("SELECT count(*) FROM appointment_history"
                   " WHERE to_status = 'called'")
    assert n.strip() == "1"
    assert [appointment_row(stack, c)["status"] for c in codes[1:]] == \
        ["checked_in"] * 3


def test_the_night_ends_past_calls_and_leaves_past_check_ins(stack, http,
                                                             clean_log):
    """appointment_night(): yesterday's citizen left called is a no-show at
    the counter, ended by the scheduler (its counter in the history row);
    yesterday's citizen left checked_in (never called) stays checked_in; a
    citizen called today stays called. The statistics of yesterday count
    the checked-in one as booked and checked in, neither served nor
    no-show."""
    yesterday = wib_today() - datetime.timedelta(days=1)
    booked, _ = insert_appointment(stack, 220, yesterday)
    called, _ = insert_appointment(stack, 221, yesterday, status="checked_in")
    waiting, _ = insert_appointment(stack, 222, yesterday,
                                    status="checked_in")
    stack.psql("UPDATE appointment SET status = 'called', calls = 1,"
               " counter = '3', called_at = now(), step_by = 'petugas-x'"
               " WHERE code = %s" % q(called))
    today, _ = checked_in(stack, http, 223)
    assert call(http.ops, "3", ["ktp"]).json()["code"] == today

    out = stack.psql("SELECT cancelled_by_office, no_shows"
                     "  FROM appointment_night(%s::date)" % q(wib_today()))
    assert out.strip() == "0|2", out
    row = appointment_row(stack, called)
    assert (row["status"], row["calls"], row["finished_by"]) == \
        ("no_show", 1, "scheduler"), row
    assert row["finished_at"] and row["checked_in_at"]
    assert history(stack, called)[-1] == ("called", "no_show", "scheduler",
                                          "3")
    assert appointment_row(stack, waiting)["status"] == "checked_in"
    assert appointment_row(stack, booked)["status"] == "no_show"
    assert appointment_row(stack, today)["status"] == "called"

    r = http.ops.get("/api/v1/ops/stats?office=mpp&from=%s&to=%s"
                     % (yesterday, yesterday))
    assert r.status == 200, r
    day = r.json()["days"][0]
    assert (day["booked"], day["checked_in"], day["served"],
            day["no_show"]) == (3, 2, 0, 2), day


# --- a step that waited for its row past its deadline (015) ------------------

def test_a_step_that_waits_past_its_deadline_changes_nothing(stack, http,
                                                             clean_log):
    """Another transaction holds the called citizen's row: the step waits
    at most until the module's deadline, answers 503 unavailable, and once
    the holder is gone the row is as it was (still called, no history row
    more); then the step works."""
    code, _ = checked_in(stack, http, 230)
    assert call(http.ops, "1", ["ktp"]).status == 200
    before = history(stack, code)
    holder = subprocess.Popen(
        ["psql", "-X", "-q", "-d", stack.pg_conninfo, "-c",
         "BEGIN; SELECT 1 FROM appointment WHERE code = %s FOR UPDATE;"
         " SELECT pg_sleep(60); COMMIT" % q(code)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: psql_fails(
            stack, "SELECT 1 FROM appointment WHERE code = %s"
                   " FOR UPDATE NOWAIT" % q(code))[0],
                   10, what="the holder's row lock")
        r = http.ops.post(STEP % (code, "served"), {}, timeout=30)
        assert (r.status, r.error) == (503, "unavailable"), r
    finally:
        stack.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                   " WHERE query LIKE '%%pg_sleep(60)%%'"
                   "   AND pid <> pg_backend_pid()")
        holder.wait(30)
    wait_until(lambda: stack.psql(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE query LIKE '%appointment_counter_step%'"
        "   AND state = 'active' AND pid <> pg_backend_pid()").strip() == "0",
               10, what="no step running")
    row = appointment_row(stack, code)
    assert (row["status"], row["finished_at"]) == ("called", None), row
    assert history(stack, code) == before
    r = http.ops.post(STEP % (code, "served"), {})
    assert (r.status, r.json()["status"]) == (200, "served"), r


# --- an operator's closure names the operator (015) --------------------------

def test_a_closure_names_its_operator_in_the_cancellations_history(
        stack, http, clean_log):
    """PUT /api/v1/ops/closures as an operator: the appointments it cancels
    have a history row cancelled_by_office whose actor is that operator."""
    date = wib_today() + datetime.timedelta(days=9)
    while date.weekday() == 6:
        date += datetime.timedelta(days=1)
    code, _ = insert_appointment(stack, 240, date)
    other, _ = insert_appointment(stack, 241, date, office="sukajadi")
    r = http.ops.put("/api/v1/ops/closures",
                     {"date": str(date), "office": "mpp",
                      "reason": "Banjir di lokasi"})
    assert r.status == 200, r
    assert r.json()["cancelled"] == 1, r
    assert history(stack, code) == [("booked", "cancelled_by_office",
                                     stack.ops_user, "")]
    assert history(stack, other) == []
