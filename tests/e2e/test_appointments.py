"""Issue 3, appointments with atomic daily quotas, end to end: real nginx
(with ngx_dukcapil_module), Redis and PostgreSQL.

What each test proves is in its name and docstring. Invariant used after
every outcome is definite ("agrees"): for (office, date, service), Redis's
n:<svc> = its admissions of <svc> = the committed active rows in PostgreSQL,
code for code (appointments_helpers.assert_redis_agrees_with_rows).
"""

import datetime
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import assert_no_alerts, assert_no_crashes, wait_until
from helpers import (health_ok, http_for, parse_response, raw_request,
                     request_bytes, send_and_vanish, wib_today)
from appointments_helpers import (AVAIL, BOOK, assert_redis_agrees_with_rows,
                                  availability, booking,
                                  closed_date_in_window,
                                  count_all_rows, day_key,
                                  first_open_date, in_one_pass, make_nik,
                                  open_dates, post_bookings,
                                  redis_day, redis_snapshot,
                                  rows, second_nginx,
                                  set_quota)
from scheduler_fixtures import module_script

ERRORISH = ("[error]", "[alert]", "[crit]", "[emerg]")


def book(http, body, **kw):
    return http.post(BOOK, body, **kw)


def new_errorish(st, since, expected=()):
    return [l for l in st.error_log_lines(since)
            if any(s in l for s in ERRORISH)
            and not any(e in l for e in expected)]


# --- exactness under concurrency -------------------------------------------

def test_exactness_2000_concurrent_bookings_two_nginx_quota_100(
        stack, make_stack):
    """2,000 distinct citizens at once over two nginx sharing Redis and
    PostgreSQL, quota 100: exactly 100 x 201 (queue 1..100), 1,900 x 409
    quota_full, 100 rows, availability 0 left, Redis agrees."""
    other = second_nginx(make_stack, stack)
    marks = (stack.error_log_size(), other.error_log_size())
    date = first_open_date()
    set_quota(stack, "mpp", date, "ktp", 100)

    start = time.monotonic()
    answers = post_bookings([stack.http_port, other.http_port],
                            [booking(i, date) for i in range(2000)])
    elapsed = time.monotonic() - start

    failed = [a for a in answers if isinstance(a, BaseException)]
    assert not failed, "%d requests failed: %r" % (len(failed), failed[:3])
    by_status = {}
    for a in answers:
        by_status.setdefault((a.status, a.error), []).append(a)
    summary = {k: len(v) for k, v in by_status.items()}
    assert summary == {(201, None): 100, (409, "quota_full"): 1900}, summary

    created = [a.json() for a in by_status[(201, None)]]
    assert sorted(c["queue_number"] for c in created) == list(range(1, 101))
    assert all(c["status"] == "booked" and c["date"] == str(date)
               and c["office"] == "mpp" and c["service"] == "ktp"
               for c in created)
    for a in by_status[(201, None)]:
        assert a.headers.get("location", "").endswith(a.json()["code"]), a
    # next_available: the next open date (nothing else is full)
    later = [d for d in open_dates() if d > date][0]
    assert {a.json().get("next_available")
            for a in by_status[(409, "quota_full")]} == {str(later)}

    stored = rows(stack, date, service="ktp")
    assert len(stored) == 100
    assert [r[3] for r in stored] == list(range(1, 101))
    assert {r[0] for r in stored} == {c["code"] for c in created}
    assert count_all_rows(stack) == 100

    for st in (stack, other):
        a = availability(http_for(st), date)
        assert (a["quota"], a["booked"], a["remaining"], a["open"]) == \
            (100, 100, 0, False), a
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 100
    day = redis_day(stack, "mpp", date)[0]
    assert day["s:ktp"] == "100"
    for st, mark in zip((stack, other), marks):
        assert_no_alerts(st, mark)
        assert_no_crashes(st, mark)
    assert elapsed < 20, "2,000 bookings took %.1f s" % elapsed


def test_same_nik_50_times_at_once_gets_exactly_one_201(stack, clean_log):
    """One citizen's 50 simultaneous bookings for one date: one 201, 49 x
    409 already_booked, one row, one slot taken."""
    date = first_open_date()
    body = booking(7, date)
    answers = post_bookings([stack.http_port], [body] * 50)
    summary = {}
    for a in answers:
        assert not isinstance(a, BaseException), a
        summary[(a.status, a.error)] = summary.get((a.status, a.error), 0) + 1
    assert summary == {(201, None): 1, (409, "already_booked"): 49}, summary
    assert len(rows(stack, date)) == 1
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 1


def test_bookings_of_one_loop_pass_are_decided_in_one_script_call(
        stack, clean_log):
    """Requests an nginx worker reads in one event-loop pass are decided by
    one book.lua call each 32 bookings (the workers are stopped while 40
    requests arrive on kept-alive connections, then let go): Redis counts
    at most 4 EVALSHA for the 40, and each request still gets its own
    booking's answer - 5 x 201 with queue numbers 2..6 whose rows carry the
    NIK of the request that got them, a duplicate and a barred citizen
    answered as such, the rest quota_full."""
    date = first_open_date()
    set_quota(stack, "mpp", date, "ktp", 6)
    http = http_for(stack)
    assert book(http, booking(900, date)).status == 201
    r = stack.redis(decode_responses=True)
    r.set("dk:bar:" + make_nik(901), "2099-01-01")

    bodies = [booking(900, date), booking(901, date)]
    bodies += [booking(1000 + i, date) for i in range(38)]
    r.config_resetstat()
    answers = in_one_pass(stack, bodies)

    calls = r.info("commandstats")["cmdstat_evalsha"]["calls"]
    r.close()
    assert 1 <= calls <= 4, "%d script calls for 40 bookings" % calls

    assert answers[0] == (409, {"error": "already_booked",
                                "message": answers[0][1].get("message")})
    assert (answers[1][0], answers[1][1].get("error"),
            answers[1][1].get("until")) == (403, "no_show_bar", "2099-01-01")
    rest = answers[2:]
    ok = [(body, a) for body, (status, a) in zip(bodies[2:], rest)
          if status == 201]
    assert len(ok) == 5, rest
    assert sorted(a["queue_number"] for _, a in ok) == [2, 3, 4, 5, 6]
    assert all(status == 409 and a["error"] == "quota_full"
               for status, a in rest if status != 201), rest
    nik_of = {code: nik for code, nik, *_ in rows(stack, date)}
    for body, a in ok:
        assert nik_of[a["code"]] == body["nik"], (body, a)
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 6


