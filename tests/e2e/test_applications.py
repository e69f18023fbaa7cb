"""Issue 4, applications end to end: submission with the address rules,
the status life cycle of SPEC.md through the operator API, the history the
citizen reads, and operators acting on one application at once.

The allowed transitions are written out in applications_helpers.TRANSITIONS
from SPEC.md's text, not read from the database, so a wrong row in
application_transition fails here too."""

import datetime
import re

import pytest

from helpers import WIB, basic_auth, burst, request_bytes
from appointments_helpers import make_nik
from applications_helpers import (APPS, OPS_STATUS, PATHS,
                                  REJECTION_NOTE, RESERVED,
                                  RFC3339_WIB, STATUSES, allowed, app_row,
                                  application, citizen_view,
                                  count_applications, deliver, drive,
                                  history_rows, move, office_answer,
                                  parse_wib, submit)


def basic(st):
    return basic_auth(st.ops_user, st.ops_password)


# --- life cycle -------------------------------------------------------------

def check_citizen_history(stack, http, code, nik, expected, t0, t1):
    """The citizen's answer: statuses oldest first with their notes, times
    in +07:00 within [t0, t1] and never decreasing, no actor anywhere."""
    r = citizen_view(http, code, nik)
    view = r.json()
    hist = view["history"]
    assert [h["status"] for h in hist] == [s for s, _ in expected], hist
    for h, (status, note) in zip(hist, expected):
        if note is None:
            assert "note" not in h or h["note"] in (None, ""), h
        else:
            assert h.get("note") == note, h
        assert RFC3339_WIB.match(h["at"]), h["at"]
        assert set(h) <= {"at", "status", "note"}, h
    times = [parse_wib(h["at"]) for h in hist]
    assert times == sorted(times), times
    slack = datetime.timedelta(seconds=2)
    assert all(t0 - slack <= t <= t1 + slack for t in times), (t0, times, t1)
    assert view["status"] == expected[-1][0]
    # nobody's name but the citizen's own data: not the operator, not the
    # actor recorded for the submission
    actors = {a for _, _, a, _ in history_rows(stack, code)}
    assert stack.ops_user in actors
    actors.discard("scheduler")         # words the text may hold
    actors.discard("pos-indonesia")
    for actor in actors:
        assert actor not in r.text, (actor, r.text)
    assert "actor" not in r.text
    return view


def test_post_life_cycle_to_delivered_with_the_history_the_citizen_reads(
        stack, http, clean_log):
    """submitted -> verified -> processing -> completed by the operator,
    then batched -> in_transit -> delivered by the delivery (the scheduler,
    the courier's import), which the operator may not take; every 200 names
    the new status; the citizen reads each step in order with its note and a
    +07:00 time; the audit trail holds from, to, actor = $remote_user (or
    the delivery's) and note."""
    t0 = datetime.datetime.now(WIB)
    code, nik = submit(http, 1, "post")
    office = [("verified", "Berkas lengkap"), ("processing", None),
              ("completed", "Dokumen selesai dicetak")]
    for status, note in office:
        r = move(http.ops, code, status, note)
        assert r.status == 200, (status, r)
        assert r.json() == {"code": code, "status": status}, r
        assert citizen_view(http, code, nik).json()["status"] == status
    delivery = [("batched", "Dokumen Anda masuk daftar kiriman PT Pos"),
                ("in_transit", "Dokumen Anda sedang diantar oleh PT Pos"),
                ("delivered", "Dokumen Anda sudah diterima.")]
    r = move(http.ops, code, "batched")
    assert (r.status, r.error) == (409, "delivery_status_reserved"), r
    deliver(stack, code, delivery)
    steps = office + delivery
    t1 = datetime.datetime.now(WIB)

    view = check_citizen_history(stack, http, code, nik,
                                 [("submitted", None)] + steps, t0, t1)
    assert view["code"] == code and view["service"] == "ktp"
    assert view["delivery"]["method"] == "post"
    assert view["delivery"]["kecamatan"] == "Binawidya"   # Tampan, mapped
    assert "office" not in view["delivery"]
    assert "tracking_number" not in view["delivery"]      # no courier row

    trail = history_rows(stack, code)
    chain = ["submitted"] + [s for s, _ in steps]
    assert [(f, t) for f, t, _, _ in trail] == \
        [(None, "submitted")] + list(zip(chain, chain[1:]))
    assert [a for _, _, a, _ in trail[1:]] == [stack.ops_user] * 3 + \
        ["scheduler", "pos-indonesia", "pos-indonesia"]
    assert [n for _, _, _, n in trail[1:]] == [n for _, n in steps]
    row = app_row(stack, code)
    assert row["status"] == "delivered" and row["completed_at"] is not None


