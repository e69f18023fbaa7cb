"""Helpers of the appointment end-to-end tests (issue 3): valid citizens,
dates of the booking window, bursts of bookings, and views of what Redis and
PostgreSQL hold."""

import datetime
import os
import signal
import time

from helpers import burst, http_for, request_bytes, wib_today

BOOK = "/api/v1/appointments"
AVAIL = "/api/v1/availability"
SUNDAY = 6                      # datetime.date.weekday()


# --- citizens -----------------------------------------------------------

def make_nik(i, province="14", regency="71"):
    """The i-th valid NIK (i >= 0): distinct for distinct i up to ~5e9.
    kecamatan 01-15, birth date DDMMYY with day 01-28, serial 0001-9999."""
    serial = i % 9999 + 1
    j = i // 9999
    day = j % 28 + 1
    j //= 28
    month = j % 12 + 1
    j //= 12
    year = j % 100
    kec = (j // 100) % 15 + 1
    return "%s%s%02d%02d%02d%02d%04d" % (province, regency, kec, day, month,
                                          year, serial)


def make_phone(i):
    """The i-th valid mobile number in the 08... form (distinct per i)."""
    return "0812%08d" % (i % 100000000)


def e164(phone_08):
    return "+62" + phone_08[1:]


def availability(http, date, office="mpp", service="ktp"):
    """One service's entry of the availability of one date."""
    r = http.get("%s?office=%s&from=%s&to=%s" % (AVAIL, office, date, date))
    assert r.status == 200, r
    day = r.json()["days"][0]
    assert day["date"] == str(date)
    return next(s for s in day["services"] if s["service"] == service)


def booking(i, date, service="ktp", office="mpp", name=None, phone=None,
            nik=None):
    return {"nik": nik or make_nik(i), "name": name or "Warga Uji %d" % i,
            "phone": phone or make_phone(i), "service": service,
            "office": office, "date": str(date)}


# --- dates of the booking window --------------------------------------------

def open_dates(first=1, last=14, today=None, closed=(SUNDAY,)):
    """Open dates of the booking window (default demo: Sunday closed)."""
    today = today or wib_today()
    days = (today + datetime.timedelta(days=k) for k in range(first, last + 1))
    return [d for d in days if d.weekday() not in closed]


def first_open_date(**kw):
    return open_dates(**kw)[0]


def closed_date_in_window(today=None):
    today = today or wib_today()
    for k in range(1, 15):
        d = today + datetime.timedelta(days=k)
        if d.weekday() == SUNDAY:
            return d
    raise AssertionError("no Sunday in a 14-day window?")


# --- Redis / PostgreSQL views -------------------------------------------

def day_key(office, date, part="day"):
    """A day's key; the phones are the date's, at every office."""
    if part == "phone":
        return "dk:{%s}:phone" % date
    return "dk:{%s:%s}:%s" % (office, date, part)


def set_quota(st, office, date, service, quota):
    r = st.redis()
    try:
        r.hset(day_key(office, date), "q:" + service, quota)
    finally:
        r.close()


def redis_day(st, office, date):
    """(day hash, adm hash, nik hash, phone hash) as str dicts."""
    r = st.redis(decode_responses=True)
    try:
        return tuple(r.hgetall(day_key(office, date, p))
                     for p in ("day", "adm", "nik", "phone"))
    finally:
        r.close()


def rows(st, date=None, office="mpp", service=None, status="booked"):
    """[(code, nik, phone, queue_number, status)] of the appointment table."""
    where = ["office = '%s'" % office]
    if date:
        where.append("date = '%s'" % date)
    if service:
        where.append("service = '%s'" % service)
    if status:
        where.append("status = '%s'" % status)
    out = st.psql("SELECT code, nik, phone, queue_number, status "
                  "FROM appointment WHERE %s ORDER BY queue_number"
                  % " AND ".join(where))
    result = []
    for line in out.split("\n"):
        if line.strip():
            code, nik, phone, queue, status_ = line.split("|")
            result.append((code, nik, phone, int(queue), status_))
    return result


def count_all_rows(st):
    return int(st.psql("SELECT count(*) FROM appointment").strip())


def assert_redis_agrees_with_rows(st, office, date, service="ktp",
                                  what=""):
    """The invariant after a definite outcome of every booking: Redis's
    counter n:<svc>, its admissions and PostgreSQL's active rows agree."""
    day, adm, nik, phone = redis_day(st, office, date)
    active = rows(st, date, office, service)
    n = int(day.get("n:" + service, 0))
    adm_codes = {c for c, v in adm.items() if v.split("|")[0] == service}
    row_codes = {r[0] for r in active}
    assert n == len(adm_codes), \
        "%s n:%s=%d but %d admissions" % (what, service, n, len(adm_codes))
    assert adm_codes == row_codes, (
        "%s Redis admissions and committed rows differ: only in Redis %s, "
        "only in PostgreSQL %s" % (what, sorted(adm_codes - row_codes)[:10],
                                   sorted(row_codes - adm_codes)[:10]))
    return n


def redis_snapshot(st):
    """Every key of Redis with its value (dk:epoch's TTL left out)."""
    r = st.redis(decode_responses=False)
    try:
        snap = {}
        for key in r.scan_iter(count=1000):
            t = r.type(key)
            if t == b"string":
                snap[key] = r.get(key)
            elif t == b"hash":
                snap[key] = r.hgetall(key)
            elif t == b"set":
                snap[key] = r.smembers(key)
            else:
                snap[key] = t
        return snap
    finally:
        r.close()


def second_nginx(make_stack, base, **nginx_kw):
    """Another nginx (own folder and port) on the same Redis and PostgreSQL
    as `base`, with its token secret: what a second machine behind the load
    balancer is."""
    st = make_stack(start=False, redis_port=base.redis_port,
                    pg_port=base.pg_port)
    st.share_redis_credentials(base)
    st.share_token_secret(base)
    st.state["ops_password_wanted"] = base.ops_password
    st.start_nginx(**nginx_kw)
    return st


# --- bursts of bookings -----------------------------------------------------

def post_bookings(ports, bodies, headers=None, timeout=30):
    """POST each body, spread round-robin over the nginx ports, at once."""
    targets = [(ports[k % len(ports)],
                request_bytes("POST", BOOK, b, headers,
                              port=ports[k % len(ports)]))
               for k, b in enumerate(bodies)]
    return burst(targets, timeout)


def in_one_pass(st, bodies, timeout=20):
    """POST each body on a connection of its own, so that the nginx workers
    read them all in one event-loop pass: the connections are opened and
    used once first, then the workers are stopped (SIGSTOP) while the
    requests arrive, and let go. Returns (status, JSON body) per body."""
    http = http_for(st)
    conns = []
    try:
        for _ in bodies:
            c = http.connect(timeout)
            c.request("GET", "/api/v1/health")
            conns.append(c)

        workers = st.worker_pids()
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            for c, body in zip(conns, bodies):
                c.send("POST", BOOK, body)
            time.sleep(0.3)
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)

        answers = []
        for c in conns:
            a = c.receive()
            answers.append((a.status, a.json()))
        return answers
    finally:
        for c in conns:
            c.close()
