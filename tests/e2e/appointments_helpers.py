"""Helpers of the appointment end-to-end tests (issue 3): valid citizens,
WIB dates, a raw asyncio HTTP client for bursts of thousands of concurrent
requests, and views of what Redis and PostgreSQL hold."""

import asyncio
import datetime
import http.client
import json
import os
import signal
import socket
import time

BOOK = "/api/v1/appointments"
AVAIL = "/api/v1/availability"
WIB = datetime.timezone(datetime.timedelta(hours=7))
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


# --- WIB dates ----------------------------------------------------------

def wib_today(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.astimezone(WIB).date()


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
    as `base`: what a second machine behind the load balancer is."""
    st = make_stack(start=False, redis_port=base.redis_port,
                    pg_port=base.pg_port)
    st.state["ops_password_wanted"] = base.ops_password
    st.start_nginx(**nginx_kw)
    return st


# --- raw HTTP -----------------------------------------------------------

def request_bytes(method, path, body=None, headers=None, port=80):
    """An HTTP/1.1 request with Connection: close; body dict -> JSON."""
    hdrs = {"Host": "127.0.0.1:%d" % port, "Connection": "close"}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode()
    if body is not None:
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()
                    if kv[1] is not None)
    return head.encode() + b"\r\n" + (body or b"")


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def error(self):
        try:
            return self.json().get("error")
        except ValueError:
            return None

    def __repr__(self):
        return "<RawResponse %s %s>" % (self.status, self.body[:300])


def dechunk(data):
    out = b""
    while data:
        line, _, rest = data.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


def parse_response(raw):
    if not raw:
        return RawResponse(None, {}, b"")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    elif "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return RawResponse(status, headers, body)


async def _exchange(conn, data, timeout):
    reader, writer = conn
    try:
        writer.write(data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
        return parse_response(raw)
    finally:
        writer.close()


async def _burst(targets, timeout):
    # every connection established first, then all requests at one moment
    conns = await asyncio.gather(
        *(asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
          for port, _ in targets), return_exceptions=True)
    async def failed(e):
        return e
    return await asyncio.gather(
        *(failed(c) if isinstance(c, BaseException)
          else _exchange(c, data, timeout)
          for c, (_, data) in zip(conns, targets)), return_exceptions=True)


def burst(targets, timeout=30):
    """targets: [(port, request bytes)]. Opens one connection each, then
    sends all requests at the same moment; returns RawResponse (or the
    exception) per target, in order."""
    return asyncio.run(_burst(targets, timeout))


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
    conns = []
    try:
        for _ in bodies:
            c = http.client.HTTPConnection("127.0.0.1", st.http_port,
                                           timeout=timeout)
            c.request("GET", "/api/v1/health")
            c.getresponse().read()
            conns.append(c)

        workers = st.worker_pids()
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            for c, body in zip(conns, bodies):
                c.request("POST", BOOK, json.dumps(body),
                          {"Content-Type": "application/json"})
            time.sleep(0.3)
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)

        answers = []
        for c in conns:
            a = c.getresponse()
            answers.append((a.status, json.loads(a.read())))
        return answers
    finally:
        for c in conns:
            c.close()


def send_and_vanish(port, data, rst=False):
    """Send a request and close the socket at once without reading (rst:
    abortive close, the peer sees a reset)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        if rst:
            import struct
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
    finally:
        s.close()
