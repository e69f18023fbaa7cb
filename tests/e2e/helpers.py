"""What the end-to-end tests (and the benchmarks) share, written once: WIB
dates, the HTTP client and its Response (with the readers of the error
contract), and raw HTTP on sockets for what a client library would not do:
thousands of requests at once, malformed requests, clients that vanish."""

import asyncio
import base64
import datetime
import json
import socket
import struct
import time
from http.client import HTTPConnection

HEALTH = "/api/v1/health"


# --- WIB dates ----------------------------------------------------------------

WIB = datetime.timezone(datetime.timedelta(hours=7))


def wib_today(now=None):
    """Today's date in WIB (or the WIB date of `now`, an aware datetime)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.astimezone(WIB).date()


def wib_day(offset=0):
    """'YYYY-MM-DD' of the WIB date `offset` days from today."""
    return str(wib_today() + datetime.timedelta(days=offset))


def wib_midnight(offset=0):
    """Unix time of 00:00 WIB, `offset` days from today."""
    d = wib_today() + datetime.timedelta(days=offset)
    return datetime.datetime(d.year, d.month, d.day, tzinfo=WIB).timestamp()


# --- answers -----------------------------------------------------------------

class Response:
    """An HTTP answer: status (None: the server closed without one),
    headers {lower-case name: value}, body bytes, elapsed seconds."""

    def __init__(self, status, headers, body, elapsed=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def _member(self, name):
        try:
            return self.json().get(name)
        except (ValueError, AttributeError):
            return None

    @property
    def error(self):
        """The error contract's "error" (None for a success or non-JSON)."""
        return self._member("error")

    @property
    def field(self):
        """The error contract's "field": which input was wrong."""
        return self._member("field")

    def __repr__(self):
        return "<Response %s %s>" % (self.status, self.body[:300])


# --- the HTTP client -----------------------------------------------------------

def encode_body(body, headers):
    """body: bytes/str sent as is, anything else as JSON (then
    headers gets its Content-Type). Returns the bytes, or None."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode()
    return body


def basic_auth(user, password):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()


class Connection:
    """One kept-alive HTTP/1.1 connection: send a request and read its
    answer later (send, then receive), or both at once (request).
    source: the local address to connect from (any 127.x.y.z is one, so
    nginx sees $remote_addr = source)."""

    def __init__(self, host, port, auth=None, timeout=10, source=None):
        self.conn = HTTPConnection(host, port, timeout=timeout,
                                   source_address=(source, 0) if source
                                   else None)
        self.auth = auth
        self.sent_at = None

    def send(self, method, path, body=None, headers=None):
        hdrs = {}
        body = encode_body(body, hdrs)
        if self.auth:
            hdrs["Authorization"] = basic_auth(*self.auth)
        hdrs.update(headers or {})
        self.sent_at = time.monotonic()
        self.conn.request(method, path, body=body, headers=hdrs)

    def receive(self):
        r = self.conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                        data, time.monotonic() - self.sent_at)

    def request(self, method, path, body=None, headers=None):
        self.send(method, path, body, headers)
        return self.receive()

    def close(self):
        self.conn.close()


class Http:
    """A small HTTP client on http.client, one connection per request.

        http.get("/api/v1/services").json()
        http.post("/api/v1/appointments", {"nik": ...},
                  headers={"Idempotency-Key": "3f1c9a0e-booking-0001"})
        http.ops.put("/api/v1/ops/quota", {...})      # with basic auth
    """

    def __init__(self, base_url, auth=None, timeout=10, source=None):
        assert base_url.startswith("http://")
        host, _, port = base_url[len("http://"):].partition(":")
        self.host, self.port = host, int(port or 80)
        self.base_url = base_url
        self.auth = auth
        self.timeout = timeout
        self.source = source

    def with_auth(self, user, password):
        return Http(self.base_url, (user, password), self.timeout,
                    self.source)

    def connect(self, timeout=None):
        """A Connection of its own, kept until closed."""
        return Connection(self.host, self.port, self.auth,
                          timeout or self.timeout, self.source)

    def request(self, method, path, body=None, headers=None, timeout=None):
        """body: bytes/str sent as is, anything else as JSON."""
        conn = self.connect(timeout)
        try:
            return conn.request(method, path, body, headers)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def http_for(st, source=None):
    """An Http client of stack `st`; its .ops has the operator's account."""
    client = Http(st.nginx_url, source=source)
    client.ops = client.with_auth(st.ops_user, st.ops_password)
    return client


def health(st, timeout=10):
    return http_for(st).get(HEALTH, timeout=timeout)


def health_ok(st):
    try:
        return health(st, timeout=2).status == 200
    except OSError:
        return False


# --- raw HTTP on sockets ---------------------------------------------------------

def request_bytes(method, path, body=None, headers=None, port=80):
    """An HTTP/1.1 request with Connection: close; body dict -> JSON. A
    header given the value None is left out."""
    hdrs = {"Host": "127.0.0.1:%d" % port, "Connection": "close"}
    body = encode_body(body, hdrs)
    if body is not None:
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()
                    if kv[1] is not None)
    return head.encode() + b"\r\n" + (body or b"")


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
    """The Response of the raw bytes of one answer (status None if empty)."""
    if not raw:
        return Response(None, {}, b"")
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
    return Response(status, headers, body)


def raw_request(port, data, timeout=10):
    """Send raw bytes, read until the server closes; returns the bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


async def _exchange(conn, data, timeout):
    reader, writer = conn
    try:
        start = time.monotonic()
        writer.write(data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
        r = parse_response(raw)
        r.elapsed = time.monotonic() - start
        return r
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
    sends all requests at the same moment; returns the Response (or the
    exception) per target, in order."""
    return asyncio.run(_burst(targets, timeout))


def send_and_vanish(port, data, rst=False):
    """Send a request and close the socket at once without reading (rst:
    abortive close, the peer sees a reset)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
    finally:
        s.close()
