"""Issue 11, finding 2: Idempotency-Keys cannot fill Redis. A key has a
documented format, each endpoint has keys of its own, an answer that took
nothing (4xx) is not kept, and /metrics shows Redis's memory against its
limit. Measured: 100,000 distinct keys on rejected bookings."""

import re
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import request_bytes
from appointments_helpers import BOOK, booking, first_open_date
from applications_helpers import APPS, application

UUID = "0b6e4f9c-3a51-4d7e-9c2a-5f1e8d7b6a40"


def idem(endpoint, key):
    return "dk:idem:%s:%s" % (endpoint, key)


def metrics(http):
    out = {}
    for line in http.get("/metrics").body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = int(value)
    return out


@pytest.mark.parametrize("key, ok", [
    (UUID, True),
    ("a" * 16, True),
    ("A-z_0-9" * 9 + "x", True),           # 64
    ("a" * 15, False),
    ("a" * 65, False),
    ("abc def ghi jkl mno", False),
    ("kunci/dengan/garis", False),
    ("kuncí-dengan-aksen-1", False),
    ("", False),
])
def test_a_key_is_16_to_64_letters_digits_dash_underscore(stack, http, key,
                                                          ok):
    date = first_open_date()
    body = booking(8000 + len(key) + (ord(key[0]) if key else 0), date)
    r = http.post(BOOK, body, headers={"Idempotency-Key": key})
    if ok:
        assert r.status == 201, r
        assert stack.redis().exists(idem("appointments", key)) == 1
    else:
        assert (r.status, r.error, r.field) == \
            (422, "invalid_idempotency_key", "Idempotency-Key"), r
        assert stack.redis().keys("dk:idem:*") == []


def test_each_endpoint_has_keys_of_its_own(stack, http):
    """The same key on a booking and on a submission: two requests, each
    answered for itself, each kept under its endpoint's name."""
    date = first_open_date()
    key = {"Idempotency-Key": UUID}
    a = http.post(BOOK, booking(8100, date), headers=key)
    b = http.post(APPS, application(8101, "pickup"), headers=key)
    assert (a.status, b.status) == (201, 201), (a, b)
    assert a.json()["code"].startswith("A-")
    assert b.json()["code"].startswith("P-")
    r = stack.redis(decode_responses=True)
    assert "|201|" in r.get(idem("appointments", UUID))
    assert "|201|" in r.get(idem("applications", UUID))


def test_an_answer_that_took_nothing_is_not_kept(stack, http):
    """A 409 (the NIK is booked that date) leaves no key behind, and a
    retry with the key is decided afresh: after the first booking is
    cancelled, the same key and body book."""
    date = first_open_date()
    body = booking(8200, date)
    first = http.post(BOOK, body)
    assert first.status == 201, first
    key = "retry-after-409-" + "x" * 8
    r = http.post(BOOK, body, headers={"Idempotency-Key": key})
    assert (r.status, r.error) == (409, "already_booked"), r
    assert stack.redis().exists(idem("appointments", key)) == 0

    code = first.json()["code"]
    gone = http.delete("/api/v1/appointments/" + code,
                       headers={"X-NIK": body["nik"]})
    assert gone.status == 200, gone
    again = http.post(BOOK, body, headers={"Idempotency-Key": key})
    assert again.status == 201, again
    assert again.json()["code"] != code


def pipelined(port, requests, conns=16, batch=250, timeout=120):
    """Send the request byte strings over `conns` keep-alive connections,
    `batch` at a time on each (HTTP pipelining); the status of each answer,
    counted: {status: n}."""
    shares = [requests[k::conns] for k in range(conns)]
    counts = [dict() for _ in range(conns)]

    def run(k):
        share = shares[k]
        # nginx closes a connection after keepalive_requests (1000)
        for first in range(0, len(share), 1000):
            with socket.create_connection(("127.0.0.1", port), timeout) as c:
                for i in range(first, min(first + 1000, len(share)), batch):
                    chunk = share[i:min(i + batch, first + 1000)]
                    c.sendall(b"".join(chunk))
                    seen, data = 0, b""
                    while seen < len(chunk):
                        more = c.recv(1 << 20)
                        assert more, "connection closed"
                        data += more
                        seen = data.count(b"HTTP/1.1 ")
                    for status in re.findall(rb"HTTP/1\.1 (\d{3})", data):
                        counts[k][int(status)] = \
                            counts[k].get(int(status), 0) + 1

    with ThreadPoolExecutor(conns) as pool:
        list(pool.map(run, range(conns)))
    total = {}
    for c in counts:
        for status, n in c.items():
            total[status] = total.get(status, 0) + n
    return total


def test_100000_rejected_keys_cost_redis_less_than_10_mb(stack, http):
    """100,000 bookings with distinct keys, each rejected (409: the NIK is
    booked that date): Redis's used_memory grows by less than 10 MB (kept
    for 24 h at ~350 B each, they took 35 MB), and /metrics reports Redis's
    memory and its limit."""
    date = first_open_date()
    body = booking(8300, date)
    assert http.post(BOOK, body).status == 201
    r = stack.redis()
    before = r.info("memory")["used_memory"]
    requests = [request_bytes("POST", BOOK, body,
                              {"Idempotency-Key": "rejected-%012d" % i,
                               "Connection": "keep-alive"},
                              port=stack.http_port)
                for i in range(100000)]
    assert pipelined(stack.http_port, requests) == {409: 100000}
    after = r.info("memory")["used_memory"]
    assert not list(r.scan_iter("dk:idem:*rejected*", count=10000))
    print("used_memory grew by %d bytes for 100,000 rejected keys"
          % (after - before))
    assert after - before < 10 * 1024 * 1024, (before, after)

    m = metrics(http)
    assert m["dukcapil_redis_up"] == 1
    used = r.info("memory")["used_memory"]
    assert abs(m["dukcapil_redis_used_memory_bytes"] - used) < 1024 * 1024
    assert m["dukcapil_redis_maxmemory_bytes"] == \
        r.info("memory")["maxmemory"]
    r.close()


def test_metrics_say_when_redis_does_not_answer(stack, http):
    stack.stop_redis()
    try:
        m = metrics(http)
        assert m["dukcapil_redis_up"] == 0
        assert "dukcapil_redis_used_memory_bytes" not in m
        assert "dukcapil_bookings_total{outcome=\"booked\"}" in m
    finally:
        stack.start_redis()
        stack.set_epoch()
