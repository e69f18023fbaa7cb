"""The outbox's sender (issue 13, the daemon's half): `dukcapil-scheduler
run` sends the notification rows through a gateway (tests/e2e/gateway.py,
a small HTTP server in a thread playing the provider) or into a file,
woken by NOTIFY, claiming with FOR UPDATE SKIP LOCKED; retries, the
fall-back to SMS, SIGTERM, two daemons, retention, reminders, metrics.

Rows of kinds whose event triggers are not written yet are inserted here
directly, with the params the triggers will carry."""

import datetime
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
    if os.path.exists(messages_path(sched_stack)):
        os.unlink(messages_path(sched_stack))
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


def test_gateway_500_then_200_is_retried_and_sent_once(sched, gw):
    gw.script = lambda req: (500, 0) if req["n"] == 0 else (200, 0)
    nid = insert(sched, "application_shipped",
                 {"code": "P-7K3M-9QX2-BHT4", "receipt_number": "P2212120012"})
    d = sched.start("run", config=http_config(sched, gw))
    try:
        r = wait_status(sched, nid, "sent")
        time.sleep(0.5)
    finally:
        assert sched.stop(d) == 0
    reqs = gw.snapshot()
    assert [q["n"] for q in reqs] == [0, 1]
    assert {q["id"] for q in reqs} == {str(nid)}
    assert reqs[1]["at"] - reqs[0]["at"] >= 0.1      # after the back-off
    assert reqs[0]["text"] == ("Dokumen Anda (P-7K3M-9QX2-BHT4) sudah dikirim"
                               " melalui PT Pos, nomor resi P2212120012.")
    assert r["attempts"] == 2 and r["channel"] == "whatsapp"
    assert r["last_error"] is None
    log = sched.log_of(d)
    assert "event=notification_retry id=%d" % nid in log
    assert "gateway answered 500" in log


def test_429_and_5xx_until_max_attempts_then_sms(sched, gw):
    gw.script = lambda req: (429, 0) if req["channel"] == "whatsapp" \
        else (503, 0) if req["n"] < 4 else (200, 0)
    nid = insert(sched, "delivery_delivered", {"code": "P-7K3M-9QX2-BHT4"})
    d = sched.start("run", config=http_config(sched, gw))
    try:
        r = wait_status(sched, nid, "sent", timeout=20)
    finally:
        assert sched.stop(d) == 0
    chans = [q["channel"] for q in gw.snapshot()]
    assert chans == ["whatsapp"] * 3 + ["sms"] * 2
    assert r["channel"] == "sms" and r["attempts"] == 2


def test_400_fails_whatsapp_and_falls_back_to_sms(sched, gw):
    gw.script = lambda req: (400, 0) if req["channel"] == "whatsapp" \
        else (200, 0)
    nid = insert(sched, "application_ready",
                 {"code": "P-7K3M-9QX2-BHT4",
                  "office_name": "UPT Disdukcapil Kecamatan Sukajadi"})
    d = sched.start("run", config=http_config(sched, gw))
    try:
        r = wait_status(sched, nid, "sent")
        time.sleep(0.3)
    finally:
        assert sched.stop(d) == 0
    reqs = gw.snapshot()
    assert [(q["channel"], q["id"]) for q in reqs] == \
        [("whatsapp", str(nid)), ("sms", str(nid))]
    assert reqs[0]["text"] == reqs[1]["text"]
    assert r["channel"] == "sms" and r["attempts"] == 1
    assert "event=notification_fallback id=%d" % nid in sched.log_of(d)


def test_400_on_both_channels_is_failed_for_good_and_an_otp_code_erased(
        sched, gw):
    gw.script = lambda req: (400, 0)
    nid = insert(sched, "otp", {"code": "123456"})
    d = sched.start("run", config=http_config(sched, gw))
    try:
        r = wait_status(sched, nid, "failed")
        time.sleep(0.3)
    finally:
        assert sched.stop(d) == 0
    assert [q["channel"] for q in gw.snapshot()] == ["whatsapp", "sms"]
    assert r["params"] == {} and r["sent_at"] is None
    assert "400" in r["last_error"]
    assert "event=notification_failed id=%d" % nid in sched.log_of(d)