def test_a_booking_redis_refuses_fails_alone_in_its_call(stack, clean_log):
    """In one script call, a booking whose day Redis refuses to work on (its
    phone counter is not a hash) is answered 503 unavailable with the reason
    in error.log and takes nothing, while the bookings beside it in the same
    call are booked."""
    good, bad = open_dates()[:2]
    r = stack.redis(decode_responses=True)
    r.set(day_key("mpp", bad, "phone"), "not a hash")
    mark = stack.error_log_size()
    bodies = [booking(1100 + i, good if i % 2 else bad) for i in range(8)]
    r.config_resetstat()
    answers = in_one_pass(stack, bodies)

    # bookings shared script calls: usually a call per worker, each holding
    # both kinds of booking; a worker whose epoll hands it the connections
    # over several passes (the ASan build on a busy machine) makes more, but
    # fewer calls than bookings means some call held more than one
    calls = r.info("commandstats")["cmdstat_evalsha"]["calls"]
    assert calls < len(bodies), calls
    for body, (status, a) in zip(bodies, answers):
        if body["date"] == str(good):
            assert status == 201, a
        else:
            assert (status, a.get("error")) == (503, "unavailable"), a
    assert len(rows(stack, good)) == 4 and rows(stack, bad) == []
    assert assert_redis_agrees_with_rows(stack, "mpp", good) == 4
    assert not r.exists(day_key("mpp", bad), day_key("mpp", bad, "nik"))
    assert sum("booking script failed: WRONGTYPE" in l
               for l in stack.error_log_lines(mark)) == 4
    r.close()


def metrics(http):
    """/metrics as {'name{labels}': value}."""
    r = http.get("/metrics")
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    out = {}
    for line in r.body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = int(value)
    return out


def test_metrics_count_answers_outcomes_and_script_calls(stack, http,
                                                         clean_log):
    """/metrics (Prometheus text) counts, across the workers, the answers
    per endpoint and status class, the booking decisions by outcome and the
    calls of each Redis script: a booking, its duplicate, one on a full day,
    a cancellation and an availability read move exactly their counters."""
    date = first_open_date()
    set_quota(stack, "mpp", date, "ktp", 1)
    before = metrics(http)
    first = book(http, booking(41, date))
    assert first.status == 201, first
    assert book(http, booking(41, date)).status == 409
    assert book(http, booking(42, date)).status == 409
    assert http.delete("%s/%s" % (BOOK, first.json()["code"]),
                       headers={"X-NIK": make_nik(41)}).status == 200
    assert availability(http, date)["booked"] == 0
    after = metrics(http)

    def moved(name):
        return after[name] - before.get(name, 0)

    assert {o: moved('dukcapil_bookings_total{outcome="%s"}' % o)
            for o in ("booked", "already_booked", "quota_full", "released",
                      "failed", "phone_limit")} == {
        "booked": 1, "already_booked": 1, "quota_full": 1, "released": 1,
        "failed": 0, "phone_limit": 0}
    req = 'dukcapil_requests_total{endpoint="%s",status="%s"}'
    assert moved(req % ("appointments", "2xx")) == 1
    assert moved(req % ("appointments", "4xx")) == 2
    assert moved(req % ("appointment", "2xx")) == 1
    assert moved(req % ("availability", "2xx")) == 1
    calls = 'dukcapil_redis_script_calls_total{script="%s"}'
    assert (moved(calls % "book"), moved(calls % "release")) == (3, 1)


def test_an_admission_records_when_it_was_made(stack, http, clean_log):
    """An admission carries the wall clock of its decision in ms since the
    epoch: the nightly reconcile lets an admission without a row go only
    once it is older than its grace, so a clock from the future (it was
    24 times too large) would keep a lost slot taken for ever."""
    date = first_open_date()
    before = int(time.time() * 1000)
    r = book(http, booking(77, date))
    after = int(time.time() * 1000)
    assert r.status == 201, r
    _, adm, _, _ = redis_day(stack, "mpp", date)
    admitted = int(adm[r.json()["code"]].rsplit("|", 1)[1])
    assert before - 1000 <= admitted <= after + 1000, (before, admitted)


