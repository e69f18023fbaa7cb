"""dukcapil-scheduler import-delivery: the courier's results, all or nothing."""

import hashlib
import os

import pytest

from scheduler_fixtures import code, sched, sched_stack, seed_completed  # noqa: F401


@pytest.fixture
def batched(sched):
    """Six applications batched for delivery."""
    seed_completed(sched, 6)
    r = sched.run("once", "delivery-batch", config=sched.config())
    assert r.returncode == 0, r.stderr
    return sched


def write(sched, name, text):
    path = os.path.join(sched.st.root, name)
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def state(sched):
    """Everything an import may change."""
    return (sched.sql("SELECT a.code, a.status, d.status, d.resi, d.attempts,"
                      " d.receiver, d.last_event_at FROM delivery d"
                      " JOIN application a ON a.id = d.application_id"
                      " ORDER BY a.code"),
            sched.value("SELECT count(*) FROM application_history"),
            sched.value("SELECT count(*) FROM delivery_event"),
            sched.value("SELECT count(*) FROM delivery_import"))


GOOD = (
    # columns in another order, and one the courier added
    "status,time,tracking_code,resi,receiver,note,kantor\r\n"
    "in_transit,2026-11-28T08:00:00+07:00,{1},RESI1,,,Kantor A\r\n"
    "delivered,2026-11-28T10:30:00+07:00,{1},RESI1,Budi,\"diterima, baik\",A\r\n"
    "failed,2026-11-28T09:00:00+07:00,{2},RESI2,,rumah kosong,A\r\n"
    "failed,2026-11-29T09:00:00+07:00,{2},RESI2,,\"tutup\nlagi\",A\r\n"
    "returned,2026-11-30T09:00:00Z,{3},RESI3,,alamat tidak ditemukan,A\r\n"
    # straight from batched, and the code as a citizen would type it
    "delivered,2026-11-28T11:00:00.5+07:00,{4},RESI4,Ani,,A\r\n"
)


def good_file(sched, name="good.csv"):
    c = {i: code("P", i) for i in range(1, 7)}
    c[4] = c[4].replace("-", "").lower().replace("0", "o")
    return write(sched, name, GOOD.format(*[None] + [c[i] for i in range(1, 7)]))


def app(sched, n):
    return sched.sql("SELECT a.status, d.status, d.resi, d.attempts,"
                     " d.receiver FROM delivery d JOIN application a"
                     " ON a.id = d.application_id WHERE a.code = %s",
                     (code("P", n),))[0]


def test_good_file_moves_deliveries_and_applications(batched):
    sched = batched
    r = sched.run("import-delivery", good_file(sched), config=sched.config())
    assert r.returncode == 0, r.stderr

    assert app(sched, 1) == ("delivered", "delivered", "RESI1", 0, "Budi")
    assert app(sched, 2) == ("in_transit", "in_transit", "RESI2", 2, None)
    assert app(sched, 3) == ("awaiting_pickup", "returned", "RESI3", 0, None)
    assert app(sched, 4) == ("delivered", "delivered", "RESI4", 0, "Ani")
    assert app(sched, 5) == ("batched", "batched", None, 0, None)

    hist = sched.sql("SELECT from_status, to_status, note FROM"
                     " application_history h JOIN application a"
                     " ON a.id = h.application_id WHERE a.code = %s"
                     " AND actor = 'pos-indonesia' ORDER BY h.id",
                     (code("P", 3),))
    # seed 3 lives in Sukajadi (14.71.01): its UPT keeps the document
    assert hist == [
        ("batched", "returned",
         "Dokumen dikembalikan oleh PT Pos ke Disdukcapil. Catatan PT Pos: "
         "alamat tidak ditemukan"),
        ("returned", "awaiting_pickup",
         "Silakan ambil dokumen Anda di UPT Disdukcapil Kecamatan Sukajadi. "
         "Bawa KTP-el dan kode permohonan.")]
    assert sched.value("SELECT pickup_office FROM application WHERE code = %s",
                       (code("P", 3),)) == "sukajadi"
    # a step each, and a note for each failed delivery after the first
    assert sched.value("SELECT count(*) FROM application_history"
                       " WHERE actor = 'pos-indonesia'") == 7
    run = sched.runs("import-delivery")[-1]
    assert run["outcome"] == "ok" and run["counts"]["applied"] == 6


def test_the_same_file_twice_changes_nothing_the_second_time(batched):
    sched = batched
    path = good_file(sched)
    assert sched.run("import-delivery", path, config=sched.config()).returncode == 0
    before = state(sched)
    r = sched.run("import-delivery", path, config=sched.config())
    assert r.returncode == 0, r.stderr
    assert "import_already_done" in r.stderr
    assert state(sched) == before

    # the same events in another file (another order, one more line) are
    # applied once: only the new line changes anything
    lines = open(path).read().split("\r\n")
    extra = "in_transit,2026-11-28T08:00:00+07:00,%s,RESI5,,,A" % code("P", 5)
    again = write(sched, "again.csv",
                  "\r\n".join([lines[0]] + lines[1:-1][::-1] + [extra]) + "\r\n")
    r = sched.run("import-delivery", again, config=sched.config())
    assert r.returncode == 0, r.stderr
    after = state(sched)
    assert after[1] == before[1] + 1                  # one history row
    assert after[2] == before[2] + 1                  # one event
    assert app(sched, 5)[:2] == ("in_transit", "in_transit")
    assert app(sched, 2)[3] == 2                      # failures not recounted
    assert sched.runs()[-1]["counts"]["ignored"] == 6