def test_a_hanging_gateway_times_out_and_the_message_is_retried(sched, gw):
    gw.script = lambda req: (200, 10) if req["n"] == 0 else (200, 0)
    nid = insert(sched, "delivery_delivered", {"code": "P-7K3M-9QX2-BHT4"})
    d = sched.start("run", config=http_config(sched, gw))
    try:
        r = wait_status(sched, nid, "sent")
    finally:
        assert sched.stop(d) == 0
    reqs = gw.snapshot()
    assert [q["n"] for q in reqs] == [0, 1]
    # the total timeout (1.5 s), then the back-off
    assert 1.4 <= reqs[1]["at"] - reqs[0]["at"] <= 4, reqs
    assert r["attempts"] == 2
    assert "Timeout was reached" in sched.log_of(d) or \
        "timed out" in sched.log_of(d)


def test_two_daemons_send_each_row_exactly_once(sched, gw):
    n = 300
    sched.sql("INSERT INTO notification (kind, phone, params)"
              " SELECT 'delivery_delivered', '+62812' || lpad(g::text, 8, '0'),"
              " jsonb_build_object('code', 'P-0000-0000-' || lpad(g::text, 4,"
              " '0')) FROM generate_series(1, %s) g", (n,))
    cfg = http_config(sched, gw, notification__http__rate=150)
    a = sched.start("run", config=cfg)
    b = sched.start("run", config=cfg)
    try:
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'") == n, 30,
                   what="every row sent")
        # rows written while both run are woken for at once
        more = [insert(sched, "otp", {"code": "65432%d" % i})
                for i in range(5)]
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'") == n + 5, 10,
                   what="the new rows")
    finally:
        assert sched.stop(a) == 0 and sched.stop(b) == 0
    reqs = gw.snapshot()
    ids = [q["id"] for q in reqs]
    assert len(ids) == len(set(ids)) == n + 5
    assert all(q["n"] == 0 for q in reqs)
    assert set(map(str, more)) <= set(ids)
    logs = [sched.log_of(a), sched.log_of(b)]
    sent = [l.count("event=notification_sent") for l in logs]
    assert sum(sent) == n + 5 and min(sent) > 0, (sent, logs[1][-3000:])
    assert sched.value("SELECT max(attempts) FROM notification") == 1


def test_sigterm_mid_send_finishes_those_in_flight_and_gives_back_the_rest(
        sched, gw):
    gw.script = lambda req: (200, 1.0)
    ids = [insert(sched, "delivery_delivered", {"code": code("P", i)})
           for i in range(8)]
    cfg = http_config(sched, gw, notification__http__max_in_flight=3,
                      notification__http__timeout_ms=5000)
    d = sched.start("run", config=cfg)
    gw.wait_for(lambda q: len(q) >= 3, 10, "three in flight")
    d.send_signal(signal.SIGTERM)
    assert d.wait(10) == 0
    first = gw.snapshot()
    assert len(first) == 3
    sent = sched.sql("SELECT id FROM notification WHERE status = 'sent'")
    assert sorted(r[0] for r in sent) == sorted(int(q["id"]) for q in first)
    # the rows claimed but not started are due again, their try not counted
    back = sched.sql("SELECT attempts, next_attempt_at <= now()"
                     " FROM notification WHERE status = 'queued'")
    assert len(back) == 5 and all(r == (0, True) for r in back), back
    assert "event=sender_stop" in sched.log_of(d)

    gw.script = lambda req: (200, 0)
    e = sched.start("run", config=cfg)
    try:
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'") == 8, 10,
                   what="the rest sent")
    finally:
        assert sched.stop(e) == 0
    got = [q["id"] for q in gw.snapshot()]
    assert sorted(got) == sorted(map(str, ids))     # each once


