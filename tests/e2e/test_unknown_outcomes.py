"""Issue 11, unknown outcomes: a booking whose answer was lost (PostgreSQL or
Redis hung past the module's timeout) is answered 503 at once and settled
within seconds, and its citizen learns the truth by retrying with the same
Idempotency-Key: the 201 of the row that committed, or a fresh decision when
none did. No row exists that its citizen cannot learn about; no slot stays
taken without a row.
"""

import time

from conftest import assert_no_alerts, assert_no_crashes, wait_until
from helpers import burst, http_for, request_bytes
from appointments_helpers import (BOOK, assert_redis_agrees_with_rows,
                                  availability, booking, first_open_date,
                                  redis_day, rows, set_quota)


SETTLED = 'dukcapil_bookings_settled_total{as="%s"}'


def keyed(n, first, date):
    """n bookings, each with an Idempotency-Key of its own."""
    return [(booking(first + i, date), "unknown-outcome-%06d" % (first + i))
            for i in range(n)]


def post_keyed(st, bodies, timeout=15):
    """POST each (body, key) at once (key None: none); the answers."""
    targets = [(st.http_port,
                request_bytes("POST", BOOK, body,
                              {"Idempotency-Key": key} if key else None,
                              port=st.http_port))
               for body, key in bodies]
    return burst(targets, timeout)


def retry_until_settled(http, body, key, within):
    """Retry with the key until the answer is no longer "in progress"."""
    deadline = time.monotonic() + within
    while True:
        r = http.post(BOOK, body, headers={"Idempotency-Key": key})
        if (r.status, r.error) != (409, "idempotency_in_progress"):
            return r
        assert time.monotonic() < deadline, \
            "still in progress after %d s: %r" % (within, r)
        time.sleep(0.25)


def metric(http, name):
    for line in http.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.rsplit(" ", 1)[1])
    raise AssertionError("no metric " + name)


def test_postgres_frozen_keyed_bookings_learn_the_truth_by_retrying(stack):
    """PostgreSQL frozen (SIGSTOP of the server and its backends) while ten
    keyed bookings wait on their INSERTs: each is 503 within the timeout.
    The INSERTs that run when it thaws carry the module's deadline, so they
    insert nothing; each booking is settled, its slot given back, and its
    key let go. Within 30 s of the thaw every retry with its key is decided
    afresh and booked: rows = 201s, code for code, and Redis agrees."""
    mark = stack.error_log_size()
    date = first_open_date()
    set_quota(stack, "mpp", date, "ktp", 100)
    http = http_for(stack)
    assert http.post(BOOK, booking(4000, date)).status == 201   # pool warm
    bodies = keyed(10, 4001, date)
    released = metric(http, SETTLED % "released")
    committed = metric(http, SETTLED % "committed")

    stack.freeze_postgres()
    try:
        start = time.monotonic()
        answers = post_keyed(stack, bodies)
        elapsed = time.monotonic() - start
        time.sleep(0.5)
    finally:
        stack.thaw_postgres()
    for a in answers:
        assert not isinstance(a, BaseException), a
        assert (a.status, a.error) == (503, "unavailable"), a
    assert elapsed < 4.0, "503s took %.1f s" % elapsed

    final = [retry_until_settled(http, body, key, 30)
             for body, key in bodies]
    for (body, _), r in zip(bodies, final):
        assert r.status == 201, r
    codes = {r.json()["code"] for r in final}
    stored = {code: nik for code, nik, *_ in rows(stack, date)}
    assert codes <= set(stored), "a 201 without its row"
    assert len(stored) == len(codes) + 1, "rows that no 201 told of"
    for (body, _), r in zip(bodies, final):
        assert stored[r.json()["code"]] == body["nik"]
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 11

    # and a retry now hears the same 201 again
    again = http.post(BOOK, bodies[0][0],
                      headers={"Idempotency-Key": bodies[0][1]})
    assert again.status == 201 and again.json() == final[0].json()
    # the INSERTs sent before the freeze were settled: none had committed
    assert metric(http, SETTLED % "released") > released
    assert metric(http, SETTLED % "committed") == committed
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)