def test_post_returned_branch_to_awaiting_pickup_and_picked_up(
        stack, http, clean_log):
    """post: ... batched -> in_transit -> returned -> awaiting_pickup (the
    delivery's steps, refused to the operator) -> picked_up (the
    operator's); the citizen reads the whole branch."""
    t0 = datetime.datetime.now(WIB)
    code, nik = submit(http, 2, "post")
    drive(http.ops, code, ["verified", "processing", "completed"])
    delivery = [("batched", None), ("in_transit", None),
                ("returned", "Alamat tidak ditemukan kurir"),
                ("awaiting_pickup", "Silakan ambil di MPP")]
    deliver(stack, code, delivery[:3])
    r = move(http.ops, code, "awaiting_pickup")
    assert (r.status, r.error, r.json()["status"], r.json()["set_by"]) == \
        (409, "delivery_status_reserved", "returned", "courier"), r
    deliver(stack, code, delivery[3:])
    r = move(http.ops, code, "picked_up")
    assert (r.status, r.json()) == (200, {"code": code,
                                          "status": "picked_up"}), r
    steps = [("verified", None), ("processing", None), ("completed", None)] \
        + delivery + [("picked_up", None)]
    t1 = datetime.datetime.now(WIB)
    check_citizen_history(stack, http, code, nik,
                          [("submitted", None)] + steps, t0, t1)
    assert app_row(stack, code)["status"] == "picked_up"


def test_pickup_life_cycle_to_picked_up_with_the_history_the_citizen_reads(
        stack, http, clean_log):
    """pickup: submitted -> verified -> processing -> completed ->
    awaiting_pickup -> picked_up; the delivery names the office, no
    kecamatan."""
    t0 = datetime.datetime.now(WIB)
    code, nik = submit(http, 3, "pickup", office="binawidya")
    steps = [("verified", None), ("processing", "Sedang dicetak"),
             ("completed", None), ("awaiting_pickup", "Ambil di UPT"),
             ("picked_up", "Diambil sendiri")]
    for status, note in steps:
        r = move(http.ops, code, status, note)
        assert (r.status, r.json()) == (200, {"code": code,
                                              "status": status}), r
    t1 = datetime.datetime.now(WIB)
    view = check_citizen_history(stack, http, code, nik,
                                 [("submitted", None)] + steps, t0, t1)
    assert view["delivery"]["method"] == "pickup"
    assert view["delivery"]["office"] == "binawidya"
    assert "kecamatan" not in view["delivery"]
    row = app_row(stack, code)
    assert row["pickup_office"] == "binawidya" and row["street"] is None


def test_rejected_from_submitted_verified_processing_is_final(
        stack, http, clean_log):
    """rejected is reachable from submitted, verified and processing, and
    nothing leaves it; the note reaches the citizen."""
    for i, path in enumerate(([], ["verified"], ["verified", "processing"])):
        code, nik = submit(http, 10 + i, "pickup")
        drive(http.ops, code, path)
        r = move(http.ops, code, "rejected", "KK tidak terbaca")
        assert (r.status, r.json()["status"]) == (200, "rejected"), r
        hist = citizen_view(http, code, nik).json()["history"]
        assert hist[-1]["status"] == "rejected"
        assert hist[-1]["note"] == "KK tidak terbaca"
        for to in STATUSES:
            r = move(http.ops, code, to)
            error = "delivery_status_reserved" if to in RESERVED \
                else "invalid_transition"
            assert (r.status, r.error, r.json().get("status")) == \
                (409, error, "rejected"), (to, r)