def test_one_script_call_decides_its_bookings_in_order(stack):
    """lua/book.lua run directly with several bookings in one call: each is
    decided as if alone after the ones before it (a NIK booked earlier in
    the call is a duplicate, the slots the call took count against the
    quota, a closed day and a bar are answered per booking), and a booking
    Redis refuses (a key of the wrong type) answers "error ..." without
    taking anything while the others still count."""
    r = stack.redis(decode_responses=True)
    script = r.register_script(module_script("book"))
    r.set("dk:bar:B", "2099-01-01")
    r.set(day_key("mpp", "d3", "phone"), "not a hash")

    def item(nik, phone, code, date="d1", quota="2"):
        keys = (["dk:epoch", "dk:bar:" + nik]
                + [day_key("mpp", date, p)
                   for p in ("day", "adm", "nik", "phone")]
                + ["dk:bar:phone:" + phone, "dk:epoch"])
        args = ["ktp", quota, nik, phone, "2", code, "1000", "4102444800",
                "99", "0", "0", "0", "", ""]
        return keys, args

    def call(*items):
        keys = [k for ks, _ in items for k in ks]
        args = [a for _, As in items for a in As]
        # the call's last argument: the history the module checked
        args.append(r.info("replication")["master_replid"])
        return script(keys=keys, args=args).split("\n")

    assert call(item("A", "p1", "c1"), item("A", "p2", "c2"),
                item("B", "p3", "c3"), item("C", "p1", "c4"),
                item("D", "p1", "c5"), item("E", "p9", "c6", date="d2"),
                item("F", "p9", "c7", date="d2", quota="0"),
                item("G", "p1", "c8", date="d3"),
                item("H", "p1", "c9", date="d4")) == [
        "ok 1", "dup", "bar 2099-01-01", "ok 2", "full", "ok 1", "closed",
        "error WRONGTYPE Operation against a key holding the wrong kind of "
        "value", "ok 1"]
    day = r.hgetall(day_key("mpp", "d1"))
    assert (day["n:ktp"], day["s:ktp"]) == ("2", "2")
    assert r.hgetall(day_key("mpp", "d1", "nik")) == {"A": "c1", "C": "c4"}
    assert r.hgetall(day_key("mpp", "d1", "phone")) == {"p1": "2"}
    assert r.hgetall(day_key("mpp", "d1", "adm")).keys() == {"c1", "c4"}
    assert not r.exists(day_key("mpp", "d3"), day_key("mpp", "d3", "nik"),
                        day_key("mpp", "d3", "adm"))
    # the phone cap counts the call's own admissions: p1 has 2 on d1
    assert call(item("I", "p1", "c10", quota="9")) == ["phone"]
    # a line per booking, whatever a stored value holds
    r.set("dk:bar:K", "2099-01-01\nok 7")
    assert call(item("K", "p6", "c12", date="d5"),
                item("L", "p7", "c13", date="d5")) == [
        "bar 2099-01-01 ok 7", "ok 1"]
    # the phone that booked is barred as well as the NIK
    r.set("dk:bar:phone:p8", "2099-02-02")
    assert call(item("M", "p8", "c14", date="d5")) == ["bar 2099-02-02"]
    # a state of another history (a failover's, a restart's): no one
    r.set("dk:epoch", "0" * 40)
    assert call(item("J", "p5", "c11", date="d5")) == ["rebuilding"]
    r.delete("dk:epoch")
    assert call(item("J", "p5", "c11", date="d5")) == ["rebuilding"]
    r.close()


# --- idempotency -------------------------------------------------------------

def test_idempotent_sequential_retries_take_one_slot(stack, http, clean_log):
    """Same Idempotency-Key and body -> the first answer again (same code,
    same queue number); another body with that key -> 422
    idempotency_mismatch; one slot, one row."""
    date = first_open_date()
    body = booking(11, date)
    key = {"Idempotency-Key": "retry-11-%s" % date}
    first = book(http, body, headers=key)
    assert first.status == 201, first
    for _ in range(3):
        again = book(http, body, headers=key)
        assert again.status == 201, again
        assert again.json() == first.json()
    other = book(http, booking(12, date), headers=key)
    assert (other.status, other.error) == (422, "idempotency_mismatch"), \
        other
    assert len(rows(stack, date)) == 1
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 1
    # without the key the same citizen is a duplicate, not a replay
    dup = book(http, body)
    assert (dup.status, dup.error) == (409, "already_booked"), dup


def test_idempotent_concurrent_retries_take_one_slot(stack, http, clean_log):
    """30 copies of one keyed request at once: every answer is the one
    booking (201, same code) or 409 idempotency_in_progress; one row; a
    later retry replays the 201."""
    date = first_open_date()
    body = booking(21, date)
    key = {"Idempotency-Key": "burst-21-%s" % date}
    answers = post_bookings([stack.http_port], [body] * 30, headers=key)
    codes, kinds = set(), {}
    for a in answers:
        assert not isinstance(a, BaseException), a
        kinds[(a.status, a.error)] = kinds.get((a.status, a.error), 0) + 1
        if a.status == 201:
            codes.add(a.json()["code"])
    assert set(kinds) <= {(201, None), (409, "idempotency_in_progress")}, kinds
    assert kinds.get((201, None), 0) >= 1, kinds
    assert len(codes) == 1, codes
    later = book(http, body, headers=key)
    assert later.status == 201 and later.json()["code"] in codes, later
    stored = rows(stack, date)
    assert [r[0] for r in stored] == list(codes)
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 1


def test_a_keyed_answer_is_stored_before_the_client_hears_it(stack, http,
                                                            clean_log):
    """An answer under an Idempotency-Key reaches the client only once Redis
    holds it: with Redis's writes paused at the moment the booking commits,
    the 201 waits for the pause, and when the client has it the key already
    says "D|...|201|" (so an immediate retry through any worker replays it
    and never hears idempotency_in_progress)."""
    date = first_open_date()
    key = "stored-first-%s" % date
    idem = "dk:idem:appointments:" + key
    r = stack.redis(decode_responses=True)
    lock = stack.connect()
    lock.autocommit = False
    heard = {}

    def client():
        a = book(http, booking(31, date), headers={"Idempotency-Key": key},
                 timeout=10)
        heard["value"] = r.get(idem)
        heard["answer"] = a

    try:
        # the INSERT waits on the table lock until Redis's writes are paused
        lock.cursor().execute("LOCK TABLE appointment IN SHARE MODE")
        t = threading.Thread(target=client)
        t.start()
        wait_until(lambda: int(stack.psql(
            "SELECT count(*) FROM pg_locks WHERE NOT granted "
            "AND relation = 'appointment'::regclass")) == 1, 5,
            what="the INSERT to wait for the lock")
        r.execute_command("CLIENT", "PAUSE", "300", "WRITE")
        lock.commit()
        t.join(10)
    finally:
        lock.rollback()
        lock.close()
        r.execute_command("CLIENT", "UNPAUSE")

    assert heard["answer"].status == 201, heard["answer"]
    assert (heard["value"] or "").startswith("D|"), heard["value"]
    assert "|201|" in heard["value"]
    again = book(http, booking(31, date), headers={"Idempotency-Key": key})
    assert again.status == 201 and again.json() == heard["answer"].json()
    r.close()


