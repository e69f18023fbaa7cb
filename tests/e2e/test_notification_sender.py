"""The outbox's sender (issue 13, the daemon's half): `dukcapil-scheduler
run` sends the notification rows through a gateway (tests/e2e/gateway.py,
a small HTTP server in a thread playing the provider) or into a file,
woken by NOTIFY, claiming with FOR UPDATE SKIP LOCKED; retries, the
fall-back to SMS, SIGTERM, two daemons, retention, reminders, metrics.

Rows of kinds whose event triggers are not written yet are inserted here
directly, with the params the triggers will carry."""

import json
import os
import re
import signal
import time

import pytest

from gateway import Gateway
from helpers import http_for
from scheduler_fixtures import (  # noqa: F401
    SchedulerStack, code, sched_stack, wait_until)

PHONE = "+6281234567890"
NIK = "1471014101900001"
KK = "1471010101010001"


# --- the stack, the gateway, the daemon ------------------------------------

@pytest.fixture
def sched(sched_stack):
    """The scheduler's stack (PostgreSQL + Redis) with nginx for phone
    verification, empty tables (the outbox too)."""
    sched_stack.reset()
    sched_stack.st.psql("TRUNCATE notification RESTART IDENTITY")
    return sched_stack


@pytest.fixture
def gw():
    g = Gateway()
    yield g
    g.close()


def token_file(sched):
    path = os.path.join(sched.st.root, "gateway.token")
    with open(path, "w") as f:
        f.write("s3cret-gateway-token\n")
    os.chmod(path, 0o600)
    return path


def http_config(sched, gw, name="sender.yaml", **over):
    keys = {
        "notification__channel": "http",
        "notification__http__url": gw.url,
        "notification__http__token_file": token_file(sched),
        "notification__http__rate": 200,
        "notification__http__max_in_flight": 16,
        "notification__http__connect_timeout_ms": 1000,
        "notification__http__timeout_ms": 1500,
        "notification__max_attempts": 3,
        "notification__backoff_base_ms": 200,
        "notification__backoff_max_ms": 1000,
        "notification__poll_seconds": 1,
        "notification__lease_seconds": 30,
    }
    keys.update(over)
    return sched.config(name=name, **keys)


def file_config(sched, name="sender-file.yaml", **over):
    keys = {"notification__channel": "file",
            "notification__file": messages_path(sched)}
    keys.update(over)
    return sched.config(name=name, **keys)


def messages_path(sched):
    return os.path.join(sched.st.root, "messages.jsonl")


def insert(sched, kind, params, phone=PHONE, **cols):
    """A notification row as a trigger (or the module) writes it: its id."""
    names = ["kind", "phone", "params"] + list(cols)
    values = [kind, phone, json.dumps(params)] + list(cols.values())
    return sched.value(
        "INSERT INTO notification (%s) VALUES (%s) RETURNING id"
        % (", ".join(names), ", ".join(["%s"] * len(values))), values)


def row(sched, nid):
    keys = ("status", "channel", "attempts", "params", "last_error",
            "sent_at")
    return dict(zip(keys, sched.sql(
        "SELECT status, channel, attempts, params, last_error, sent_at"
        " FROM notification WHERE id = %s", (nid,))[0]))


def wait_status(sched, nid, status, timeout=15):
    wait_until(lambda: row(sched, nid)["status"] == status, timeout,
               what="notification %d %s" % (nid, status))
    return row(sched, nid)


def assert_clean_log(text):
    """No NIK or KK in any line; a phone only masked."""
    assert NIK not in text and KK not in text
    assert not re.search(r"\d{16}", text), text
    assert not re.search(r"\+628\d{8,11}", text), \
        [l for l in text.splitlines() if re.search(r"\+628\d{8,11}", l)]


# --- the http channel -------------------------------------------------------

def test_otp_from_the_module_reaches_the_gateway_once_and_its_code_is_erased(
        sched, gw):
    sched.st.start_nginx(phone_verification=True)
    d = sched.start("run", config=http_config(sched, gw))
    try:
        sched.wait_log(d, "sender_connected")
        r = http_for(sched.st).post("/api/v1/phone-verifications",
                                    {"phone": "0812-3456-7890"})
        assert r.status == 201, r
        reqs = gw.wait_for(lambda q: len(q) >= 1, 5, "the OTP")
        req = reqs[0]
        assert req["to"] == PHONE and req["channel"] == "whatsapp"
        got = re.search(r"\b(\d{6})\b", req["text"]).group(1)
        assert "Kode verifikasi Disdukcapil Pekanbaru: %s." % got \
            in req["text"]
        assert req["headers"]["authorization"] == \
            "Bearer s3cret-gateway-token"
        assert req["headers"]["idempotency-key"] == req["id"]
        assert req["headers"]["content-type"] == "application/json"

        nid = int(req["id"])
        r_ = wait_status(sched, nid, "sent")
        assert r_["params"] == {} and r_["channel"] == "whatsapp"
        assert r_["attempts"] == 1

        # the code confirms: it is the one the module stored
        c = http_for(sched.st).post(
            "/api/v1/phone-verifications/%s/confirm" % r.json()["id"],
            {"code": got})
        assert c.status == 200, c
        time.sleep(0.5)
        assert len(gw.snapshot()) == 1
    finally:
        assert sched.stop(d) == 0
    log = sched.log_of(d)
    assert "event=notification_sent id=%d kind=otp channel=whatsapp " \
        "to=+62812****7890" % nid in log
    assert got not in log
    assert_clean_log(log)
