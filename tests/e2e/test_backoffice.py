"""Issue 15, the back office end to end: the statistics of the offices'
days and of the deliveries (GET /api/v1/ops/stats, JSON and CSV) checked
against the rows that make them, the operators' worklist of applications
(filters, keyset pages), one application with its history, a rejection
that needs its reason and tells it to the citizen, and the delivery
budget of the current period with its batches (GET /api/v1/ops/delivery).

Appointments of past days, with known check-in and call times, and the
delivery's batches and courier events are written straight into
PostgreSQL, as test_counter.py and test_ops.py do."""

import base64
import csv
import datetime
import io
import json
import os
import statistics

import pytest

from helpers import http_for, wib_today
from applications_helpers import (OPS_STATUS, app_row, deliver, drive,
                                  history_rows, move, q, random_code, submit)
from appointments_helpers import make_nik, make_phone

STATS = "/api/v1/ops/stats"
WORKLIST = "/api/v1/ops/applications"
ONE = "/api/v1/ops/applications/%s"
DELIVERY = "/api/v1/ops/delivery"

# the test stack's services (stack/nginx.py): their default quotas
DEFAULT_QUOTA = {"ktp": 150, "kk": 100, "akta_lahir": 80, "akta_mati": 30,
                 "kia": 60, "pindah": 40, "ambil": 200}
STACK_OFFICES = ["binawidya", "mpp", "rumbai", "sukajadi", "tenayan_raya"]


def masked(nik):
    return nik[:4] + "*" * 8 + nik[-4:]


def at(day, hh, mm, ss=0):
    """A WIB time of `day`, as PostgreSQL reads it."""
    return "'%sT%02d:%02d:%02d+07:00'" % (day, hh, mm, ss)


def visit(st, i, day, status, office="mpp", service="ktp", checked=None,
          wait=None, calls=1):
    """An appointment of `day` that ended in `status`; checked: (hh, mm) of
    its check-in, wait: seconds from it to its first call."""
    cols = {"code": q(random_code()), "nik": q(make_nik(i)),
            "name": q("Warga Statistik %d" % i),
            "phone": q("+62" + make_phone(i)[1:]), "office": q(office),
            "service": q(service), "date": q(day), "queue_number": str(i),
            "status": q(status)}
    if status in ("cancelled", "cancelled_by_office"):
        cols["cancelled_at"] = "now()"
    if status == "cancelled_by_office":
        cols["cancel_reason"] = q("Kantor tutup")
    if checked:
        cols["checked_in_at"] = at(day, *checked)
    if wait is not None:
        cols["calls"] = str(calls)
        cols["counter"] = q("1")
        cols["called_at"] = "%s::timestamptz + interval '%d seconds'" % (
            cols["checked_in_at"], wait)
    if status == "served" or (status == "no_show" and wait is not None):
        cols["finished_at"] = "%s::timestamptz + interval '1 hour'" % \
            cols["checked_in_at"]
        cols["finished_by"] = q("petugas")
    st.psql("INSERT INTO appointment (%s) VALUES (%s)"
            % (", ".join(cols), ", ".join(cols.values())))


def invalid(field):
    """The error of a 422 on field (reply.c): invalid_<field>, or for an
    office unknown_office."""
    return ("unknown_%s" if field == "office" else "invalid_%s") % field


def percentile(values, p):
    """percentile_cont: linear interpolation between the closest ranks."""
    v = sorted(values)
    pos = p * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def working_day(before):
    """A past date, `before` days or more ago, that is not a Sunday (the
    stack's closed weekday)."""
    day = wib_today() - datetime.timedelta(days=before)
    while day.weekday() == 6:
        day -= datetime.timedelta(days=1)
    return day


# --- statistics ----------------------------------------------------------------