def test_rows_of_a_killed_daemon_come_back_after_the_lease(sched, gw):
    gw.script = lambda req: (200, 30) if req["n"] == 0 else (200, 0)
    nid = insert(sched, "delivery_delivered", {"code": "P-7K3M-9QX2-BHT4"})
    cfg = http_config(sched, gw, notification__lease_seconds=5,
                      notification__http__timeout_ms=60000)
    d = sched.start("run", config=cfg)
    gw.wait_for(lambda q: len(q) == 1, 10, "the first try")
    d.kill()
    d.wait(5)
    e = sched.start("run", config=cfg)
    try:
        time.sleep(2)
        assert row(sched, nid)["status"] == "queued"    # its lease holds it
        r = wait_status(sched, nid, "sent", timeout=10)
    finally:
        assert sched.stop(e) == 0
    assert [q["n"] for q in gw.snapshot()] == [0, 1]
    assert r["attempts"] == 2


# --- the file channel, texts, NIK/KK ------------------------------------------

KINDS = {
    "otp": {"code": "123456"},
    "appointment_booked": {"code": "A-7K3M-9QX2-BHT4", "date": "2026-12-07",
                           "office_name": "Mal Pelayanan Publik Pekanbaru",
                           "service_name": "KTP-el", "queue_number": 37},
    "appointment_cancelled": {"code": "A-7K3M-9QX2-BHT4",
                              "date": "2026-12-07",
                              "office_name": "Mal Pelayanan Publik Pekanbaru"},
    "appointment_cancelled_by_office": {
        "code": "A-7K3M-9QX2-BHT4", "date": "2026-12-25",
        "office_name": "Mal Pelayanan Publik Pekanbaru",
        "reason": "Libur Nasional: Hari Natal"},
    "appointment_reminder": {"code": "A-7K3M-9QX2-BHT4", "date": "2026-12-07",
                             "office_name": "Mal Pelayanan Publik Pekanbaru",
                             "service_name": "KTP-el", "queue_number": 37},
    "application_submitted": {"code": "P-7K3M-9QX2-BHT4",
                              "service_name": "Kartu Keluarga",
                              "method": "post"},
    "application_rejected": {"code": "P-7K3M-9QX2-BHT4",
                             "reason": "Foto KK tidak terbaca"},
    "application_ready": {"code": "P-7K3M-9QX2-BHT4",
                          "office_name": "UPT Disdukcapil Kecamatan Sail"},
    "application_shipped": {"code": "P-7K3M-9QX2-BHT4",
                            "receipt_number": "P2212120012"},
    "delivery_delivered": {"code": "P-7K3M-9QX2-BHT4"},
    "delivery_failed": {"code": "P-7K3M-9QX2-BHT4",
                        "office_name": "UPT Disdukcapil Kecamatan Sail"},
}


def read_lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f]


def test_file_channel_writes_a_json_line_per_message_of_every_kind(sched):
    ids = {kind: insert(sched, kind, params) for kind, params in KINDS.items()}
    d = sched.start("run", config=file_config(sched))
    try:
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'") == len(KINDS),
                   10, what="every kind written")
    finally:
        assert sched.stop(d) == 0
    lines = read_lines(messages_path(sched))
    assert len(lines) == len(KINDS)
    by_kind = {l["kind"]: l for l in lines}
    assert set(by_kind) == set(KINDS)
    for kind, l in by_kind.items():
        assert set(l) == {"id", "to", "channel", "kind", "text", "created_at"}
        assert l["id"] == str(ids[kind]) and l["to"] == PHONE
        assert l["channel"] == "file"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00",
                            l["created_at"])
        assert "{" not in l["text"] and len(l["text"]) <= 160, l
    assert by_kind["otp"]["text"].startswith(
        "Kode verifikasi Disdukcapil Pekanbaru: 123456. Berlaku 5 menit.")
    assert by_kind["appointment_booked"]["text"] == (
        "Janji temu KTP-el Anda: Senin 7/12/2026 di Mal Pelayanan Publik "
        "Pekanbaru, nomor antrean 37. Kode: A-7K3M-9QX2-BHT4.")
    assert "dikirim ke alamat Anda melalui PT Pos" in \
        by_kind["application_submitted"]["text"]
    assert "Jumat 25/12/2026" in \
        by_kind["appointment_cancelled_by_office"]["text"]
    # the OTP's code is gone from PostgreSQL, other params stay
    assert row(sched, ids["otp"])["params"] == {}
    assert row(sched, ids["application_shipped"])["params"] == \
        KINDS["application_shipped"]