# --- every transition not in SPEC.md ----------------------------------------

def put_in_status(stack, http, i, method, status):
    """An application of `method` in `status`: through the operator API
    where the life cycle reaches it, else set in PostgreSQL (statuses of
    the post branch for a pickup application)."""
    code, nik = submit(http, i, method)
    if status in PATHS[method]:
        drive(http.ops, code, PATHS[method][status])
    else:
        stack.psql("UPDATE application SET status = '%s' WHERE code = '%s'"
                   % (status, code))
    return code


@pytest.mark.parametrize("method", ["post", "pickup"])
def test_every_transition_not_in_spec_is_409_naming_the_current_status(
        stack, http, clean_log, method):
    """All 11 x 11 (from, to) pairs for one delivery method: a pair of
    SPEC.md that is the office's answers 200 and records one history row; a
    step of the delivery (into batched, in_transit, delivered, returned, and
    returned -> awaiting_pickup) answers 409 delivery_status_reserved;
    every other pair answers 409 invalid_transition; each 409 names the
    current status and changes nothing (status, history). completed ->
    awaiting_pickup is pickup only."""
    i = 100
    refused_ok, wrong = 0, []
    for frm in STATUSES:
        i += 1
        code = put_in_status(stack, http, i, method, frm)
        before = history_rows(stack, code)
        targets = [t for t in STATUSES
                   if office_answer(method, frm, t) != "ok"]
        for to in targets:
            r = move(http.ops, code, to)
            got = (r.status, r.error, r.json().get("status"))
            error = "delivery_status_reserved" \
                if office_answer(method, frm, to) == "reserved" \
                else "invalid_transition"
            if got != (409, error, frm):
                wrong.append(("refuse", frm, to, r))
            else:
                refused_ok += 1
        assert history_rows(stack, code) == before, (frm, "history changed")
        assert app_row(stack, code)["status"] == frm
        for to in (t for t in STATUSES
                   if office_answer(method, frm, t) == "ok"):
            i += 1
            code2 = put_in_status(stack, http, i, method, frm)
            n = len(history_rows(stack, code2))
            r = move(http.ops, code2, to)
            if (r.status, r.json()) != (200, {"code": code2, "status": to}):
                wrong.append(("allow", frm, to, r))
                continue
            rows = history_rows(stack, code2)
            assert len(rows) == n + 1 and rows[-1][:2] == (frm, to), rows
    assert not wrong, "\n".join(map(repr, wrong))
    office_pairs = sum(office_answer(method, f, t) == "ok"
                       for f in STATUSES for t in STATUSES)
    assert refused_ok == len(STATUSES) ** 2 - office_pairs
    assert office_pairs == (7 if method == "post" else 8)
    assert sum(allowed(method, f, t) for f in STATUSES for t in STATUSES) \
        == (14 if method == "post" else 8)


def test_method_specific_steps_refused_for_the_other_method(
        stack, http, clean_log):
    """completed -> batched for a pickup application (the delivery's step,
    reserved for any method) and completed -> awaiting_pickup for a post
    one: 409 naming 'completed'."""
    pick = put_in_status(stack, http, 201, "pickup", "completed")
    post = put_in_status(stack, http, 202, "post", "completed")
    r = move(http.ops, pick, "batched")
    assert (r.status, r.error, r.json().get("status")) == \
        (409, "delivery_status_reserved", "completed"), r
    r = move(http.ops, post, "awaiting_pickup")
    assert (r.status, r.error, r.json().get("status")) == \
        (409, "invalid_transition", "completed"), r
    assert app_row(stack, pick)["status"] == "completed"
    assert app_row(stack, post)["status"] == "completed"