def test_stats_are_the_rows_that_made_them(stack, http, clean_log):
    """Three days at two offices, with a quota override and a closure:
    every figure of every office and day, the waits' median and 90th
    percentile, the deliveries' days; the CSV says the same."""
    d1 = working_day(12)
    d2 = d1 + datetime.timedelta(days=1)
    d3 = d1 + datetime.timedelta(days=2)

    # d1 at mpp: 5 served (waits 60..900 s), 1 absent after calls, 1
    # checked in never called, 1 scheduler's no-show, 2 cancellations
    waits = [60, 120, 300, 480, 900]
    for n, w in enumerate(waits):
        visit(stack, 100 + n, d1, "served", checked=(8, n), wait=w)
    visit(stack, 110, d1, "no_show", checked=(9, 0), wait=240, calls=3)
    visit(stack, 111, d1, "checked_in", checked=(9, 30))
    visit(stack, 112, d1, "no_show")
    visit(stack, 113, d1, "cancelled")
    visit(stack, 114, d1, "cancelled_by_office")
    # d2 at mpp: one served (wait 30 s), one booked; at sukajadi: one served
    visit(stack, 120, d2, "served", checked=(8, 0), wait=30)
    visit(stack, 121, d2, "booked")
    visit(stack, 122, d2, "served", office="sukajadi", checked=(10, 0),
          wait=600)
    # the quota of ktp at mpp on d1 lowered to 10; sukajadi closed on d3
    stack.psql("INSERT INTO quota_override (office, service, date, quota,"
               " set_by) VALUES ('mpp', 'ktp', %s, 10, 'petugas')" % q(d1))
    stack.psql("INSERT INTO calendar_closure (date, office, reason, source,"
               " set_by) VALUES (%s, 'sukajadi', 'Rapat kantor', 'operator',"
               " 'petugas')" % q(d3))

    r = http.ops.get("%s?from=%s&to=%s" % (STATS, d1, d3))
    assert r.status == 200, r
    body = r.json()
    assert (body["from"], body["to"]) == (str(d1), str(d3))

    full = sum(DEFAULT_QUOTA.values())
    day_quota = {"default": full, (str(d1), "mpp"): full - 150 + 10,
                 (str(d3), "sukajadi"): 0}
    expect = {}
    for d in (d1, d2, d3):
        for office in STACK_OFFICES:
            quota = day_quota.get((str(d), office), day_quota["default"])
            if d.weekday() == 6:
                quota = 0
            expect[(str(d), office)] = {
                "date": str(d), "office": office, "booked": 0,
                "checked_in": 0, "served": 0, "no_show": 0, "cancelled": 0,
                "quota": quota, "quota_filled": 0.0 if quota else None,
                "wait_median_seconds": None, "wait_p90_seconds": None}

    def counts(key, booked, checked_in, served, no_show, cancelled, w):
        e = expect[key]
        e.update(booked=booked, checked_in=checked_in, served=served,
                 no_show=no_show, cancelled=cancelled)
        e["quota_filled"] = (round((booked - cancelled) / e["quota"], 4)
                             if e["quota"] else None)
        if w:
            e["wait_median_seconds"] = round(statistics.median(w), 1)
            e["wait_p90_seconds"] = round(percentile(w, 0.9), 1)

    counts((str(d1), "mpp"), 10, 7, 5, 2, 2, waits + [240])
    counts((str(d2), "mpp"), 2, 1, 1, 0, 0, [30])
    counts((str(d2), "sukajadi"), 1, 1, 1, 0, 0, [600])

    got = {(d["date"], d["office"]): d for d in body["days"]}
    assert len(body["days"]) == len(got) == 3 * len(STACK_OFFICES)
    assert [(d["date"], d["office"]) for d in body["days"]] == sorted(got)
    for key, e in expect.items():
        assert got[key] == pytest.approx(e), key
    # the p90 of [60, 120, 240, 300, 480, 900] is interpolated: 690 s
    assert got[(str(d1), "mpp")]["wait_p90_seconds"] == 690.0
    assert got[(str(d1), "mpp")]["wait_median_seconds"] == 270.0

    # the CSV: the same rows, the same figures
    for ask in ({"path": "%s?from=%s&to=%s&format=csv" % (STATS, d1, d3)},
                {"path": "%s?from=%s&to=%s" % (STATS, d1, d3),
                 "headers": {"Accept": "text/csv"}}):
        c = http.ops.get(ask["path"], headers=ask.get("headers"))
        assert c.status == 200, c
        assert c.headers["content-type"].startswith("text/csv"), c
        assert c.headers["content-disposition"] == (
            'attachment; filename="statistik-%s_%s.csv"' % (d1, d3)), c
        rows = list(csv.DictReader(io.StringIO(c.text)))
        assert len(rows) == len(body["days"])
        for row, day in zip(rows, body["days"]):
            assert set(row) == set(day)
            for k, v in day.items():
                if v is None:
                    assert row[k] == "", (k, row)
                elif isinstance(v, str):
                    assert row[k] == v, (k, row)
                else:
                    assert float(row[k]) == pytest.approx(v), (k, row)

    # one office only
    r = http.ops.get("%s?office=sukajadi&from=%s&to=%s" % (STATS, d1, d3))
    assert [(d["date"], d["office"]) for d in r.json()["days"]] == \
        [(str(d), "sukajadi") for d in (d1, d2, d3)], r
    c = http.ops.get("%s?office=sukajadi&from=%s&to=%s&format=csv"
                     % (STATS, d1, d3))
    assert 'filename="statistik-sukajadi-%s_%s.csv"' % (d1, d3) in \
        c.headers["content-disposition"], c