def test_templates_come_from_the_yaml(sched):
    insert(sched, "otp", {"code": "246810"})
    cfg = file_config(sched, notification__templates__otp=(
        '"Kode {code} untuk Disdukcapil. {{jangan dibagikan}}"'))
    d = sched.start("run", config=cfg)
    try:
        wait_until(lambda: os.path.exists(messages_path(sched)) and
                   read_lines(messages_path(sched)), 10, what="the line")
    finally:
        assert sched.stop(d) == 0
    assert read_lines(messages_path(sched))[0]["text"] == \
        "Kode 246810 untuk Disdukcapil. {jangan dibagikan}"


def test_check_config_names_the_line_of_a_bad_template(sched):
    cfg = file_config(sched, name="bad.yaml",
                      notification__templates__appointment_booked=(
                          '"Janji {code} NIK {nik}"'))
    r = sched.run("check-config", cfg)
    assert r.returncode == 1
    lines = open(cfg).read().splitlines()
    at = [i for i, l in enumerate(lines, 1) if "appointment_booked" in l][0]
    assert "bad.yaml:%d:" % at in r.stderr
    assert "unknown placeholder {nik}" in r.stderr

    with open(cfg, "a") as f:
        f.write("")
    cfg = file_config(sched, name="bad2.yaml",
                      notification__templates__birthday='"Selamat"')
    r = sched.run("check-config", cfg)
    assert r.returncode == 1
    assert "unknown key 'notification.templates.birthday'" in r.stderr

    cfg = sched.config(name="bad3.yaml", notification__channel="http")
    r = sched.run("check-config", cfg)
    assert r.returncode == 1 and "notification.http.url" in r.stderr


def test_no_nik_or_kk_in_any_message_or_log_line(sched, gw):
    # appointments whose rows hold a NIK: the reminder carries none
    tomorrow = sched.value("SELECT (now() AT TIME ZONE 'Asia/Jakarta')::date"
                           " + 1")
    sched.sql("INSERT INTO appointment (code, nik, name, phone, office,"
              " service, date, queue_number) VALUES (%s, %s, 'Warga', %s,"
              " 'mpp', 'ktp', %s, 1)", (code("A", 1), NIK, PHONE, tomorrow))
    r = sched.run("once", "reminder", config=file_config(sched))
    assert r.returncode == 0, r.stderr
    for kind, params in KINDS.items():
        insert(sched, kind, params)
    # a row whose params hold a NIK's shape is never sent
    bad = insert(sched, "application_rejected",
                 {"code": "P-7K3M-9QX2-BHT4", "reason": "NIK " + NIK})
    d = sched.start("run", config=http_config(sched, gw))
    try:
        wait_status(sched, bad, "failed")
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'")
                   == len(KINDS) + 1, 10, what="the rest sent")
    finally:
        assert sched.stop(d) == 0
    texts = "\n".join(q["text"] for q in gw.snapshot())
    assert len(gw.snapshot()) == len(KINDS) + 1
    assert NIK not in texts and KK not in texts
    assert not re.search(r"\d{16}", texts)
    assert "16 digits" in row(sched, bad)["last_error"]
    assert_clean_log(sched.log_of(d) + r.stderr)


# --- retention, reminders, metrics --------------------------------------------

def test_rows_past_the_retention_are_deleted(sched):
    old = [insert(sched, "delivery_delivered", {"code": code("P", i)},
                  created_at="2026-01-01T00:00:00+07:00")
           for i in range(3)]
    sched.sql("UPDATE notification SET status = 'sent', sent_at = created_at"
              " WHERE id = %s", (old[0],))
    recent = insert(sched, "delivery_delivered", {"code": code("P", 9)})
    d = sched.start("run", config=file_config(
        sched, notification__retention_days=30))
    try:
        wait_until(lambda: sched.value("SELECT count(*) FROM notification")
                   == 1, 10, what="the old rows deleted")
        wait_status(sched, recent, "sent")
    finally:
        assert sched.stop(d) == 0
    assert sched.value("SELECT id FROM notification") == recent
    assert "event=notification_retention deleted=3 days=30" in \
        sched.log_of(d)


