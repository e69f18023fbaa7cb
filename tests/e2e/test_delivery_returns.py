"""Issue 12, no document left stuck: a delivery that fails max_attempts
times, or comes back, awaits pickup at a named office (the UPT of the
citizen's kecamatan, else the MPP), which the citizen reads in the status
with the office; every failed delivery is a history row the citizen reads."""

import os

import pytest

from helpers import http_for
from applications_helpers import citizen_view
from scheduler_fixtures import (  # noqa: F401
    KECAMATAN, code, sched, sched_stack, seed_completed)


def nik_of(i):
    """The NIK seed_completed gives application i."""
    return "1471014101%06d" % i


@pytest.fixture
def batched(sched):
    """Six applications batched for delivery (seed i lives in KECAMATAN[i %
    3]: 1 and 4 Pekanbaru Kota, 2 and 5 Binawidya, 3 and 6 Sukajadi), and
    nginx on the same stack for the citizen's view."""
    seed_completed(sched, 6)
    r = sched.run("once", "delivery-batch",
                  config=sched.config(delivery__max_attempts=3))
    assert r.returncode == 0, r.stderr
    if not sched.st.nginx_running():
        sched.st.start_nginx()
    return sched


def courier_file(sched, name, lines):
    path = os.path.join(sched.st.root, name)
    with open(path, "w") as f:
        f.write("tracking_code,resi,status,time,receiver,note\n")
        for c, status, at, note in lines:
            f.write("%s,RESI-%s,%s,%s,,%s\n" % (c, c[-4:], status, at, note))
    return path


def imported(sched, path, **cfg):
    r = sched.run("import-delivery", path, config=sched.config(**cfg))
    assert r.returncode == 0, r.stdout + r.stderr
    return sched.runs("import-delivery")[-1]["counts"]


def state(sched, i):
    return sched.sql("SELECT a.status, a.delivery_method, a.pickup_office,"
                     " d.status, d.attempts FROM application a"
                     " JOIN delivery d ON d.application_id = a.id"
                     " WHERE a.code = %s", (code("P", i),))[0]


def test_max_attempts_failed_deliveries_await_pickup_at_the_kecamatans_upt(
        batched):
    """max_attempts 3: two failed deliveries keep the document with the
    courier, each a history row the citizen reads; the third gives it up:
    returned, then awaiting pickup at UPT Pekanbaru Kota (the citizen's
    kecamatan), shown in the citizen's status with the office. The courier's
    own 'returned' line for it later changes nothing."""
    sched = batched
    c = code("P", 1)
    counts = imported(sched, courier_file(sched, "f1.csv", [
        (c, "failed", "2026-11-28T09:00:00+07:00", "rumah kosong"),
        (c, "failed", "2026-11-29T09:00:00+07:00", "")]),
        delivery__max_attempts=3)
    assert counts["to_pickup"] == 0
    assert state(sched, 1) == ("in_transit", "post", None, "in_transit", 2)

    counts = imported(sched, courier_file(sched, "f2.csv", [
        (c, "failed", "2026-11-30T09:00:00+07:00", "tidak ada orang")]),
        delivery__max_attempts=3)
    assert counts["to_pickup"] == 1
    assert state(sched, 1) == ("awaiting_pickup", "post", "pekanbaru_kota",
                               "returned", 3)

    view = citizen_view(http_for(sched.st), c, nik_of(1)).json()
    assert view["status"] == "awaiting_pickup"
    assert view["delivery"]["office"] == "pekanbaru_kota"
    assert view["delivery"]["office_name"] == \
        "UPT Disdukcapil Kecamatan Pekanbaru Kota"
    assert view["delivery"]["tracking_number"] == "RESI-0001"
    # (a seed has no history before its batch)
    assert [(h["status"], h.get("note")) for h in view["history"]] == [
        ("batched", "Dokumen Anda masuk daftar kiriman PT Pos (manifes %s)."
         % sched.value("SELECT b.code FROM delivery_batch b JOIN delivery d"
                       " ON d.batch_id = b.id JOIN application a"
                       " ON a.id = d.application_id WHERE a.code = %s",
                       (c,))),
        ("in_transit", "Pengantaran ke-1 oleh PT Pos gagal. PT Pos akan "
                       "mengantar lagi. Catatan PT Pos: rumah kosong"),
        ("in_transit", "Pengantaran ke-2 oleh PT Pos gagal. PT Pos akan "
                       "mengantar lagi."),
        ("in_transit", "Pengantaran ke-3 oleh PT Pos gagal. Catatan PT Pos: "
                       "tidak ada orang"),
        ("returned", "Dokumen tidak dapat diantar setelah 3 kali percobaan "
                     "dan dikembalikan ke Disdukcapil."),
        ("awaiting_pickup", "Silakan ambil dokumen Anda di UPT Disdukcapil "
                            "Kecamatan Pekanbaru Kota. Bawa KTP-el dan kode "
                            "permohonan."),
    ]

    # the courier brings it back and says so: nothing changes
    before = sched.value("SELECT count(*) FROM application_history")
    counts = imported(sched, courier_file(sched, "f3.csv", [
        (c, "returned", "2026-12-01T09:00:00+07:00", "dikembalikan"),
        (c, "failed", "2026-12-01T10:00:00+07:00", "")]),
        delivery__max_attempts=3)
    assert (counts["applied"], counts["ignored"]) == (0, 2)
    assert sched.value("SELECT count(*) FROM application_history") == before

    # then the citizen collects it at the office
    r = http_for(sched.st).ops.post(
        "/api/v1/ops/applications/%s/status" % c, {"status": "picked_up"})
    assert r.status == 200, r


def test_a_return_awaits_pickup_at_the_upt_or_at_the_mpp(batched):
    """A return (straight from batched, or from in transit) awaits pickup at
    the UPT of the citizen's kecamatan; where the kecamatan has no UPT that
    hands out documents (kecamatan.upt_office NULL), at the MPP. Never
    without an office."""
    sched = batched
    sched.sql("UPDATE kecamatan SET upt_office = NULL WHERE code = '14.71.01'")
    try:
        imported(sched, courier_file(sched, "r.csv", [
            (code("P", 2), "returned", "2026-11-28T09:00:00+07:00",
             "alamat tidak ditemukan"),
            (code("P", 3), "in_transit", "2026-11-28T08:00:00+07:00", ""),
            (code("P", 3), "returned", "2026-11-28T15:00:00+07:00", "")]))
    finally:
        sched.sql("UPDATE kecamatan SET upt_office = 'sukajadi'"
                  " WHERE code = '14.71.01'")
    assert state(sched, 2) == ("awaiting_pickup", "post", "binawidya",
                               "returned", 0)
    assert state(sched, 3) == ("awaiting_pickup", "post", "mpp",
                               "returned", 0)
    assert sched.value("SELECT count(*) FROM application"
                       " WHERE status = 'awaiting_pickup'"
                       " AND pickup_office IS NULL") == 0

    view = citizen_view(http_for(sched.st), code("P", 3), nik_of(3)).json()
    assert (view["status"], view["delivery"]["office"],
            view["delivery"]["office_name"]) == \
        ("awaiting_pickup", "mpp", "Mal Pelayanan Publik Pekanbaru")
    assert [h["status"] for h in view["history"][-3:]] == \
        ["in_transit", "returned", "awaiting_pickup"]
    assert view["history"][-2]["note"] == \
        "Dokumen dikembalikan oleh PT Pos ke Disdukcapil."
    assert "Mal Pelayanan Publik Pekanbaru" in view["history"][-1]["note"]