def test_stats_of_the_deliveries_are_sums_over_their_rows(stack, http,
                                                         clean_log):
    """Items batched per night, courier events per WIB day, and the budget
    of the current period."""
    d1 = wib_today() - datetime.timedelta(days=3)
    d2 = d1 + datetime.timedelta(days=1)
    _, deliveries = batches(stack, http, [(d1, 3), (d1, 2), (d2, 1)])
    imp = stack.psql("INSERT INTO delivery_import (file_name, sha256)"
                     " VALUES ('hasil.csv', repeat('a', 64)) RETURNING id"
                     ).split()[0]
    events = [(deliveries[0], "delivered", d2), (deliveries[1], "failed", d2),
              (deliveries[1], "returned", d2), (deliveries[2], "delivered",
                                                d2),
              (deliveries[3], "delivered", d1 + datetime.timedelta(days=2))]
    for n, (dv, status, day) in enumerate(events):
        stack.psql("INSERT INTO delivery_event (delivery_id, import_id, line,"
                   " status, at, resi) VALUES (%s, %s, %d, %s, %s, 'RESI%d')"
                   % (dv, imp, n + 2, q(status), at(day, 23, 30), n))
    r = http.ops.get("%s?from=%s&to=%s" % (STATS, d1, d2))
    assert r.status == 200, r
    assert r.json()["deliveries"] == [
        {"date": str(d1), "batched": 5, "delivered": 0, "failed": 0,
         "returned": 0},
        {"date": str(d2), "batched": 1, "delivered": 2, "failed": 1,
         "returned": 1}], r
    today = wib_today()
    assert r.json()["budget"] == {
        "period": {"from": str(today - datetime.timedelta(days=40)),
                   "to": str(today + datetime.timedelta(days=40))},
        "budget": 1000, "used": 6, "pending": 0, "left": 994}, r


def test_stats_refuse_a_bad_range(stack, http, clean_log):
    """from after to, more than 92 days, a malformed date, an unknown
    office or format: 422 with the field; 92 days is fine; no range: the
    last 30 days up to today."""
    today = wib_today()
    for query, field in (("from=2026-03-10&to=2026-03-01", "from"),
                         ("from=2026-01-01&to=2026-04-03", "to"),
                         ("from=2026-13-01&to=2026-04-02", "from"),
                         ("from=2026-01-01&to=kemarin", "to"),
                         ("office=jakarta", "office"),
                         ("format=xlsx", "format")):
        r = http.ops.get("%s?%s" % (STATS, query))
        assert (r.status, r.error, r.field) == (422, invalid(field), field), \
            (query, r)
    r = http.ops.get("%s?from=2026-01-01&to=2026-04-02" % STATS)
    assert r.status == 200 and len(r.json()["deliveries"]) == 92, r
    r = http.ops.get(STATS)
    assert r.status == 200, r
    assert (r.json()["from"], r.json()["to"]) == (
        str(today - datetime.timedelta(days=29)), str(today))
    assert len(r.json()["deliveries"]) == 30


# --- the worklist ------------------------------------------------------------