# --- outages ---------------------------------------------------------------

def test_postgres_stopped_during_burst_503_and_counters_equal_rows(stack):
    """PostgreSQL stopped (fast shutdown) in the middle of a stream of
    bookings: every answer is 201 or 503 unavailable; bookings sent while it
    is down are 503 within the timeout; afterwards every 201 has its row,
    every 503 has none, and Redis's counter equals the committed rows (a
    stopped server is a definite failure: the slot is given back at once;
    see test_postgres_frozen_... for the unknown-outcome case)."""
    mark = stack.error_log_size()
    date = first_open_date()
    set_quota(stack, "mpp", date, "ktp", 5000)
    http = http_for(stack)
    results = [None] * 800
    stop_at = threading.Event()

    def one(i):
        if i == 60:
            stop_at.set()
        try:
            results[i] = book(http, booking(1000 + i, date), timeout=10)
        except OSError as e:
            results[i] = e

    stopper = threading.Thread(
        target=lambda: (stop_at.wait(30), stack.stop_postgres()))
    stopper.start()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(800)))
    stopper.join()

    # now surely down: a few more, each 503 within the postgres timeout
    late = []
    for i in range(5):
        r = book(http, booking(2000 + i, date), timeout=10)
        late.append(r)
        assert (r.status, r.error) == (503, "unavailable"), r
        assert r.elapsed < 3.5, r.elapsed

    assert not [r for r in results if isinstance(r, BaseException)]
    kinds = {}
    for r in results:
        kinds[(r.status, r.error)] = kinds.get((r.status, r.error), 0) + 1
    assert set(kinds) <= {(201, None), (503, "unavailable")}, kinds
    assert kinds.get((201, None)) and kinds.get((503, "unavailable")), kinds

    stack.start_postgres(migrate=False)
    wait_until(lambda: health_ok(stack), 10, what="health after restart")
    told_yes = {r.json()["code"] for r in results if r.status == 201}
    stored = rows(stack, date)
    assert {r[0] for r in stored} == told_yes, \
        "rows differ from the 201s: a 201 lied or a 503 stored a row"

    # A booking whose INSERT was sent but never answered keeps its admission
    # until the module has settled it (once the backend that ran it is gone):
    # within a few seconds of PostgreSQL coming back, never by the scheduler.
    def agrees():
        try:
            assert_redis_agrees_with_rows(stack, "mpp", date)
            return True
        except AssertionError:
            return False

    wait_until(agrees, 10, what="the unknown outcomes to settle")
    n = assert_redis_agrees_with_rows(stack, "mpp", date,
                                      what="after PostgreSQL came back:")
    assert n == len(told_yes)
    assert len({r[3] for r in stored}) == len(stored)
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)
    # and it books again
    r = book(http, booking(3000, date))
    assert r.status == 201, r


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_redis_unavailable_503_nothing_stored(stack, how):
    """Redis stopped, or frozen past the 500 ms timeout: 503 unavailable,
    quickly, and no appointment row."""
    mark = stack.error_log_size()
    date = first_open_date()
    http = http_for(stack)
    if how == "stopped":
        stack.stop_redis()
    else:
        stack.freeze_redis()
    try:
        for i in range(5):
            r = book(http, booking(5000 + i, date), timeout=10)
            assert (r.status, r.error) == (503, "unavailable"), r
            assert r.elapsed < 2.5, r.elapsed
    finally:
        if how == "frozen":
            stack.thaw_redis()
    assert count_all_rows(stack) == 0
    if how == "stopped":
        stack.start_redis()
        stack.set_epoch()
    wait_until(lambda: health_ok(stack), 10, what="health after Redis")
    r = book(http, booking(5100, date))
    assert r.status == 201, r
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)


# --- cancel, quota_full, codes --------------------------------------------

def test_cancel_frees_the_slot_for_the_next_citizen_at_once(
        stack, http, clean_log):
    """Quota 1: A books, B is refused quota_full, A cancels (200
    cancelled), B books at once and gets queue number 2 (1 is never
    reused); A reads as cancelled."""
    date = first_open_date()
    set_quota(stack, "mpp", date, "ktp", 1)
    a_body, b_body = booking(31, date), booking(32, date)
    a = book(http, a_body)
    assert a.status == 201 and a.json()["queue_number"] == 1, a
    code = a.json()["code"]
    full = book(http, b_body)
    assert (full.status, full.error) == (409, "quota_full"), full
    x = http.delete("%s/%s" % (BOOK, code),
                    headers={"X-NIK": a_body["nik"]})
    assert x.status == 200 and x.json() == {"code": code,
                                            "status": "cancelled"}, x
    b = book(http, b_body)
    assert b.status == 201 and b.json()["queue_number"] == 2, b
    got = http.get("%s/%s" % (BOOK, code), headers={"X-NIK": a_body["nik"]})
    assert got.status == 200 and got.json()["status"] == "cancelled", got
    assert availability(http, date)["remaining"] == 0
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 1
    # the cancelled citizen may book that date again (queue 3) once room is
    set_quota(stack, "mpp", date, "ktp", 2)
    again = book(http, a_body)
    assert again.status == 201 and again.json()["queue_number"] == 3, again


def test_a_lost_script_cache_costs_no_request(stack, http, clean_log):
    """Redis forgets its scripts (SCRIPT FLUSH; a Redis restarted from its
    AOF or failed over keeps the data but not the scripts) while the
    module's connections stay up: the next booking and the next cancel are
    answered NOSCRIPT, sent again as EVAL with the script's text, and
    succeed; error.log says so as a warning, nothing worse; Redis agrees
    with PostgreSQL afterwards."""
    date = first_open_date()
    body = booking(41, date)
    mark = stack.error_log_size()
    r = stack.redis()
    try:
        r.script_flush()
        a = book(http, body)
        assert a.status == 201, a
        # EVAL cached the booking script again: the release script is still
        # missing, and is flushed once more for good measure
        r.script_flush()
        x = http.delete("%s/%s" % (BOOK, a.json()["code"]),
                        headers={"X-NIK": body["nik"]})
        assert x.status == 200 and x.json()["status"] == "cancelled", x
        again = book(http, body)
        assert again.status == 201, again
    finally:
        r.close()
    lines = stack.error_log_lines(mark)
    assert sum("redis lost its script cache, sending EVAL" in l
               for l in lines) >= 3, "".join(lines[-20:])
    assert not new_errorish(stack, mark), new_errorish(stack, mark)
    assert assert_redis_agrees_with_rows(stack, "mpp", date) >= 1


