"""Issue 12, the delivery budget: periods as dates, a post submission decided
against the period's budget in its own transaction, documents that wait too
long picked up at their office, and the warnings as the budget is spent.

The stack is the scheduler's (PostgreSQL, Redis) with nginx and the module
on it: the daemon's batches spend the budget, the module's submissions are
decided against it."""

import os
import re
import signal
import socket

import pytest

from conftest import assert_no_alerts
from helpers import burst, http_for, request_bytes
from stack import wait_until
from stack.nginx import OFFICES
from appointments_helpers import second_nginx
from applications_helpers import (APPS, GOOD_ADDRESS, application,
                                  citizen_view, drive, history_rows)
from scheduler_fixtures import (  # noqa: F401
    KECAMATAN, clock_at, code, sched, sched_stack, seed_completed)

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

# the offices of the demo nginx.conf, by code, in its order
DEMO_OFFICES = [c for c, _ in OFFICES]

ENGLISH = re.compile(r"\b(the|by|of|delivery|batch|courier|returned|failed|"
                     r"office|pickup|attempt|budget)\b", re.I)


@pytest.fixture
def site(sched):
    """nginx with the module on the scheduler's stack: the client."""
    if not sched.st.nginx_running():
        sched.st.start_nginx()
    return http_for(sched.st)


def batch(sched, cfg, at=None):
    r = sched.run("once", "delivery-batch", config=cfg,
                  env=clock_at(at) if at else None)
    assert r.returncode == 0, r.stderr
    return r


def count(sched, table):
    return sched.value("SELECT count(*) FROM %s" % table)


def assert_indonesian(note):
    assert note and not ENGLISH.search(note), note


def test_spent_budget_refuses_post_names_the_offices_and_takes_pickup(
        sched, site):
    """The period's budget of 4 with 3 delivered: one more post application
    fits (3 batched + 0 waiting < 4) and is taken; the next is 422
    delivery_budget_exhausted (3 + 1 >= 4) naming every office to pick up
    at, the UPT of the address's kecamatan first, and stores nothing; a
    pickup application is still 201. A rejected post application gives its
    place back."""
    seed_completed(sched, 3)
    cfg = sched.config(delivery__budget_total=4)
    batch(sched, cfg)
    assert count(sched, "delivery") == 3

    first = site.post(APPS, application(1, "post"))
    assert first.status == 201, first
    n = count(sched, "application")

    r = site.post(APPS, application(2, "post"))
    assert (r.status, r.error, r.field) == \
        (422, "delivery_budget_exhausted", "delivery"), r
    assert "PT Pos" in r.json()["message"]
    offices = r.json()["pickup_offices"]
    # GOOD_ADDRESS (Tampan, kelurahan Simpang Baru) is Binawidya's
    assert [o["code"] for o in offices] == \
        ["binawidya"] + [c for c in DEMO_OFFICES if c != "binawidya"]
    assert offices[0]["name"] == "UPT Disdukcapil Kecamatan Binawidya"
    assert count(sched, "application") == n

    # an address whose kecamatan has no office of the configuration: the MPP
    # is offered first
    r = site.post(APPS, application(3, "post", address=dict(
        GOOD_ADDRESS, kelurahan="Kampung Tengah", kecamatan="Sukajadi",
        postal_code="28128")))
    assert r.error == "delivery_budget_exhausted", r
    assert r.json()["pickup_offices"][0]["code"] == "sukajadi"

    r = site.post(APPS, application(4, "pickup", office="binawidya"))
    assert r.status == 201, r

    # rejected, the first no longer counts against the budget
    drive(site.ops, first.json()["code"], ["rejected"])
    assert site.post(APPS, application(2, "post")).status == 201


def test_concurrent_post_submissions_never_take_more_than_the_budget(
        sched, site):
    """30 post submissions at the same moment against a budget of 5 with
    nothing spent: exactly 5 are 201 and 25 are 422: the decision and the
    INSERT are one transaction, serialised, never a stale count."""
    cfg = sched.config(delivery__budget_total=5)
    batch(sched, cfg)                       # writes the period's row
    port = sched.st.http_port
    answers = burst([(port, request_bytes("POST", APPS, application(100 + i),
                                          port=port))
                     for i in range(30)])
    kinds = {}
    for a in answers:
        assert not isinstance(a, BaseException), a
        key = (a.status, a.error)
        kinds[key] = kinds.get(key, 0) + 1
    assert kinds == {(201, None): 5, (422, "delivery_budget_exhausted"): 25}
    assert count(sched, "application") == 5