def test_worklist_filters_and_pages_without_gaps_or_duplicates(
        stack, http, clean_log):
    """23 applications: by status and office, pages of 5 in id order, every
    application once; the NIK masked; a bad cursor or limit is 422."""
    made = []
    for i in range(23):
        method = "pickup" if i % 3 == 0 else "post"
        kw = {"office": "sukajadi"} if method == "pickup" else {}
        code, nik = submit(http, 300 + i, method, **kw)
        made.append((code, nik, method))
    for code, _, _ in made[::4]:
        drive(http.ops, code, ["verified"])

    def walk(query, limit):
        seen, cursor, pages = [], None, 0
        while True:
            url = "%s?limit=%d%s%s" % (WORKLIST, limit, query,
                                       "&cursor=" + cursor if cursor else "")
            r = http.ops.get(url)
            assert r.status == 200, r
            page = r.json()["applications"]
            assert len(page) <= limit
            seen += page
            pages += 1
            cursor = r.json()["next_cursor"]
            if cursor is None:
                return seen, pages
            assert page, r

    every, pages = walk("", 5)
    assert [a["code"] for a in every] == [c for c, _, _ in made]
    assert pages == 5
    first = every[0]
    assert first["nik_masked"] == masked(made[0][1])
    assert made[0][1] not in json.dumps(every)
    assert set(first) == {"code", "service", "service_name", "status", "name",
                          "delivery_method", "office", "nik_masked",
                          "submitted_at", "updated_at"}
    assert (first["office"], first["delivery_method"]) == ("sukajadi",
                                                           "pickup")

    verified, _ = walk("&status=verified", 2)
    assert [a["code"] for a in verified] == [c for c, _, _ in made[::4]]
    assert {a["status"] for a in verified} == {"verified"}

    at_sukajadi, _ = walk("&office=sukajadi", 3)
    assert [a["code"] for a in at_sukajadi] == \
        [c for c, _, m in made if m == "pickup"]

    both, _ = walk("&office=sukajadi&status=verified", 100)
    assert [a["code"] for a in both] == \
        [c for c, _, m in made[::4] if m == "pickup"]

    r = http.ops.get(WORKLIST)
    assert len(r.json()["applications"]) == 23
    assert r.json()["next_cursor"] is None
    for query, field in (("limit=0", "limit"), ("limit=101", "limit"),
                         ("limit=abc", "limit"), ("cursor=%%%%", "cursor"),
                         ("cursor=YWJj", "cursor"), ("status=lost", "status"),
                         ("office=MPP!", "office")):
        r = http.ops.get("%s?%s" % (WORKLIST, query))
        assert (r.status, r.error, r.field) == (422, invalid(field), field), \
            (query, r)


def test_a_cursor_beyond_any_id_is_422_not_503(stack, http, clean_log):
    """A cursor naming an id bigint cannot hold (one above its maximum, or
    more digits) is refused as any bad cursor, before PostgreSQL is asked;
    the largest bigint, 19 digits, is a cursor like any other (after it,
    an empty page)."""
    def cursor(digits):
        return base64.urlsafe_b64encode(digits.encode()).decode().rstrip("=")

    for digits in ("9223372036854775808", "9999999999999999999",
                   "99999999999999999999", "18446744073709551616"):
        r = http.ops.get("%s?cursor=%s" % (WORKLIST, cursor(digits)))
        assert (r.status, r.error, r.field) == \
            (422, invalid("cursor"), "cursor"), (digits, r)
    for digits in ("9223372036854775807", "0000000000000000042"):
        r = http.ops.get("%s?cursor=%s" % (WORKLIST, cursor(digits)))
        assert (r.status, r.json()["applications"],
                r.json()["next_cursor"]) == (200, [], None), (digits, r)


def test_one_application_for_the_operator(stack, http, clean_log):
    """The address in full, the history with its actors and notes, the NIK
    masked; an unknown code is 404."""
    code, nik = submit(http, 400, "post")
    drive(http.ops, code, ["verified"])
    r = http.ops.get(ONE % code)
    assert r.status == 200, r
    a = r.json()
    assert a["code"] == code and a["status"] == "verified"
    assert a["nik_masked"] == masked(nik) and nik not in r.text
    assert a["address"]["street"] == "Jl. HR. Soebrantas No. 45"
    assert a["address"]["postal_code"] == "28293"
    assert [(h["from_status"], h["status"], h["actor"])
            for h in a["history"]] == [
        (f, t, actor) for f, t, actor, _ in history_rows(stack, code)]
    assert a["history"][-1]["actor"] == stack.ops_user
    for wrong in ("P-0000-0000-0000", "bukan-kode"):
        r = http.ops.get(ONE % wrong)
        assert (r.status, r.error) == (404, "not_found"), r