def test_quota_full_next_available_skips_full_closed_and_zero_days(
        stack, http, clean_log):
    """quota_full names the first later open date with room: a Sunday, a
    day with override 0 and a full day are skipped."""
    days = open_dates()
    d1, d2, d3 = days[0], days[1], days[2]
    set_quota(stack, "mpp", d1, "ktp", 1)
    set_quota(stack, "mpp", d2, "ktp", 0)
    assert book(http, booking(41, d1)).status == 201
    # each worker caches next_available for 1 s (NGX_HTTP_DUKCAPIL_NEXT_TTL):
    # an answer computed by an earlier test for d1 may still be served
    time.sleep(1.1)
    r = book(http, booking(42, d1))
    assert (r.status, r.error) == (409, "quota_full"), r
    assert r.json()["next_available"] == str(d3), (r.json(), d1, d2, d3)
    # a day of override 0 is closed: invalid_date, like a closed weekday
    z = book(http, booking(43, d2))
    assert (z.status, z.error) == (422, "invalid_date"), z
    assert count_all_rows(stack) == 1


def test_code_lookup_accepts_case_dashes_and_lookalikes_but_not_wrong_nik(
        stack, http, clean_log):
    """GET with the code lower-case, without dashes, with O for 0 and
    I/L for 1 finds the appointment; the right code with another valid NIK
    is 404 exactly like an unknown code."""
    date = first_open_date()
    body = booking(51, date)
    code = None
    for i in range(40):              # a code that has a 0 or a 1 in it
        r = book(http, booking(51 + i, date))
        assert r.status == 201, r
        c = r.json()["code"]
        if "0" in c or "1" in c:
            body, code = booking(51 + i, date), c
            break
    assert code, "no code with 0 or 1 in 40 bookings?"
    nik = {"X-NIK": body["nik"]}
    forms = {code.lower(), code.replace("-", ""),
             code.replace("-", "").lower(),
             code[:1] + code[1:].replace("0", "O").replace("1", "I"),
             code[:1] + code[1:].replace("0", "o").replace("1", "l")}
    for form in forms:
        g = http.get("%s/%s" % (BOOK, form), headers=nik)
        assert g.status == 200, (form, g)
        assert g.json()["code"] == code and g.json()["queue_number"] >= 1
    wrong = http.get("%s/%s" % (BOOK, code),
                     headers={"X-NIK": make_nik(99999)})
    unknown = http.get("%s/A-ZZZZ-ZZZZ-ZZZZ" % BOOK, headers=nik)
    assert wrong.status == unknown.status == 404
    assert wrong.body == unknown.body
    d = http.delete("%s/%s" % (BOOK, code),
                    headers={"X-NIK": make_nik(99999)})
    assert d.status == 404, d
    assert http.get("%s/%s" % (BOOK, code),
                    headers=nik).json()["status"] == "booked"


def test_injection_strings_in_valid_fields_are_data(stack, http, clean_log):
    """Names that look like SQL, Lua or Redis commands but are valid names
    are stored verbatim and do nothing else (tables and Redis keys intact)."""
    date = first_open_date()
    names = ["Robert'); DROP TABLE appointment;--",
             "x' OR '1'='1",
             "]] redis.call('FLUSHALL') --[[",
             "*1 $8 FLUSHALL",
             "Siti \"\\\" }{ $1 %s %n",
             "Nur \u00c9l\u00ee \u4e2d\u6587 \U0001F600"]
    codes = {}
    for k, name in enumerate(names):
        r = book(http, booking(60 + k, date, name=name))
        assert r.status == 201, (name, r)
        codes[r.json()["code"]] = name
    out = stack.psql("SELECT code, name FROM appointment")
    stored = dict(l.split("|", 1) for l in out.strip().split("\n"))
    assert stored == codes
    assert stack.redis().exists("dk:epoch") == 1
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == len(names)


# --- WIB day boundary (faketime) ----------------------------------------------

D = datetime.date
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