def test_reminder_job_writes_one_reminder_per_booked_appointment_of_tomorrow(
        sched):
    today = sched.value("SELECT (now() AT TIME ZONE 'Asia/Jakarta')::date")
    rows = [(1, "booked", 1), (2, "booked", 1), (3, "cancelled", 1),
            (4, "booked", 2), (5, "booked", 0)]
    for n, status, days in rows:
        sched.sql("INSERT INTO appointment (code, nik, name, phone, office,"
                  " service, date, queue_number, status, cancelled_at)"
                  " VALUES (%s, %s, 'Warga', %s, 'sukajadi', 'kk',"
                  " %s::date + %s, %s, %s, CASE WHEN %s = 'cancelled'"
                  " THEN now() END)",
                  (code("A", n), "14710141019%05d" % n, "+6281300000%03d" % n,
                   today, days, n, status, status))
    cfg = file_config(sched, jobs__reminder__at="18:00")
    r = sched.run("once", "reminder", "--dry-run", config=cfg)
    assert r.returncode == 0 and "2 booked, 2 to remind" in r.stdout, r
    assert sched.value("SELECT count(*) FROM notification") == 0

    for _ in range(2):                  # a second run writes nothing more
        r = sched.run("once", "reminder", config=cfg)
        assert r.returncode == 0, r.stderr
    got = sched.sql("SELECT a.code, n.params, n.phone FROM notification n"
                    " JOIN appointment a ON a.id = n.appointment_id"
                    " WHERE n.kind = 'appointment_reminder' ORDER BY 1")
    assert [g[0] for g in got] == [code("A", 1), code("A", 2)]
    assert got[0][1] == {"code": code("A", 1),
                         "date": str(today + datetime.timedelta(days=1)),
                         "office_name": "UPT Disdukcapil Kecamatan Sukajadi",
                         "service_name": "Kartu Keluarga", "queue_number": 1}
    assert [x["counts"]["reminders"] for x in sched.runs("reminder")] == [2, 0]

    d = sched.start("run", config=cfg)
    try:
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'") == 2, 10,
                   what="the reminders sent")
    finally:
        assert sched.stop(d) == 0
    texts = [l["text"] for l in read_lines(messages_path(sched))]
    assert all(t.startswith("Pengingat: besok ") for t in texts), texts
    assert "di UPT Disdukcapil Kecamatan Sukajadi, antrean 1." in texts[0] or \
        "di UPT Disdukcapil Kecamatan Sukajadi, antrean 1." in texts[1]


def test_reminder_slot_runs_at_its_wib_time_once(sched):
    sched.sql("INSERT INTO appointment (code, nik, name, phone, office,"
              " service, date, queue_number) VALUES (%s, %s, 'Warga', %s,"
              " 'mpp', 'ktp', (now() AT TIME ZONE 'Asia/Jakarta')::date + 1,"
              " 1)", (code("A", 1), NIK, PHONE))
    now = time.time() + 7 * 3600
    hhmm = time.strftime("%H:%M", time.gmtime(now - 120))
    cfg = file_config(sched, jobs__reminder__at=hhmm)
    d = sched.start("run", config=cfg)
    try:
        sched.wait_log(d, "run_end job=reminder")
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'") == 1, 10,
                   what="the reminder sent")
    finally:
        assert sched.stop(d) == 0
    runs = sched.runs("reminder")
    assert len(runs) == 1 and runs[0]["reason"] == "slot"
    assert runs[0]["counts"]["reminders"] == 1


def prom(path):
    with open(path) as f:
        return f.read()