def test_a_file_with_bad_lines_changes_nothing_and_names_every_one(batched):
    sched = batched
    before = state(sched)
    path = write(sched, "bad.csv", "\n".join([
        "tracking_code,resi,status,time,receiver,note",
        "%s,R1,in_transit,2026-11-28T08:00:00+07:00,," % code("P", 1),   # 2 ok
        "%s,R2,lost,2026-11-28T08:00:00+07:00,," % code("P", 2),         # 3
        "%s,R3,delivered,28/11/2026 08:00,," % code("P", 3),             # 4
        "%s,R4,delivered,2026-11-28T08:00:00+07:00,," % code("P", 99),   # 5
        "not-a-code,R5,delivered,2026-11-28T08:00:00+07:00,,",           # 6
        "%s,,delivered,2026-11-28T08:00:00+07:00,," % code("P", 5),      # 7
        "%s,R6,delivered,2026-11-28T08:00:00+07:00,," % code("P", 6),    # 8 ok
        "%s,R6,in_transit,2026-11-29T08:00:00+07:00,," % code("P", 6),   # 9
        "",
    ]))
    r = sched.run("import-delivery", path, config=sched.config())
    assert r.returncode == 65, (r.returncode, r.stderr)
    bad = [l.split(":")[1].strip() for l in r.stdout.splitlines()]
    assert bad == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 9"]
    assert "delivery is already delivered" in r.stdout
    assert state(sched) == before
    run = sched.runs("import-delivery")[-1]
    assert run["outcome"] == "failed" and run["counts"]["bad_lines"] == 6

    # once mended, the same lines go in
    fixed = write(sched, "fixed.csv", "\n".join([
        "tracking_code,resi,status,time,receiver,note",
        "%s,R1,in_transit,2026-11-28T08:00:00+07:00,," % code("P", 1),
        "%s,R6,delivered,2026-11-28T08:00:00+07:00,," % code("P", 6)]))
    assert sched.run("import-delivery", fixed,
                     config=sched.config()).returncode == 0
    assert app(sched, 6)[0] == "delivered"


def test_a_nul_byte_or_an_unterminated_quote_is_a_bad_line(batched):
    """`delivered\\0junk` is not `delivered`, and a quote left open runs to
    the end of the file: each is a bad line, named, and nothing changes."""
    sched = batched
    before = state(sched)
    path = write(sched, "nul.csv", "\n".join([
        "tracking_code,resi,status,time,receiver,note",
        "%s,R1,delivered\0junk,2026-11-28T08:00:00+07:00,," % code("P", 1),
        "%s,R2,in_transit,2026-11-28T08:00:00+07:00,Bu\0di," % code("P", 2),
        "%s,R3,in_transit,2026-11-28T08:00:00+07:00,," % code("P", 3),
        '%s,R4,in_transit,2026-11-28T08:00:00+07:00,"Ani,' % code("P", 4),
        "%s,R5,in_transit,2026-11-28T08:00:00+07:00,," % code("P", 5),
        ""]))
    r = sched.run("import-delivery", path, config=sched.config())
    assert r.returncode == 65, (r.returncode, r.stderr)
    lines = r.stdout.splitlines()
    assert [l.split(":")[1].strip() for l in lines] == \
        ["line 2", "line 3", "line 5"], lines
    assert "NUL byte" in lines[0] and "NUL byte" in lines[1]
    assert "unterminated quote" in lines[2]
    assert state(sched) == before


def test_missing_column_or_file_is_refused(batched):
    sched = batched
    path = write(sched, "nocol.csv", "tracking_code,resi,time\n")
    r = sched.run("import-delivery", path, config=sched.config())
    assert r.returncode == 70 and "no column 'status'" in r.stderr
    r = sched.run("import-delivery", path + ".absent", config=sched.config())
    assert r.returncode == 70
    assert sched.value("SELECT count(*) FROM delivery_import") == 0


def test_a_file_is_known_by_its_own_bytes(batched):
    """The reader unquotes and splits the file in place; what is recorded
    and compared is the file as the courier wrote it. A comma turned into a
    carriage return makes another file, with bad lines, that the reader's
    rewrite of it would have passed for the first."""
    sched = batched
    line = "%s,R1,in_transit,2026-11-28T08:00:00+07:00,,\n" % code("P", 1)
    head = "tracking_code,resi,status,time,receiver,note\n"
    path = write(sched, "one.csv", head + line)
    assert sched.run("import-delivery", path,
                     config=sched.config()).returncode == 0
    other = write(sched, "other.csv", head + line.replace(",", "\r", 1))
    r = sched.run("import-delivery", other, config=sched.config())
    assert r.returncode == 65, (r.returncode, r.stdout, r.stderr)
    assert "import_already_done" not in r.stderr
    sha = sched.value("SELECT sha256 FROM delivery_import")
    with open(path, "rb") as f:
        assert sha == hashlib.sha256(f.read()).hexdigest()