@pytest.mark.parametrize("utc_now, today", [
    ("2026-12-01 16:59:59", D(2026, 12, 1)),    # 23:59:59 WIB
    ("2026-12-01 17:00:00", D(2026, 12, 2)),    # 00:00:00 WIB, next day
    ("2026-12-01 17:30:00", D(2026, 12, 2)),    # 00:30 WIB (issue's example)
])
def test_booking_window_follows_wib_day_boundary(stack, make_stack, utc_now,
                                                 today):
    """nginx under libfaketime (wall clock frozen at utc_now, monotonic clock
    real): the booking window is tomorrow .. today+14 in WIB. 17:00 UTC is
    midnight WIB, so the earliest bookable date moves there (not at UTC
    midnight). Both ends of the window are checked."""
    # libfaketime by LD_PRELOAD, not the `faketime` wrapper: the wrapper
    # waits for every descendant, and nginx daemonizes (start would hang)
    st = second_nginx(make_stack, stack, env={
        "LD_PRELOAD": LIBFAKETIME, "FAKETIME": utc_now, "TZ": "UTC",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    mark = st.error_log_size()
    http = http_for(st)
    tomorrow = today + datetime.timedelta(days=1)
    last = today + datetime.timedelta(days=14)
    base = 700000 + int(utc_now[-8:].replace(":", "")) * 10
    expect = [
        (today, 422),
        (tomorrow, 201),
        (last, 201),
        (last + datetime.timedelta(days=1), 422),
    ]
    for k, (date, status) in enumerate(expect):
        r = book(http, booking(base + k, date))
        if status == 422:
            assert (r.status, r.error) == (422, "invalid_date"), \
                (utc_now, date, r)
            assert r.json()["field"] == "date"
        else:
            assert r.status == 201, (utc_now, date, r)
    # availability agrees on what is open
    a = http.get("%s?office=mpp&from=%s&to=%s" % (AVAIL, today, tomorrow))
    assert a.status == 200, a
    days = {d["date"]: d for d in a.json()["days"]}
    assert not any(s["open"] for s in days[str(today)]["services"]), days
    assert any(s["open"] for s in days[str(tomorrow)]["services"]), days
    assert_no_alerts(st, mark)


# --- a table of bad inputs ---------------------------------------------------

REMOVE = object()
TODAY = wib_today()
DAY = first_open_date()
# dates of the table are computed at import; the suite runs in minutes


def body(**over):
    b = booking(800, DAY)
    for k, v in over.items():
        if v is REMOVE:
            b.pop(k, None)
        else:
            b[k] = v
    return json.dumps(b).encode()


def raw_body(text):
    return text.encode("utf-8", "surrogatepass") if isinstance(text, str) \
        else text


def chunked(data, size=4096):
    out = b""
    for k in range(0, len(data), size):
        part = data[k:k + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


JSON = {"Content-Type": "application/json"}
V = booking(800, DAY)
BIG = body(pad="x" * 17000)
TOO_LARGE = (413, {"payload_too_large", "body_too_large"}, None)
LARGE_LOG = ("client intended to send too large",)

# (id, method, path, body bytes, headers, (status, {errors}, field), log ok)
CASES = [
    # malformed JSON and wrong shapes
    ("json-truncated", "POST", BOOK, b'{"nik": "1471', JSON,
     (400, {"invalid_json"}, None)),
    ("json-empty", "POST", BOOK, b"", JSON, (400, {"invalid_json"}, None)),
    ("json-array", "POST", BOOK, b"[]", JSON, (400, {"invalid_json"}, None)),
    ("json-null", "POST", BOOK, b"null", JSON, (400, {"invalid_json"}, None)),
    ("json-string", "POST", BOOK, b'"hello"', JSON,
     (400, {"invalid_json"}, None)),
    ("json-trailing-comma", "POST", BOOK, body()[:-1] + b",}", JSON,
     (400, {"invalid_json"}, None)),
    ("json-two-objects", "POST", BOOK, body() + body(), JSON,
     (400, {"invalid_json"}, None)),
    ("json-raw-nul-byte", "POST", BOOK,
     body(name="Warga\x00Uji").replace(b"\\u0000", b"\x00"), JSON,
     (400, {"invalid_json"}, None)),
    ("json-invalid-utf8", "POST", BOOK,
     body(name="WargaXX").replace(b"XX", b"\xff\xfe"), JSON,
     (400, {"invalid_json"}, None)),
    ("json-overlong-utf8", "POST", BOOK,
     body(name="WargaXX").replace(b"XX", b"\xc0\xaf"), JSON,
     (400, {"invalid_json"}, None)),
    # NIK
    ("nik-missing", "POST", BOOK, body(nik=REMOVE), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-null", "POST", BOOK, body(nik=None), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-number", "POST", BOOK, body(nik=1471010101900001), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-array", "POST", BOOK, body(nik=[V["nik"]]), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-huge-number", "POST", BOOK,
     body(nik=0).replace(b'"nik": 0', b'"nik": 1' + b"0" * 400), JSON,
     # jansson cannot hold it: refused as JSON or as NIK, never stored
     (None, {"invalid_json", "invalid_nik"}, None)),
    ("nik-15-digits", "POST", BOOK, body(nik="147101010190001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-17-digits", "POST", BOOK, body(nik="14710101019000011"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-letters", "POST", BOOK, body(nik="14710101019OOO01"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-arabic-digits", "POST", BOOK,
     body(nik="\u0661\u0664\u0667\u0661010101900001"[:16]), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-province-10", "POST", BOOK, body(nik="1071010101900001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-month-13", "POST", BOOK, body(nik="1471010113900001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-day-32", "POST", BOOK, body(nik="1471013201900001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-day-00", "POST", BOOK, body(nik="1471010001900001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-female-day-72", "POST", BOOK, body(nik="1471017201900001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-feb-30", "POST", BOOK, body(nik="1471013002900001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-serial-0000", "POST", BOOK, body(nik="1471010101900000"), JSON,
     (422, {"invalid_nik"}, "nik")),
    ("nik-nul-inside", "POST", BOOK, body(nik="14710101\x0001900001"), JSON,
     (422, {"invalid_nik"}, "nik")),
    # name
    ("name-empty", "POST", BOOK, body(name=""), JSON,
     (422, {"invalid_name"}, "name")),
    ("name-101-chars", "POST", BOOK, body(name="a" * 101), JSON,
     (422, {"invalid_name"}, "name")),
    ("name-number", "POST", BOOK, body(name=12345), JSON,
     (422, {"invalid_name"}, "name")),
    ("name-escaped-nul", "POST", BOOK, body(name="Warga\x00Uji"), JSON,
     (422, {"invalid_name"}, "name")),
    ("name-newline", "POST", BOOK, body(name="Warga\nUji"), JSON,
     (422, {"invalid_name"}, "name")),
    ("name-redis-protocol", "POST", BOOK,
     body(name="\r\n*1\r\n$8\r\nFLUSHALL\r\n"), JSON,
     (422, {"invalid_name"}, "name")),
    ("name-lone-surrogate", "POST", BOOK,
     body(name="Warga XX").replace(b"XX", b"\\ud800"), JSON,
     (None, {"invalid_json", "invalid_name"}, None)),
    # phone
    ("phone-landline", "POST", BOOK, body(phone="0761 123456"), JSON,
     (422, {"invalid_phone"}, "phone")),
    ("phone-landline-e164", "POST", BOOK, body(phone="+62761123456"), JSON,
     (422, {"invalid_phone"}, "phone")),
    ("phone-084", "POST", BOOK, body(phone="08412345678"), JSON,
     (422, {"invalid_phone"}, "phone")),
    ("phone-too-short", "POST", BOOK, body(phone="081234"), JSON,
     (422, {"invalid_phone"}, "phone")),
    ("phone-too-long", "POST", BOOK, body(phone="0812345678901234"), JSON,
     (422, {"invalid_phone"}, "phone")),
    ("phone-foreign", "POST", BOOK, body(phone="+14155550100"), JSON,
     (422, {"invalid_phone"}, "phone")),
    ("phone-number-type", "POST", BOOK, body(phone=81234567890), JSON,
     (422, {"invalid_phone"}, "phone")),
    # service / office, with injection attempts
    ("service-unknown", "POST", BOOK, body(service="paspor"), JSON,
     (422, {"unknown_service"}, "service")),
    ("service-sql", "POST", BOOK, body(service="ktp' OR '1'='1"), JSON,
     (422, {"unknown_service"}, "service")),
    ("service-redis-protocol", "POST", BOOK,
     body(service="ktp\r\n*1\r\n$8\r\nFLUSHALL\r\n"), JSON,
     (422, {"unknown_service"}, "service")),
    ("service-lua", "POST", BOOK,
     body(service="ktp') redis.call('FLUSHALL') --"), JSON,
     (422, {"unknown_service"}, "service")),
    ("service-missing", "POST", BOOK, body(service=REMOVE), JSON,
     (422, {"unknown_service", "invalid_service"}, "service")),
    ("office-unknown", "POST", BOOK, body(office="pekanbaru"), JSON,
     (422, {"unknown_office"}, "office")),
    ("office-hash-tag", "POST", BOOK, body(office="mpp:%s}:day" % DAY), JSON,
     (422, {"unknown_office"}, "office")),
    ("office-number", "POST", BOOK, body(office=1), JSON,
     (422, {"unknown_office", "invalid_office"}, "office")),
    # date
    ("date-today", "POST", BOOK, body(date=str(TODAY)), JSON,
     (422, {"invalid_date"}, "date")),
    ("date-yesterday", "POST", BOOK,
     body(date=str(TODAY - datetime.timedelta(days=1))), JSON,
     (422, {"invalid_date"}, "date")),
    ("date-beyond-window", "POST", BOOK,
     body(date=str(TODAY + datetime.timedelta(days=15))), JSON,
     (422, {"invalid_date"}, "date")),
    ("date-closed-sunday", "POST", BOOK,
     body(date=str(closed_date_in_window())), JSON,
     (422, {"invalid_date"}, "date")),
    ("date-feb-30", "POST", BOOK, body(date="%d-02-30" % TODAY.year), JSON,
     (422, {"invalid_date"}, "date")),
    ("date-dmy", "POST", BOOK, body(date=DAY.strftime("%d-%m-%Y")), JSON,
     (422, {"invalid_date"}, "date")),
    ("date-with-time", "POST", BOOK, body(date="%sT08:00:00+07:00" % DAY),
     JSON, (422, {"invalid_date"}, "date")),
    ("date-number", "POST", BOOK, body(date=20261202), JSON,
     (422, {"invalid_date"}, "date")),
    # size and media type
    ("body-17k-content-length", "POST", BOOK, BIG, JSON, TOO_LARGE,
     LARGE_LOG),
    ("body-17k-chunked", "POST", BOOK, chunked(BIG),
     dict(JSON, **{"Transfer-Encoding": "chunked", "Content-Length": None}),
     TOO_LARGE, LARGE_LOG),
    ("content-type-text", "POST", BOOK, body(), {"Content-Type": "text/plain"},
     (415, {"unsupported_media_type"}, None)),
    ("content-type-missing", "POST", BOOK, body(), {},
     (415, {"unsupported_media_type"}, None)),
    ("content-type-form", "POST", BOOK, body(),
     {"Content-Type": "application/x-www-form-urlencoded"},
     (415, {"unsupported_media_type"}, None)),
    ("content-type-jsonx", "POST", BOOK, body(),
     {"Content-Type": "application/jsonx"},
     (415, {"unsupported_media_type"}, None)),
    # X-NIK on reading and cancelling ({code} is a real booking)
    ("get-x-nik-missing", "GET", BOOK + "/{code}", None, {},
     (422, {"invalid_nik"}, "X-NIK")),
    ("get-x-nik-short", "GET", BOOK + "/{code}", None, {"X-NIK": "123"},
     (422, {"invalid_nik"}, "X-NIK")),
    ("get-x-nik-sql", "GET", BOOK + "/{code}", None,
     {"X-NIK": "1' OR '1'='1"}, (422, {"invalid_nik"}, "X-NIK")),
    ("delete-x-nik-missing", "DELETE", BOOK + "/{code}", None, {},
     (422, {"invalid_nik"}, "X-NIK")),
    ("delete-x-nik-impossible-date", "DELETE", BOOK + "/{code}", None,
     {"X-NIK": "1471013002900001"}, (422, {"invalid_nik"}, "X-NIK")),
    ("delete-wrong-nik", "DELETE", BOOK + "/{code}", None,
     {"X-NIK": make_nik(900)}, (404, {"not_found"}, None)),
    ("get-malformed-code", "GET", BOOK + "/A-XXXX-0000", None,
     {"X-NIK": V["nik"]}, (404, {"not_found"}, None)),
    ("get-sql-in-code", "GET", BOOK + "/A-0000%27%20OR%201=1--", None,
     {"X-NIK": V["nik"]}, (404, {"not_found"}, None)),
]


def test_bad_input_table_is_large_enough():
    assert len(CASES) >= 40


@pytest.fixture
def booked(stack, http):
    """One real appointment (citizen 801) to aim the GET/DELETE cases at."""
    b = booking(801, DAY)
    r = book(http, b)
    assert r.status == 201, r
    return r.json()["code"]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_its_contract_answer_and_stores_nothing(
        stack, booked, case):
    name, method, path, data, headers, (status, errors, field) = case[:6]
    log_ok = case[6] if len(case) > 6 else ()
    path = path.replace("{code}", booked)
    before_rows = stack.psql("SELECT code, status, queue_number "
                             "FROM appointment ORDER BY code")
    before_redis = redis_snapshot(stack)
    mark = stack.error_log_size()

    raw = raw_request(stack.http_port,
                      request_bytes(method, path, data, headers,
                                    port=stack.http_port))
    r = parse_response(raw)
    assert r.status is not None, "no answer (connection closed)"
    if status is not None:
        assert r.status == status, r
    else:
        assert r.status in (400, 422), r
    assert r.headers.get("content-type", "").startswith("application/json"), r
    assert r.error in errors, r
    if field:
        assert r.json().get("field") == field, r
    assert r.json().get("message"), r

    time.sleep(0.2)            # let anything asynchronous land (a crash)
    assert stack.psql("SELECT code, status, queue_number "
                      "FROM appointment ORDER BY code") == before_rows
    assert redis_snapshot(stack) == before_redis
    bad = new_errorish(stack, mark, expected=log_ok)
    assert not bad, "".join(bad)
    assert_no_crashes(stack, mark)


# --- client aborts -----------------------------------------------------------

def _abort_burst(st, date, first, n):
    """n bookings (citizens first, first + 1 ...) whose clients vanish as
    soon as they are sent: a FIN for every other one, a reset for the rest.
    Returns the NIKs of the FIN ones: nginx reads those for sure (a reset
    may reach nginx before it has read its request, which is then lost)."""
    for i in range(n):
        data = request_bytes("POST", BOOK, booking(first + i, date),
                             port=st.http_port)
        send_and_vanish(st.http_port, data, rst=bool(i % 2))
    return {make_nik(first + i) for i in range(0, n, 2)}


def assert_reached_redis(st, date, niks, what):
    """book.lua admitted each NIK (its nik hash names it): the booking went
    on to Redis without its client."""
    _, _, admitted, _ = redis_day(st, "mpp", date)
    missing = sorted(niks - set(admitted))
    assert not missing, "%s %d of %d bookings never reached Redis: %s" % (
        what, len(missing), len(niks), missing[:5])


def assert_reached_postgres(st, date, niks, what):
    """Each NIK's row is committed: the booking went on to PostgreSQL and
    to its end without its client."""
    stored = {r[1] for r in rows(st, date)}
    missing = sorted(niks - stored)
    assert not missing, "%s %d of %d bookings have no row: %s" % (
        what, len(missing), len(niks), missing[:5])


@pytest.mark.parametrize("sleep", [0.3, 1.0],
                         ids=["redis-slow-within-timeout",
                              "redis-slow-beyond-timeout"])
def test_client_abort_while_redis_slow(stack, sleep):
    """Clients send a booking and vanish (FIN or RST) while Redis is busy
    in DEBUG SLEEP. No worker crashes, no [alert]. Within the Redis timeout
    each booking nginx read went on without its client: book.lua admitted
    it when Redis woke up and its row is committed. Beyond it (the EVALSHA
    was sent, its result unknown) each admission book.lua made when Redis
    woke up is settled: given back, as no INSERT was sent. Either way Redis
    agrees with the rows exactly, within seconds, never by reconcile."""
    mark = stack.error_log_size()
    workers = stack.worker_pids()
    date = first_open_date()
    scripts = stack.command_calls("evalsha")
    r = stack.redis()
    sleeper = threading.Thread(
        target=lambda: r.execute_command("DEBUG", "SLEEP", str(sleep)))
    sleeper.start()
    time.sleep(0.05)
    read_for_sure = _abort_burst(stack, date, 6000, 30)
    sleeper.join()
    r.close()
    time.sleep(0.8 + sleep)
    wait_until(lambda: health_ok(stack), 10, what="health after the aborts")
    assert stack.command_calls("evalsha") > scripts
    if sleep < 0.5:
        assert_reached_redis(stack, date, read_for_sure,
                             "after client aborts:")
        assert_reached_postgres(stack, date, read_for_sure,
                                "after client aborts:")
        assert_redis_agrees_with_rows(stack, "mpp", date,
                                      what="after client aborts:")
    else:
        def settled():
            day, adm, _, _ = redis_day(stack, "mpp", date)
            return not adm and int(day.get("n:ktp", 0)) == 0
        wait_until(settled, 10, what="the timed-out admissions to settle")
        assert rows(stack, date) == []
        assert stack.command_calls("evalsha") > scripts + 1
    assert stack.worker_pids() == workers
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)
    # the next citizen is served normally
    assert book(http_for(stack), booking(6100, date)).status == 201


def test_client_abort_while_postgres_slow(stack):
    """Clients vanish while their INSERT waits on a frozen PostgreSQL (thawed
    within the 2 s timeout): each booking completes (or gives its slot
    back), Redis agrees with the rows, no crash, no [alert]. Each booking
    nginx read went on without its client: admitted in Redis, and its row
    committed once PostgreSQL was thawed."""
    mark = stack.error_log_size()
    workers = stack.worker_pids()
    date = first_open_date()
    http = http_for(stack)
    assert book(http, booking(7000, date)).status == 201
    stack.freeze_postgres()
    try:
        read_for_sure = _abort_burst(stack, date, 7001, 20)
        time.sleep(0.8)
    finally:
        stack.thaw_postgres()
    time.sleep(1.5)
    assert_reached_redis(stack, date, read_for_sure,
                         "after aborts on a slow PostgreSQL:")
    assert_reached_postgres(stack, date, read_for_sure,
                            "after aborts on a slow PostgreSQL:")
    assert_redis_agrees_with_rows(stack, "mpp", date,
                                  what="after aborts on a slow PostgreSQL:")
    assert stack.worker_pids() == workers
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)