def test_status_change_bad_input_unknown_status_and_unknown_code(
        stack, http, clean_log):
    """unknown status -> 422 invalid_status; missing status -> 422;
    unknown code -> 404; none changes anything."""
    code, _ = submit(http, 301, "pickup")
    for body in ({"status": "lost"}, {"status": ""}, {}, {"status": 3},
                 {"status": "VERIFIED "}):
        r = http.ops.post(OPS_STATUS % code, body)
        assert (r.status, r.error, r.field) == \
            (422, "invalid_status", "status"), (body, r)
    r = move(http.ops, "P-0000-0000-0000", "verified")
    assert (r.status, r.error) == (404, "not_found"), r
    assert len(history_rows(stack, code)) == 1
    assert app_row(stack, code)["status"] == "submitted"


def test_note_up_to_1000_characters_kept_intact_longer_is_422(
        stack, http, clean_log):
    """A note of 1001 characters -> 422 invalid_note, nothing recorded; one
    of exactly 1000 multi-byte characters (2,000 bytes) -> 200, stored and
    shown to the citizen unchanged."""
    code, nik = submit(http, 302, "pickup")
    r = move(http.ops, code, "verified", "\u00e9" * 1001)
    assert (r.status, r.error, r.field) == \
        (422, "invalid_note", "note"), r
    assert len(history_rows(stack, code)) == 1
    note = "Berkas \u00e9" + "\u00e9" * 992
    assert len(note) == 1000
    r = move(http.ops, code, "verified", note)
    assert r.status == 200, r
    assert history_rows(stack, code)[-1][3] == note
    assert citizen_view(http, code, nik).json()["history"][-1]["note"] == note


# --- concurrent operators ---------------------------------------------------

def ops_burst(stack, code, statuses):
    auth = {"Authorization": basic(stack)}
    targets = [(stack.http_port,
                request_bytes("POST", OPS_STATUS % code,
                              dict({"status": s},
                                   **({"note": REJECTION_NOTE}
                                      if s == "rejected" else {})),
                              auth, port=stack.http_port))
               for s in statuses]
    answers = burst(targets)
    failed = [a for a in answers if isinstance(a, BaseException)]
    assert not failed, failed[:3]
    return answers


def test_20_concurrent_verified_exactly_one_200_and_one_history_row(
        stack, http, clean_log):
    """20 operators press 'verified' on one submitted application at the
    same moment: one 200, nineteen 409 invalid_transition naming
    'verified'; exactly one verified row in the audit trail."""
    code, nik = submit(http, 401, "post")
    answers = ops_burst(stack, code, ["verified"] * 20)
    kinds = {}
    for a in answers:
        key = (a.status, a.error, a.json().get("status"))
        kinds[key] = kinds.get(key, 0) + 1
    assert kinds == {(200, None, "verified"): 1,
                     (409, "invalid_transition", "verified"): 19}, kinds
    trail = history_rows(stack, code)
    assert [(f, t) for f, t, _, _ in trail] == \
        [(None, "submitted"), ("submitted", "verified")], trail
    assert citizen_view(http, code, nik).json()["status"] == "verified"