def faked_nginx(make_stack, sched, utc):
    """A second nginx on the scheduler's stack, its wall clock frozen at
    `utc` by libfaketime."""
    return second_nginx(make_stack, sched.st, env={
        "LD_PRELOAD": LIBFAKETIME, "FAKETIME": utc, "TZ": "UTC",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1"})


def test_a_new_period_starts_by_itself_on_its_first_day(sched, make_stack):
    """DAK is yearly (budget_period_start 01-01): on 31 December 2027 the
    year's budget of 2 is spent, so the module (its clock on that day) says
    422; on 1 January 2028 (its clock a day on) the new period's budget
    takes post again, and the scheduler's night of 1 January batches in it,
    all with the configuration unchanged."""
    seed_completed(sched, 3)
    cfg = sched.config(delivery__budget_total=2)
    batch(sched, cfg, at="2027-12-31 01:00")
    assert count(sched, "delivery") == 2

    dec31 = faked_nginx(make_stack, sched, "2027-12-31 05:00:00")  # 12:00 WIB
    mark = dec31.error_log_size()
    r = http_for(dec31).post(APPS, application(1, "post"))
    assert (r.status, r.error) == (422, "delivery_budget_exhausted"), r
    assert_no_alerts(dec31, mark)

    # 1 January, 00:30 WIB
    jan1 = faked_nginx(make_stack, sched, "2027-12-31 17:30:00")
    r = http_for(jan1).post(APPS, application(1, "post"))
    assert r.status == 201, r

    batch(sched, cfg, at="2028-01-01 01:00")
    run = sched.runs("delivery-batch")[-1]
    assert run["counts"]["budget_period"] == "2028-01-01..2028-12-31"
    assert (run["counts"]["batched"], run["counts"]["budget_used"]) == (1, 1)
    assert sched.sql("SELECT starts::text, ends::text FROM delivery_period"
                     " ORDER BY starts") == [
        ("2027-01-01", "2027-12-31"), ("2028-01-01", "2028-12-31"),
        ("2029-01-01", "2029-12-31")]


def test_post_documents_waiting_past_the_age_move_to_pickup_at_their_office(
        sched, site):
    """Budget spent (0): a post document completed 31 days ago (over
    pickup_after_days 30) awaits pickup at the UPT of its kecamatan; one
    whose kecamatan no one confirmed at the MPP; one completed 5 days ago
    still waits. Each move is one history row of the scheduler, in
    Indonesian, that the citizen reads with the office in the status."""
    r = site.post(APPS, application(1, "post"))
    assert r.status == 201, r
    mine = r.json()["code"]
    nik = application(1, "post")["nik"]
    drive(site.ops, mine, ["verified", "processing", "completed"])
    seed_completed(sched, 2, start=10)
    sched.sql("UPDATE application SET kecamatan_code = NULL,"
              " kecamatan_needs_confirmation = true WHERE code = %s",
              (code("P", 11),))
    sched.sql("UPDATE application SET completed_at = now() - interval"
              " '31 days' WHERE code IN (%s, %s)", (mine, code("P", 11)))
    sched.sql("UPDATE application SET completed_at = now() - interval"
              " '5 days' WHERE code = %s", (code("P", 10),))

    cfg = sched.config(delivery__budget_total=0,
                       delivery__pickup_after_days=30)
    r = sched.run("once", "delivery-batch", "--dry-run", config=cfg)
    assert "would move 2 waiting over 30 days" in r.stdout, r.stdout
    r = batch(sched, cfg)
    assert "event=delivery_to_pickup" in r.stderr and "moved=2" in r.stderr
    counts = sched.runs("delivery-batch")[-1]["counts"]
    assert (counts["batched"], counts["to_pickup"], counts["waiting"]) == \
        (0, 2, 1)

    rows = dict((c, (s, m, o)) for c, s, m, o in sched.sql(
        "SELECT code, status, delivery_method, pickup_office"
        " FROM application"))
    assert rows[mine] == ("awaiting_pickup", "pickup", "binawidya")
    assert rows[code("P", 11)] == ("awaiting_pickup", "pickup", "mpp")
    assert rows[code("P", 10)] == ("completed", "post", None)

    view = citizen_view(site, mine, nik).json()
    assert view["status"] == "awaiting_pickup"
    assert view["delivery"]["method"] == "pickup"
    assert view["delivery"]["office"] == "binawidya"
    assert view["delivery"]["office_name"] == \
        "UPT Disdukcapil Kecamatan Binawidya"
    last = view["history"][-1]
    assert last["status"] == "awaiting_pickup"
    assert last["note"] == (
        "Anggaran pengiriman dokumen melalui PT Pos untuk periode ini sudah "
        "habis. Silakan ambil dokumen Anda di UPT Disdukcapil Kecamatan "
        "Binawidya. Bawa KTP-el dan kode permohonan.")
    assert history_rows(sched.st, mine)[-1][:3] == \
        ("completed", "awaiting_pickup", "scheduler")
    unconfirmed = history_rows(sched.st, code("P", 11))[-1][3]
    assert unconfirmed.startswith("Kecamatan alamat Anda belum dapat "
                                  "dipastikan"), unconfirmed
    assert "Mal Pelayanan Publik Pekanbaru" in unconfirmed

    # moved once: the next night has nothing more to move
    batch(sched, cfg)
    assert sched.runs("delivery-batch")[-1]["counts"]["to_pickup"] == 0


def test_the_log_warns_at_80_and_95_percent_once_each(sched):
    """A budget of 20: 16 batched is 80% (one warning), the night after with
    nothing new none, 19 is 95% (one warning, and not 80% again), then none;
    `status` shows used and left."""
    cfg = sched.config(delivery__budget_total=20)
    warnings = []

    def night(at):
        r = batch(sched, cfg, at=at)
        warnings.append(re.findall(r"event=budget_warning level=(\d+)%",
                                   r.stderr))
        return r

    seed_completed(sched, 16)
    r = night("2026-12-02 01:00")
    assert "period=2026-01-01..2026-12-31 used=16 amount=20 left=4" \
        in r.stderr, r.stderr
    night("2026-12-03 01:00")
    seed_completed(sched, 3, start=100)
    night("2026-12-04 01:00")
    seed_completed(sched, 1, start=200)
    night("2026-12-05 01:00")
    assert warnings == [["80"], [], ["95"], []]
    assert sched.value("SELECT warned_80_at IS NOT NULL AND warned_95_at IS"
                       " NOT NULL FROM delivery_period"
                       " WHERE starts = '2026-01-01'")

    r = sched.run("status", config=cfg, env=clock_at("2026-12-05 09:00"))
    assert r.returncode == 0, r.stderr
    status = dict(l.split(": ", 1) for l in r.stdout.splitlines())
    assert status["budget_period"] == "2026-01-01..2026-12-31"
    assert (status["budget_amount"], status["budget_used"],
            status["budget_left"]) == ("20", "20", "0")
    assert status["next_period"] == "2027-01-01..2027-12-31"
    assert status["warned_80"] != "no" and status["warned_95"] != "no"


def test_every_note_the_delivery_writes_is_indonesian(sched, site):
    """The notes of the scheduler's and the courier's steps that a citizen
    reads (batched, in transit, failed, delivered, returned, pickup) hold
    no English word."""
    seed_completed(sched, 4)
    cfg = sched.config(delivery__max_attempts=2)
    batch(sched, cfg)
    path = os.path.join(sched.st.root, "notes.csv")
    with open(path, "w") as f:
        f.write("tracking_code,resi,status,time,receiver,note\n"
                "%s,R1,in_transit,2026-11-28T08:00:00+07:00,,\n"
                "%s,R1,delivered,2026-11-28T09:00:00+07:00,Budi,\n"
                "%s,R2,returned,2026-11-28T09:00:00+07:00,,\n"
                "%s,R3,failed,2026-11-28T09:00:00+07:00,,\n"
                "%s,R3,failed,2026-11-29T09:00:00+07:00,,\n"
                % (code("P", 1), code("P", 1), code("P", 2), code("P", 3),
                   code("P", 3)))
    r = sched.run("import-delivery", path, config=cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    notes = [n for (n,) in sched.sql(
        "SELECT note FROM application_history WHERE actor IN"
        " ('scheduler', 'pos-indonesia') ORDER BY id")]
    assert len(notes) == 4 + 2 + 2 + 4
    for note in notes:
        assert_indonesian(note)


def test_the_daemon_shows_the_budget_and_a_reload_reaches_submissions(sched):
    """The daemon's systemd status names the period, used and left after its
    batch; a new amount in the file reaches delivery_period (what the
    module's submissions are decided against) with SIGHUP, before any
    batch."""
    seed_completed(sched, 3)
    cfg = sched.config(delivery__budget_total=7)
    path = os.path.join(sched.st.root, "budget-notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    env = dict(clock_at("2026-06-15 12:00"), NOTIFY_SOCKET=path)
    try:
        d = sched.start("run", config=cfg, env=env)
        seen = []
        while not any("delivery budget" in m for m in seen):
            seen.append(sock.recv(4096).decode())
        assert "STATUS=waiting for the next slot; delivery budget " \
            "2026-01-01..2026-12-31: 3 of 7 used, 4 left" in seen[-1], seen

        sched.config(name=os.path.basename(cfg), delivery__budget_total=9)
        d.send_signal(signal.SIGHUP)
        wait_until(lambda: sched.value(
            "SELECT amount FROM delivery_period WHERE starts = '2026-01-01'")
            == 9, 10, what="the new amount")
        assert len(sched.runs("delivery-batch")) == 1
        assert sched.stop(d) == 0
    finally:
        sock.close()
