"""A WhatsApp/SMS gateway in a thread, playing the provider for the
notification sender's tests and benchmark: it records every POST it is
given (when, headers, JSON body) and answers what its `script` says.

    gw = Gateway()                       # 127.0.0.1, a free port
    gw.script = lambda req: (500, 0)     # (status, seconds to wait first)
    gw.wait_for(lambda reqs: len(reqs) >= 2, 10)
    gw.close()

A request is a dict: at (time.monotonic() when read), id, to, channel,
text (the JSON body's), headers (lower-case names), n (how many POSTs of
this id came before it, 0 for the first).
"""

import asyncio
import http.server
import json
import threading
import time


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       # keep-alive, as a real gateway

    def do_POST(self):
        gw = self.server.gateway
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        req = dict(body if isinstance(body, dict) else {})
        req["at"] = time.monotonic()
        req["headers"] = {k.lower(): v for k, v in self.headers.items()}
        req["path"] = self.path
        with gw.lock:
            req["n"] = sum(1 for r in gw.requests if r.get("id") == req.get("id"))
            gw.requests.append(req)
        status, delay = gw.script(req)
        if delay:
            gw.release.wait(delay)      # a hanging gateway; close() ends it
        out = b'{"status":"accepted"}' if status < 300 else b'{"error":"x"}'
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:
            pass                        # the sender gave up waiting

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512            # the listen backlog: many in flight
    daemon_threads = True


class Gateway:
    def __init__(self, port=0):
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.script = lambda req: (200, 0)
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.gateway = self
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/v1/messages" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def wait_for(self, predicate, timeout, what="gateway requests"):
        deadline = time.monotonic() + timeout
        while True:
            reqs = self.snapshot()
            if predicate(reqs):
                return reqs
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.1f s waiting for %s;"
                                     " got %d: %r" % (timeout, what, len(reqs),
                                                      reqs[-5:]))
            time.sleep(0.02)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class _FastGateway(asyncio.Protocol):
    """The benchmark's gateway: the same answers (200 to every POST,
    keep-alive) on asyncio, several times the requests/s of http.server,
    so that it measures the sender rather than itself."""

    def __init__(self, seen):
        self.seen = seen
        self.buf = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1").lower()
            length = 0
            for line in head.split("\r\n")[1:]:
                if line.startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            try:
                req = json.loads(body)
            except ValueError:
                req = {}
            self.seen.append("%.6f %s %s" % (time.time(), req.get("to"),
                                             req.get("id")))
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: "
                                 b"application/json\r\nContent-Length: 21"
                                 b"\r\n\r\n{\"status\":\"accepted\"}")


def main():
    """A gateway process of its own (the benchmark's: no GIL shared with
    the client that measures it): python3 gateway.py PORT LOG answers 200
    to every POST and, when stopped (SIGTERM), has written to LOG one line
    per request: the wall-clock second it was read, its "to", its "id"."""
    import signal
    import sys

    port, path = int(sys.argv[1]), sys.argv[2]
    seen = []
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        lambda: _FastGateway(seen), "127.0.0.1", port, backlog=512))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    print("ready", flush=True)
    loop.run_forever()
    server.close()
    with open(path, "w") as f:
        f.write("\n".join(seen) + ("\n" if seen else ""))


if __name__ == "__main__":
    main()