def test_metrics_file_for_node_exporter(sched, gw):
    gw.script = lambda req: (400, 0) if req["channel"] == "whatsapp" \
        else (200, 0)
    metrics = os.path.join(sched.st.root, "dukcapil_notification.prom")
    insert(sched, "otp", {"code": "111111"})
    insert(sched, "delivery_delivered", {"code": "P-7K3M-9QX2-BHT4"})
    # waits a minute: queued, the oldest
    insert(sched, "delivery_delivered", {"code": "P-7K3M-9QX2-BHT5"},
           next_attempt_at="2999-01-01T00:00:00Z",
           created_at=datetime.datetime.now(datetime.timezone.utc)
           - datetime.timedelta(seconds=90))
    cfg = http_config(sched, gw, notification__metrics_file=metrics,
                      notification__metrics_seconds=1)
    d = sched.start("run", config=cfg)
    try:
        wait_until(lambda: os.path.exists(metrics) and
                   'sent_total{kind="otp",channel="sms"} 1' in prom(metrics)
                   and 'kind="delivery_delivered",channel="sms"} 1'
                   in prom(metrics), 15, what="the figures")
    finally:
        assert sched.stop(d) == 0
    text = prom(metrics)
    assert 'dukcapil_notifications_failed_total{kind="otp",' \
        'channel="whatsapp"} 1' in text
    assert 'dukcapil_notifications_queued{kind="delivery_delivered",' \
        'channel="pending"} 1' in text
    oldest = float(re.search(r"^dukcapil_notifications_oldest_queued_seconds"
                             r" (\S+)$", text, re.M).group(1))
    assert 85 <= oldest <= 200
    assert "# TYPE dukcapil_notifications_sent_total counter" in text
    for l in text.splitlines():
        assert l.startswith("#") or re.fullmatch(
            r'dukcapil_\w+(\{(\w+="[^"]*",?)+\})? [0-9.]+', l), l
    left = [f for f in os.listdir(sched.st.root) if f.endswith(".tmp")]
    assert left == []


def test_sighup_rereads_the_templates_and_a_bad_file_keeps_them(sched):
    cfg = file_config(sched)
    d = sched.start("run", config=cfg)
    try:
        sched.wait_log(d, "sender_connected")
        insert(sched, "delivery_delivered", {"code": "P-1"})
        wait_until(lambda: len(read_lines(messages_path(sched))) == 1
                   if os.path.exists(messages_path(sched)) else False, 10,
                   what="the first line")
        # a bad template: the reload is refused, the old text stays
        file_config(sched, notification__templates__delivery_delivered=(
            '"Diterima {reason}"'))
        d.send_signal(signal.SIGHUP)
        sched.wait_log(d, "config_reload_failed")
        insert(sched, "delivery_delivered", {"code": "P-2"})
        wait_until(lambda: len(read_lines(messages_path(sched))) == 2, 10,
                   what="the second line")
        file_config(sched, notification__templates__delivery_delivered=(
            '"Dokumen {code} diterima."'))
        d.send_signal(signal.SIGHUP)
        sched.wait_log(d, "config_reloaded")
        sched.wait_log(d, "sender_connected", timeout=10)
        wait_until(lambda: sched.log_of(d).count("sender_connected") == 2, 10,
                   what="the sender connected again")
        insert(sched, "delivery_delivered", {"code": "P-3"})
        wait_until(lambda: len(read_lines(messages_path(sched))) == 3, 10,
                   what="the third line")
    finally:
        assert sched.stop(d) == 0
    texts = [l["text"] for l in read_lines(messages_path(sched))]
    assert texts[0] == "Dokumen Anda (P-1) sudah diterima. Terima kasih."
    assert texts[1] == "Dokumen Anda (P-2) sudah diterima. Terima kasih."
    assert texts[2] == "Dokumen P-3 diterima."