def test_an_insert_that_commits_after_the_timeout_is_the_keys_answer(stack):
    """An INSERT that passed its deadline check and then waited (on another
    transaction's row of the same NIK and date) past the module's timeout:
    the citizen hears 503, the row commits once that transaction rolls
    back, and the settled booking's 201, with the code of that row, is what
    a retry with the key hears. A retry meanwhile hears "in progress"."""
    mark = stack.error_log_size()
    date = first_open_date()
    http = http_for(stack)
    body, key = keyed(1, 4100, date)[0]

    # another transaction holds an active appointment of the same NIK/date
    blocker = stack.connect()
    blocker.autocommit = False
    cur = blocker.cursor()
    cur.execute(
        "INSERT INTO appointment (code, nik, name, phone, office, service,"
        "                         date, queue_number)"
        " VALUES ('A-ZZZZ-ZZZZ-ZZZZ', %s, 'Warga Penghalang', '+6281200000001',"
        "         'mpp', 'ktp', %s, 999)", (body["nik"], str(date)))
    try:
        r = http.post(BOOK, body, headers={"Idempotency-Key": key},
                      timeout=10)
        assert (r.status, r.error) == (503, "unavailable"), r
        assert r.elapsed < 3.5, r.elapsed
        busy = http.post(BOOK, body, headers={"Idempotency-Key": key})
        assert (busy.status, busy.error) == \
            (409, "idempotency_in_progress"), busy
        # when to come again: the first answer comes within the timeouts
        assert busy.headers.get("retry-after") == "1", busy.headers
    finally:
        blocker.rollback()
        blocker.close()

    final = retry_until_settled(http, body, key, 30)
    assert final.status == 201, final
    code = final.json()["code"]
    assert [(c, n) for c, n, *_ in rows(stack, date)] == [(code, body["nik"])]
    # the citizen who heard 503 is told the code all the same (issue 13)
    assert stack.psql("SELECT count(*) FROM notification"
                      " WHERE kind = 'appointment_booked'"
                      "   AND params->>'code' = '%s'" % code).strip() == "1"
    assert final.json()["queue_number"] == rows(stack, date)[0][3]
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 1
    assert metric(http, SETTLED % "committed") >= 1
    assert any("settled: committed" in l for l in stack.error_log_lines(mark))
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)


def test_redis_paused_admissions_are_given_back_within_seconds(stack):
    """Redis pauses its writes (CLIENT PAUSE 1500 WRITE) while ten bookings
    are decided: each is 503 after the Redis timeout, and book.lua admits
    them all when the pause ends. The module, which sent no INSERT for
    them, gives each admission back: within 30 s availability's `booked`
    equals the committed rows. Five keyed bookings of the same pause, whose
    claims of their keys rode in the same calls and were lost too, are
    booked by a retry with their keys within 30 s."""
    mark = stack.error_log_size()
    date = first_open_date()
    set_quota(stack, "mpp", date, "ktp", 50)
    http = http_for(stack)
    assert http.post(BOOK, booking(4200, date)).status == 201
    plain = [(booking(4201 + i, date), None) for i in range(10)]
    bodies = keyed(5, 4211, date)
    released = metric(http, SETTLED % "released")

    r = stack.redis()
    r.execute_command("CLIENT", "PAUSE", "1500", "WRITE")
    r.close()
    answers = post_keyed(stack, plain + bodies)
    for a in answers:
        assert not isinstance(a, BaseException), a
        assert (a.status, a.error) == (503, "unavailable"), a

    def agrees():
        return availability(http, date)["booked"] == len(rows(stack, date))
    time.sleep(1.5)
    wait_until(agrees, 30, what="availability's booked to equal the rows")
    assert availability(http, date)["booked"] == 1
    _, adm, _, _ = redis_day(stack, "mpp", date)
    assert list(adm) == [rows(stack, date)[0][0]]
    assert metric(http, SETTLED % "released") >= released + 10
    # the keyed ones too: their keys' claims ride in book.lua's call
    assert sum("outcome unknown, settling" in l
               for l in stack.error_log_lines(mark)) == 15

    final = [retry_until_settled(http, body, key, 30)
             for body, key in bodies]
    assert [f.status for f in final] == [201] * 5, final
    assert assert_redis_agrees_with_rows(stack, "mpp", date) == 6
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)