def test_a_rejection_needs_its_reason_and_tells_it(stack, http, clean_log):
    """rejected without a note (none, empty, blank, null): 422 field note
    and nothing
    changed; with a note: rejected, and the citizen's notification carries
    the note as the reason."""
    code, _ = submit(http, 500, "post")
    before = app_row(stack, code)
    for body in ({"status": "rejected"}, {"status": "rejected", "note": ""},
                 {"status": "rejected", "note": "   "},
                 {"status": "rejected", "note": None}):
        r = http.ops.post(OPS_STATUS % code, body)
        assert (r.status, r.error, r.field) == (422, "invalid_note",
                                                 "note"), r
    assert app_row(stack, code) == before
    assert len(history_rows(stack, code)) == 1
    reason = "Foto KTP tidak terbaca; silakan unggah ulang."
    r = move(http.ops, code, "rejected", reason)
    assert (r.status, r.json()["status"]) == (200, "rejected"), r
    told = stack.psql("SELECT params->>'reason' FROM notification"
                      " WHERE kind = 'application_rejected' AND params->>"
                      "'code' = %s" % q(code)).strip()
    assert told == reason
    assert history_rows(stack, code)[-1][3] == reason


# --- the delivery budget ------------------------------------------------------

def batches(st, http, nights):
    """Post applications batched by a delivery-batch run: one batch per
    (night, items). Returns (batch ids, delivery ids)."""
    today = wib_today()
    st.psql("INSERT INTO delivery_period (starts, ends, amount) VALUES"
            " (%s::date - 40, %s::date + 40, 1000)" % (q(today), q(today)))
    run = st.psql("INSERT INTO scheduler_run (job, reason, outcome,"
                  " finished_at, host, pid) VALUES ('delivery-batch', 'once',"
                  " 'ok', now(), 'uji', 1) RETURNING id").split()[0]
    ids, deliveries, i = [], [], 600
    for seq, (night, items) in enumerate(nights, 1):
        bid = st.psql(
            "INSERT INTO delivery_batch (code, run_id, night, kecamatan_code,"
            " seq, budget_period, item_count, manifest_written_at) VALUES"
            " (%s, %s, %s, '14.71.08', %d, 'uji', %d, %s) RETURNING id"
            % (q("%s-140800-%03d" % (night.strftime("%Y%m%d"), seq)), run,
               q(night), seq, items, "now()" if seq % 2 else "NULL")
        ).split()[0]
        ids.append(int(bid))
        for line in range(1, items + 1):
            code, _ = submit(http, i, "post")
            i += 1
            drive(http.ops, code, ["verified", "processing", "completed"])
            deliver(st, code, [("batched", None)])
            dv = st.psql("INSERT INTO delivery (application_id, batch_id,"
                         " line) SELECT id, %s, %d FROM application WHERE"
                         " code = %s RETURNING id" % (bid, line, q(code))
                         ).split()[0]
            deliveries.append(int(dv))
    return ids, deliveries


def test_delivery_budget_and_batches_are_sums_over_the_rows(stack, http,
                                                            clean_log):
    """The period holding today: its amount, used = the items of its
    batches, pending = post applications not yet batched, left; each batch
    with its manifest's state and its deliveries by status."""
    night = wib_today() - datetime.timedelta(days=2)
    ids, deliveries = batches(stack, http, [(night, 2),
                                            (night + datetime.timedelta(1),
                                             3)])
    stack.psql("UPDATE delivery SET status = 'delivered' WHERE id = %d"
               % deliveries[0])
    submit(http, 700, "post")           # accepted, not yet batched
    r = http.ops.get(DELIVERY)
    assert r.status == 200, r
    d = r.json()
    today = wib_today()
    assert d["period"] == {"from": str(today - datetime.timedelta(40)),
                           "to": str(today + datetime.timedelta(40))}
    assert (d["budget"], d["used"], d["pending"], d["left"]) == \
        (1000, 5, 1, 994), d
    assert d["batch_count"] == 2
    assert [b["id"] for b in d["batches"]] == list(reversed(ids))
    assert sum(b["item_count"] for b in d["batches"]) == d["used"]
    assert sum(b["cost"] for b in d["batches"]) == d["used"]
    newest, oldest = d["batches"]
    assert newest["manifest"] == {"status": "pending", "written_at": None}
    assert oldest["manifest"]["status"] == "written"
    assert oldest["deliveries"] == {"batched": 1, "in_transit": 0,
                                    "delivered": 1, "returned": 0}
    assert newest["deliveries"]["batched"] == 3
    assert newest["kecamatan"] == "14.71.08"