def test_race_of_different_steps_loses_no_update(stack, http, clean_log):
    """40 requests at once on one submitted application, 10 each of
    verified, processing, completed and rejected: every 200 is exactly one
    recorded step, the steps form one legal chain from submitted, the final
    status is the chain's end, every other answer is 409 naming a status
    the application really had."""
    for rnd in range(3):
        code, nik = submit(http, 410 + rnd, "post")
        wanted = ["verified", "processing", "completed", "rejected"] * 10
        answers = ops_burst(stack, code, wanted)
        ok = [a.json()["status"] for a in answers if a.status == 200]
        refused = [a for a in answers if a.status != 200]
        trail = history_rows(stack, code)
        steps = [(f, t) for f, t, _, _ in trail[1:]]
        # one history row per 200, and no other
        assert sorted(t for _, t in steps) == sorted(ok), (ok, steps)
        chain = ["submitted"] + [t for _, t in steps]
        assert steps == list(zip(chain, chain[1:])), steps
        assert all(allowed("post", f, t) for f, t in steps), steps
        assert app_row(stack, code)["status"] == chain[-1]
        assert citizen_view(http, code, nik).json()["status"] == chain[-1]
        for a in refused:
            assert (a.status, a.error) == (409, "invalid_transition"), a
            assert a.json()["status"] in chain, (a, chain)
        assert len(ok) >= 1
        assert len(ok) + len(refused) == 40


# --- submission ---------------------------------------------------------------

def test_citizen_lookup_wrong_nik_unknown_code_404_missing_nik_422(
        stack, http, clean_log):
    """Reading needs code and NIK: a wrong NIK answers exactly like an
    unknown code (404); no X-NIK -> 422 invalid_nik; the code is accepted
    in lower case and without dashes."""
    code, nik = submit(http, 501, "pickup")
    good = citizen_view(http, code, nik)
    wrong = http.get("%s/%s" % (APPS, code), headers={"X-NIK": make_nik(502)})
    unknown = http.get("%s/P-0000-0000-0000" % APPS, headers={"X-NIK": nik})
    assert wrong.status == unknown.status == 404, (wrong, unknown)
    assert wrong.body == unknown.body
    r = http.get("%s/%s" % (APPS, code))
    assert (r.status, r.error) == (422, "invalid_nik"), r
    assert r.field in ("nik", "X-NIK"), r
    loose = http.get("%s/%s" % (APPS, code.replace("-", "").lower()),
                     headers={"X-NIK": nik})
    assert loose.status == 200 and loose.json() == good.json(), loose


def test_submission_201_with_location_and_stored_row(stack, http, clean_log):
    """201 {code P-XXXX-XXXX-XXXX, status submitted} with a Location;
    phone stored as E.164; one submitted history row."""
    body = application(601, "post")
    r = http.post(APPS, body)
    assert r.status == 201, r
    out = r.json()
    assert out["status"] == "submitted"
    assert RE_APP_CODE.match(out["code"]), out
    assert r.headers.get("location", "").endswith(out["code"]), r.headers
    row = app_row(stack, out["code"])
    assert row["nik"] == body["nik"] and row["kk"] == body["kk"]
    assert row["phone"] == "+62" + body["phone"][1:]
    assert row["delivery_method"] == "post" and row["status"] == "submitted"
    assert [t for _, t, _, _ in history_rows(stack, out["code"])] == \
        ["submitted"]


RE_APP_CODE = re.compile(
    r"^P-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_submission_idempotency_key_replays_and_stores_one(
        stack, http, clean_log):
    """Same Idempotency-Key and body -> the first 201 again, one row;
    another body with that key -> 422 idempotency_mismatch."""
    body = application(701, "pickup")
    key = {"Idempotency-Key": "app-701-retry-key"}
    first = http.post(APPS, body, headers=key)
    assert first.status == 201, first
    for _ in range(2):
        again = http.post(APPS, body, headers=key)
        assert (again.status, again.json()) == (201, first.json()), again
    other = http.post(APPS, application(702, "pickup"), headers=key)
    assert (other.status, other.error) == (422, "idempotency_mismatch"), \
        other
    assert count_applications(stack) == 1