def test_at_most_rate_a_second_and_no_more_claimed_than_half_a_lease_sends(
        sched, gw):
    ids = [insert(sched, "delivery_delivered", {"code": code("P", i)})
           for i in range(20)]
    cfg = http_config(sched, gw, notification__http__rate=4,
                      notification__lease_seconds=5)
    d = sched.start("run", config=cfg)
    claimed = []
    try:
        deadline = time.monotonic() + 15
        while sched.value("SELECT count(*) FROM notification"
                          " WHERE status = 'sent'") < 20:
            assert time.monotonic() < deadline, "not all sent in 15 s"
            claimed.append(sched.value(
                "SELECT count(*) FROM notification WHERE status = 'queued'"
                " AND attempts > 0"))
            time.sleep(0.1)
    finally:
        assert sched.stop(d) == 0
    reqs = gw.snapshot()
    assert sorted(q["id"] for q in reqs) == sorted(map(str, ids))
    at = sorted(q["at"] for q in reqs)
    assert at[-1] - at[0] >= 19 / 4 - 0.5, at       # 4 a second
    for i in range(len(at) - 5):
        assert at[i + 5] - at[i] >= 1 - 0.3, at      # never 6 in a second
    # rate 4 x lease 5 s / 2: claimed rows all start well within their lease
    assert max(claimed) <= 10, claimed


def test_a_job_held_up_never_holds_a_code_up(sched, gw):
    # a past booked appointment locked by us: reconcile's no-show update
    # waits on it, as a long night's job would
    sched.sql("INSERT INTO appointment (code, nik, name, phone, office,"
              " service, date, queue_number) VALUES (%s, %s, 'W', %s, 'mpp',"
              " 'ktp', current_date - 3, 1)", (code("A", 1), NIK, PHONE))
    conn = sched.db()
    conn.autocommit = False
    try:
        with conn.cursor() as c:
            c.execute("SELECT 1 FROM appointment FOR UPDATE")
        d = sched.start("run", config=http_config(sched, gw))
        sched.wait_log(d, "run_start job=reconcile")
        time.sleep(0.5)
        assert "run_end job=reconcile" not in sched.log_of(d)
        nid = insert(sched, "otp", {"code": "135790"})
        t0 = time.monotonic()
        gw.wait_for(lambda q: any(x["id"] == str(nid) for x in q), 3,
                    "the code while the job waits")
        assert time.monotonic() - t0 < 3
        assert "run_end job=reconcile" not in sched.log_of(d)
    finally:
        conn.rollback()
        conn.close()
    try:
        sched.wait_log(d, "run_end job=reconcile")
    finally:
        assert sched.stop(d) == 0
    assert row(sched, nid)["status"] == "sent"


def test_a_code_past_its_validity_is_failed_never_sent(sched, gw):
    stale = insert(sched, "otp", {"code": "192837"},
                   created_at=datetime.datetime.now(datetime.timezone.utc)
                   - datetime.timedelta(minutes=6))
    fresh = insert(sched, "otp", {"code": "564738"})
    d = sched.start("run", config=http_config(sched, gw))
    try:
        r = wait_status(sched, stale, "failed")
        wait_status(sched, fresh, "sent")
    finally:
        assert sched.stop(d) == 0
    assert [q["id"] for q in gw.snapshot()] == [str(fresh)]
    assert r["params"] == {} and "expired" in r["last_error"]


def test_postgres_restarted_mid_send_each_row_sent_once_and_settled(sched,
                                                                     gw):
    gw.script = lambda req: (200, 1.5) if req["n"] == 0 else (200, 0)
    ids = [insert(sched, "delivery_delivered", {"code": code("P", i)})
           for i in range(4)]
    d = sched.start("run", config=http_config(
        sched, gw, notification__http__timeout_ms=5000))
    try:
        gw.wait_for(lambda q: len(q) == 4, 10, "four in flight")
        sched.st.stop_postgres()        # the answers come while it is down
        time.sleep(2.5)
        sched.st.start_postgres(migrate=False)
        wait_until(lambda: sched.value("SELECT count(*) FROM notification"
                                       " WHERE status = 'sent'") == 4, 20,
                   what="the answers settled after the restart")
        more = insert(sched, "otp", {"code": "102938"})
        wait_status(sched, more, "sent")
    finally:
        sched.st.start_postgres(migrate=False)
        assert sched.stop(d) == 0
    reqs = gw.snapshot()
    assert sorted(q["id"] for q in reqs) == sorted(map(str, ids + [more]))
    assert sched.value("SELECT max(attempts) FROM notification") == 1
    assert "sender_postgres_lost" in sched.log_of(d)