def test_delivery_without_a_period_knows_no_budget(stack, http, clean_log):
    r = http.ops.get(DELIVERY)
    assert (r.status, r.json()) == (200, {
        "period": None, "budget": None, "used": None, "pending": None,
        "left": None, "batch_count": 0, "batches": []}), r


# --- who may read them ---------------------------------------------------------

@pytest.mark.parametrize("path", [STATS, WORKLIST, ONE % "P-0000-0000-0000",
                                  DELIVERY, STATS + "?format=csv"])
def test_the_back_office_needs_an_operator(stack, path, clean_log):
    anonymous = http_for(stack)
    r = anonymous.get(path)
    assert r.status == 401, r
    wrong = anonymous.with_auth(stack.ops_user, "bukan-sandinya")
    assert wrong.get(path).status == 401


@pytest.mark.parametrize("endpoint", ["ops_applications", "ops_application",
                                      "ops_delivery", "ops_stats"])
def test_a_back_office_endpoint_without_authentication_fails_nginx_t(
        make_stack, endpoint):
    """Where no auth_basic applies, nginx -t refuses the endpoint, naming
    it; behind auth_basic it is accepted."""
    st = make_stack(start=False)
    line = "location = /terbuka { dukcapil_endpoint %s; }" % endpoint
    rc, out, _ = st.nginx_test(st.render_nginx_conf(
        extra_server="        " + line, redis_auth=False),
        name="open-backoffice.conf")
    assert rc != 0 and "[emerg]" in out and endpoint in out, out
    guarded = line.replace("{ ", '{ auth_basic "Petugas"; '
                           "auth_basic_user_file %s; " % st.htpasswd)
    rc, out, _ = st.nginx_test(st.render_nginx_conf(
        extra_server="        " + guarded, redis_auth=False),
        name="guarded-backoffice.conf")
    assert rc == 0, out


def test_the_back_office_under_asan(make_stack):
    """Every back-office read (pages, one application, the budget, the
    statistics as JSON, CSV and their 422s, PostgreSQL stopped) under
    ASan/UBSan: no finding in the module (test_foundation's reading of the
    reports)."""
    from test_foundation import (ASAN_MODULES, asan_runtime,
                                 sanitizer_findings)
    module = next((m for m in ASAN_MODULES if os.path.exists(m)), None)
    if module is None:
        msg = "no ASan module: make module-asan"
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
    http = http_for(st)
    codes = [submit(http, 800 + i, "post")[0] for i in range(5)]
    today = wib_today()
    st.psql("INSERT INTO delivery_period (starts, ends, amount) VALUES"
            " (%s::date - 1, %s::date + 1, 9)" % (q(today), q(today)))
    visit(st, 900, today, "served", checked=(8, 0), wait=90)
    r = http.ops.get(WORKLIST + "?limit=2")
    while r.json()["next_cursor"]:
        r = http.ops.get(WORKLIST + "?limit=2&cursor="
                         + r.json()["next_cursor"])
        assert r.status == 200, r
    assert http.ops.get(ONE % codes[0]).status == 200
    assert http.ops.get(ONE % random_code("P")).status == 404
    assert http.ops.get(DELIVERY).json()["pending"] == 5
    for query in ("", "?office=mpp", "?format=csv", "?format=json",
                  "?from=2026-01-01&to=2026-04-02&format=csv",
                  "?office=x", "?cursor=!", "?from=x"):
        assert http.ops.get(STATS + query).status in (200, 422), query
    assert http.ops.get(STATS, headers={"Accept": "text/csv"}).status == 200
    for query in ("?cursor=!!", "?limit=0", "?status=x", "?office=A"):
        assert http.ops.get(WORKLIST + query).status == 422, query
    assert http.ops.post(OPS_STATUS % codes[0],
                         {"status": "rejected"}).status == 422
    st.stop_postgres()
    try:
        for path in (WORKLIST, ONE % codes[0], DELIVERY, STATS):
            assert http.ops.get(path, timeout=30).status == 503, path
    finally:
        st.start_postgres(migrate=False)
    st.stop_nginx()
    findings = sanitizer_findings(asan_dir)
    assert not findings, "%d sanitizer findings:\n%s" % (
        len(findings), "\n".join(findings[:5])[:8000])