@pytest.mark.parametrize("change,status,error,field", [
    ({"nik": "1471010101010000"}, 422, "invalid_nik", "nik"),
    ({"nik": "14710101010"}, 422, "invalid_nik", "nik"),
    ({"kk": "12345"}, 422, "invalid_kk", "kk"),
    ({"kk": None}, 422, "invalid_kk", "kk"),
    ({"name": ""}, 422, "invalid_name", "name"),
    ({"phone": "0211234567"}, 422, "invalid_phone", "phone"),
    ({"phone": None}, 422, "invalid_phone", "phone"),
    ({"service": "sim"}, 422, "unknown_service", "service"),
    ({"delivery": None}, 422, "invalid_delivery", "delivery"),
    ({"delivery": {"method": "drone"}}, 422, "invalid_delivery", "delivery"),
    ({"delivery": "post"}, 422, "invalid_delivery", "delivery"),
    ({"delivery": {"method": "post"}}, 422, "invalid_address", "address"),
    ({"delivery": {"method": "post", "address": "Jl. Sudirman 1"}}, 422,
     "invalid_address", "address"),
    ({"delivery": {"method": "pickup", "office": "bogor"}}, 422,
     "unknown_office", "office"),
    ({"delivery": {"method": "pickup"}}, 422, "unknown_office", "office"),
])
def test_submission_bad_field_is_422_naming_it_and_stores_nothing(
        stack, http, clean_log, change, status, error, field):
    body = application(801, "post")
    for k, v in change.items():
        if v is None:
            del body[k]
        else:
            body[k] = v
    r = http.post(APPS, body)
    assert (r.status, r.error, r.field) == (status, error, field), r
    assert count_applications(stack) == 0


# --- address table ------------------------------------------------------------

S = "Jl. Jend. Sudirman No. 12"
BW, TM, RB, RBB, RBT = ("14.71.08", "14.71.13", "14.71.12", "14.71.06",
                        "14.71.15")
OK = object()

# (why, street, rt, rw, kelurahan, kecamatan, postal_code,
#  expected: field at fault, or (kecamatan_code, needs_confirmation,
#  rt, rw))  -- a value None = the key left out of the JSON
ADDRESS_CASES = [
    ("current names", S, "001", "002", "Simpang Empat", "Pekanbaru Kota",
     "28116", ("14.71.02", False, "001", "002")),
    ("old Tampan + Simpang Baru -> Binawidya", S, "1", "2", "Simpang Baru",
     "Tampan", "28293", (BW, False, "001", "002")),
    ("old Tampan + Sialangmunggu -> Tuahmadani", S, "1", "2",
     "Sialangmunggu", "Tampan", "28299", (TM, False, "001", "002")),
    ("'Kec. Tuah Madani'", S, "1", "2", "Tuahkarya", "Kec. Tuah Madani",
     "28291", (TM, False, "001", "002")),
    ("'tuahmadani' in one word, lower case", S, "3", "4", "Airputih",
     "tuahmadani", "28296", (TM, False, "003", "004")),
    ("'Lima Puluh' with a space", S, "1", "2", "Rintis", "Lima Puluh",
     "28141", ("14.71.04", False, "001", "002")),
    ("upper case kecamatan, lower case kelurahan", S, "1", "2",
     "tanjung rhu", "LIMAPULUH", "28143", ("14.71.04", False, "001", "002")),
    ("'KECAMATAN BUKIT RAYA' + 'kel.simpang tiga'", S, "1", "2",
     "kel.simpang tiga", "KECAMATAN BUKIT RAYA", "28284",
     ("14.71.07", False, "001", "002")),
    ("'Kec Marpoyan-Damai'", S, "1", "2", "Wonorejo", "Kec Marpoyan-Damai",
     "28125", ("14.71.09", False, "001", "002")),
    ("old Rumbai Pesisir + Meranti Pandak -> Rumbai", S, "1", "2",
     "Meranti Pandak", "Rumbai Pesisir", "28266", (RB, False, "001", "002")),
    ("old Rumbai Pesisir + Sungai Ukai -> Rumbai Timur", S, "1", "2",
     "Sungai Ukai", "Rumbai Pesisir", "28287", (RBT, False, "001", "002")),
    ("Rumbai Pesisir + Limbungan 28261: kelurahan decides", S, "1", "2",
     "Limbungan", "Rumbai Pesisir", "28261", (RBT, False, "001", "002")),
    ("old Rumbai + Palas -> today's Rumbai", S, "1", "2", "Palas", "Rumbai",
     "28264", (RB, False, "001", "002")),
    ("old Rumbai + Rumbai Bukit -> Rumbai Barat", S, "1", "2",
     "Rumbai Bukit", "Rumbai", "28264", (RBB, False, "001", "002")),
    ("Tenayan Raya + Kulim -> Kulim", S, "1", "2", "Kulim", "Tenayan Raya",
     "28286", ("14.71.14", False, "001", "002")),
    ("Payung Sekaki + Sungaisibam -> Binawidya", S, "1", "2", "Sungaisibam",
     "Payung Sekaki", "28292", (BW, False, "001", "002")),
    ("unknown kelurahan, Tampan, 28293 decides, to confirm", S, "1", "2",
     "Suka Damai", "Tampan", "28293", (BW, True, "001", "002")),
    ("unknown kelurahan, Tampan, 28111: undecided", S, "1", "2",
     "Suka Damai", "Tampan", "28111", (None, True, "001", "002")),
    ("unknown kelurahan, Rumbai Pesisir, 28261 spans two", S, "1", "2",
     "Suka Damai", "Rumbai Pesisir", "28261", (None, True, "001", "002")),
    ("unknown kelurahan, Rumbai, 28267 -> Rumbai Barat", S, "1", "2",
     "Suka Damai", "Rumbai", "28267", (RBB, True, "001", "002")),
    ("unknown kelurahan, current kecamatan", S, "1", "2",
     "Kampung Baru Sekali", "Sukajadi", "28121",
     ("14.71.01", True, "001", "002")),
    ("rt '01'", S, "01", "1", "Rintis", "Limapuluh", "28141",
     ("14.71.04", False, "001", "001")),
    ("'RT 001' and 'RW 12'", S, "RT 001", "RW 12", "Rintis", "Limapuluh",
     "28141", ("14.71.04", False, "001", "012")),
    ("'rt.5' and 'rw.999'", S, "rt.5", "rw.999", "Rintis", "Limapuluh",
     "28141", ("14.71.04", False, "005", "999")),
    # refused
    ("kelurahan of another kecamatan", S, "1", "2", "Rintis", "Sail",
     "28141", "kelurahan"),
    ("Rumbai Barat + Palas: Palas is today's Rumbai", S, "1", "2", "Palas",
     "Rumbai Barat", "28264", "kelurahan"),
    ("Tampan + Sungaisibam: it was Payung Sekaki's", S, "1", "2",
     "Sungaisibam", "Tampan", "28292", "kelurahan"),
    ("kelurahan Tampan was never in kecamatan Tampan", S, "1", "2", "Tampan",
     "Tampan", "28292", "kelurahan"),
    ("kecamatan of another city", S, "1", "2", "Rintis", "Bangkinang",
     "28141", "kecamatan"),
    ("a kelurahan name as kecamatan", S, "1", "2", "Simpang Baru",
     "Simpang Baru", "28293", "kecamatan"),
    ("postal 28110 below the city", S, "1", "2", "Rintis", "Limapuluh",
     "28110", "postal_code"),
    ("postal 28300 above the city", S, "1", "2", "Rintis", "Limapuluh",
     "28300", "postal_code"),
    ("postal four digits 2829", S, "1", "2", "Rintis", "Limapuluh", "2829",
     "postal_code"),
    ("postal 'abcde'", S, "1", "2", "Rintis", "Limapuluh", "abcde",
     "postal_code"),
    ("postal as a JSON number", S, "1", "2", "Rintis", "Limapuluh", 28141,
     "postal_code"),
    ("rt '0'", S, "0", "1", "Rintis", "Limapuluh", "28141", "rt"),
    ("rt '1000'", S, "1000", "1", "Rintis", "Limapuluh", "28141", "rt"),
    ("rt and rw in one field '001/002'", S, "001/002", "2", "Rintis",
     "Limapuluh", "28141", "rt"),
    ("rw written as RT", S, "1", "RT 2", "Rintis", "Limapuluh", "28141",
     "rw"),
    ("missing house number", "Jl. Jend. Sudirman", "1", "2", "Rintis",
     "Limapuluh", "28141", "street"),
    ("street only a number", "12", "1", "2", "Rintis", "Limapuluh", "28141",
     "street"),
    ("street missing", None, "1", "2", "Rintis", "Limapuluh", "28141",
     "street"),
    ("street empty", "", "1", "2", "Rintis", "Limapuluh", "28141", "street"),
    ("rt missing", S, None, "2", "Rintis", "Limapuluh", "28141", "rt"),
    ("rw missing", S, "1", None, "Rintis", "Limapuluh", "28141", "rw"),
    ("rw empty", S, "1", "", "Rintis", "Limapuluh", "28141", "rw"),
    ("kelurahan missing", S, "1", "2", None, "Limapuluh", "28141",
     "kelurahan"),
    ("kelurahan empty", S, "1", "2", "", "Limapuluh", "28141", "kelurahan"),
    ("kecamatan missing", S, "1", "2", "Rintis", None, "28141", "kecamatan"),
    ("kecamatan only the prefix 'Kecamatan'", S, "1", "2", "Rintis",
     "Kecamatan", "28141", "kecamatan"),
    ("postal_code missing", S, "1", "2", "Rintis", "Limapuluh", None,
     "postal_code"),
]
FIELDS = ("street", "rt", "rw", "kelurahan", "kecamatan", "postal_code")


def test_address_table_is_large_and_covers_the_brief():
    assert len(ADDRESS_CASES) >= 30
    kecs = {c[5] for c in ADDRESS_CASES}
    assert {"Tampan", "Rumbai Pesisir", "Rumbai", "Kec. Tuah Madani",
            "tuahmadani", "Lima Puluh"} <= kecs
    assert {None, "28110", "28300", "2829", "abcde"} <= \
        {c[6] for c in ADDRESS_CASES}
    assert {"01", "RT 001", "0"} <= {c[2] for c in ADDRESS_CASES}
    missing = {FIELDS[k] for c in ADDRESS_CASES for k in range(6)
               if c[1 + k] is None}
    assert missing == set(FIELDS)


@pytest.mark.parametrize("case", ADDRESS_CASES, ids=[c[0] for c in
                                                     ADDRESS_CASES])
def test_address_case_through_the_api(stack, http, case):
    """Each address: 201 with the row keeping the citizen's words and the
    mapped kecamatan / needs_confirmation, or 422 invalid_<field> naming
    the field and nothing stored."""
    why, expected = case[0], case[7]
    addr = {f: v for f, v in zip(FIELDS, case[1:7]) if v is not None}
    body = application(900, "post", address=addr)
    r = http.post(APPS, body)
    if isinstance(expected, str):
        assert (r.status, r.error, r.field) == \
            (422, "invalid_" + expected, expected), (why, r)
        assert count_applications(stack) == 0
        return
    kec_code, confirm, rt, rw = expected
    assert r.status == 201, (why, r)
    row = app_row(stack, r.json()["code"])
    assert (row["street"], row["kelurahan"], row["kecamatan_written"],
            row["postal_code"]) == (addr["street"], addr["kelurahan"],
                                    addr["kecamatan"], addr["postal_code"]), \
        (why, row)
    assert (row["rt"], row["rw"]) == (rt, rw), (why, row)
    assert (row["kecamatan_code"], row["kecamatan_needs_confirmation"]) == \
        (kec_code, confirm), (why, row)
