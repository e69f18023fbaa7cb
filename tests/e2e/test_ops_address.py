"""Issue 12, POST /api/v1/ops/applications/{code}/address: an operator
settles the address of a post application whose kecamatan no one could tell
for sure: the kecamatan confirmed (the night's batch then takes it), or the
document picked up at an office instead. Audited like every operator's
step, told to the citizen in Indonesian."""

import os

import pytest

from helpers import http_for
from applications_helpers import (APPS, GOOD_ADDRESS, OPS_ADDRESS, app_row,
                                  application, citizen_view, drive,
                                  history_rows, move, submit)
from test_foundation import ASAN_MODULES, asan_runtime, sanitizer_findings
from scheduler_fixtures import sched, sched_stack  # noqa: F401

# Tampan (before the split) with a kelurahan not in the list and a postal
# code of neither of Tampan's kecamatan of today: accepted for an operator
# to confirm, with no kecamatan
UNSURE = dict(GOOD_ADDRESS, kelurahan="Kelurahan Baru Sekali",
              postal_code="28111")


def settle(ops, code, body, **kw):
    return ops.post(OPS_ADDRESS % code, body, **kw)


def test_a_confirmed_kecamatan_makes_the_application_batchable(sched):
    """Completed, its kecamatan unconfirmed: the night's batch leaves it
    waiting. The operator confirms Binawidya: a history row with the
    operator, in Indonesian, that the citizen reads; the next night batches
    it into Binawidya's manifest."""
    if not sched.st.nginx_running():
        sched.st.start_nginx()
    http = http_for(sched.st)
    code, nik = submit(http, 1, "post", address=UNSURE)
    row = app_row(sched.st, code)
    assert (row["kecamatan_code"], row["kecamatan_needs_confirmation"]) == \
        (None, True)
    drive(http.ops, code, ["verified", "processing", "completed"])

    cfg = sched.config()
    assert sched.run("once", "delivery-batch", config=cfg).returncode == 0
    counts = sched.runs("delivery-batch")[-1]["counts"]
    assert (counts["batched"], counts["waiting_kecamatan"]) == (0, 1)

    r = settle(http.ops, code, {"kecamatan": "kecamatan binawidya"})
    assert (r.status, r.json()) == (200, {
        "code": code, "status": "completed",
        "delivery": {"method": "post", "kecamatan": "Binawidya"}}), r
    row = app_row(sched.st, code)
    assert (row["kecamatan_code"], row["kecamatan_needs_confirmation"]) == \
        ("14.71.08", False)
    note = "Kecamatan alamat pengiriman dipastikan oleh petugas: Binawidya."
    assert history_rows(sched.st, code)[-1] == \
        ("completed", "completed", sched.st.ops_user, note)
    view = citizen_view(http, code, nik).json()
    assert view["delivery"]["kecamatan"] == "Binawidya"
    assert (view["status"], view["history"][-1]["status"],
            view["history"][-1]["note"]) == ("completed", "completed", note)
    assert "actor" not in citizen_view(http, code, nik).text

    assert sched.run("once", "delivery-batch", config=cfg).returncode == 0
    assert app_row(sched.st, code)["status"] == "batched"
    assert sched.value("SELECT b.kecamatan_code FROM delivery d"
                       " JOIN delivery_batch b ON b.id = d.batch_id"
                       " JOIN application a ON a.id = d.application_id"
                       " WHERE a.code = %s", (code,)) == "14.71.08"


def test_a_switch_to_pickup_before_and_after_completion(stack, http,
                                                       clean_log):
    """Submitted: the way becomes pickup at the office, a note row, the
    status stays; once completed, the operator's usual step to
    awaiting_pickup is open. Completed: the document awaits pickup at once.
    The citizen sees the office and reads why."""
    code, nik = submit(http, 10, "post", address=UNSURE)
    r = settle(http.ops, code, {"method": "pickup", "office": "sukajadi"})
    assert (r.status, r.json()) == (200, {
        "code": code, "status": "submitted",
        "delivery": {"method": "pickup", "office": "sukajadi"}}), r
    trail = history_rows(stack, code)
    assert trail[-1] == ("submitted", "submitted", stack.ops_user,
                         "Dokumen tidak dikirim melalui PT Pos, tetapi "
                         "diambil di UPT Disdukcapil Kecamatan Sukajadi "
                         "setelah selesai.")
    drive(http.ops, code, ["verified", "processing", "completed",
                           "awaiting_pickup"])

    done, done_nik = submit(http, 11, "post")
    drive(http.ops, done, ["verified", "processing", "completed"])
    r = settle(http.ops, done, {"method": "pickup", "office": "mpp"})
    assert (r.status, r.json()["status"], r.json()["delivery"]) == \
        (200, "awaiting_pickup", {"method": "pickup", "office": "mpp"}), r
    view = citizen_view(http, done, done_nik).json()
    assert view["status"] == "awaiting_pickup"
    assert view["delivery"]["office"] == "mpp"
    assert view["delivery"]["office_name"] == "Mal Pelayanan Publik Pekanbaru"
    assert view["history"][-1]["note"] == (
        "Dokumen tidak dikirim melalui PT Pos. Silakan ambil dokumen Anda di "
        "Mal Pelayanan Publik Pekanbaru. Bawa KTP-el dan kode permohonan.")
    assert history_rows(stack, done)[-1][:3] == \
        ("completed", "awaiting_pickup", stack.ops_user)
    r = move(http.ops, done, "picked_up")
    assert r.status == 200, r


def test_address_bad_input_closed_unknown_and_nothing_changes(
        stack, http, clean_log):
    """422 naming the field (an old or unknown kecamatan, a method other than
    pickup, both at once, an office not configured), 404 for an unknown code,
    409 delivery_closed for a pickup application and for one already
    batched; none changes the application or its history."""
    code, _ = submit(http, 20, "post", address=UNSURE)
    before = (app_row(stack, code), history_rows(stack, code))
    for body, error, field in (
            ({"kecamatan": "Tampan"}, "invalid_kecamatan", "kecamatan"),
            ({"kecamatan": "Rumbai Pesisir"}, "invalid_kecamatan",
             "kecamatan"),
            ({"kecamatan": "Jakarta"}, "invalid_kecamatan", "kecamatan"),
            ({"kecamatan": 14}, "invalid_kecamatan", "kecamatan"),
            ({}, "invalid_kecamatan", "kecamatan"),
            ({"method": "post"}, "invalid_method", "method"),
            ({"method": "pickup", "office": "mpp", "kecamatan": "Sail"},
             "invalid_method", "method"),
            ({"method": "pickup"}, "unknown_office", "office"),
            ({"method": "pickup", "office": "pekanbaru_kota"},
             "unknown_office", "office")):
        r = settle(http.ops, code, body)
        assert (r.status, r.error, r.field) == (422, error, field), (body, r)
    assert (app_row(stack, code), history_rows(stack, code)) == before

    r = settle(http.ops, "P-0000-0000-0000", {"kecamatan": "Sail"})
    assert (r.status, r.error) == (404, "not_found"), r

    pickup, _ = submit(http, 21, "pickup")
    r = settle(http.ops, pickup, {"kecamatan": "Sail"})
    assert (r.status, r.error, r.json()["status"], r.json()["method"]) == \
        (409, "delivery_closed", "submitted", "pickup"), r

    batched, _ = submit(http, 22, "post")
    stack.psql("UPDATE application SET status = 'batched' WHERE code = '%s'"
               % batched)
    r = settle(http.ops, batched, {"method": "pickup", "office": "mpp"})
    assert (r.status, r.error, r.json()["status"], r.json()["method"]) == \
        (409, "delivery_closed", "batched", "post"), r
    assert app_row(stack, batched)["delivery_method"] == "post"


def test_address_needs_the_operator_and_the_services_own_pages(
        stack, http, clean_log):
    """No or wrong credentials: 401; a page of another site: 403
    cross_site_request; a form post: 415; nothing changes. The actor of the
    history is the operator nginx verified."""
    code, _ = submit(http, 30, "post", address=UNSURE)
    before = history_rows(stack, code)
    r = settle(http, code, {"kecamatan": "Sail"})
    assert r.status == 401, r
    r = settle(http.with_auth(stack.ops_user, "salah"), code,
               {"kecamatan": "Sail"})
    assert r.status == 401, r
    for headers in ({"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "https://calo.example"}):
        r = settle(http.ops, code, {"kecamatan": "Sail"}, headers=headers)
        assert (r.status, r.error) == (403, "cross_site_request"), r
    r = http.ops.request("POST", OPS_ADDRESS % code, b"kecamatan=Sail",
                         headers={"Content-Type":
                                  "application/x-www-form-urlencoded"})
    assert (r.status, r.error) == (415, "unsupported_media_type"), r
    assert history_rows(stack, code) == before

    own = {"Origin": "http://127.0.0.1:%d" % stack.http_port,
           "Sec-Fetch-Site": "same-origin", "Idempotency-Key": "address-settled-0001"}
    r = settle(http.ops, code, {"kecamatan": "14.71.03"}, headers=own)
    assert r.status == 200, r
    assert r.json()["delivery"]["kecamatan"] == "Sail", r
    again = settle(http.ops, code, {"kecamatan": "14.71.03"}, headers=own)
    assert again.json() == r.json(), again
    assert [h[2] for h in history_rows(stack, code)[1:]] == [stack.ops_user]


def test_an_open_address_endpoint_fails_nginx_t(stack):
    """ops_application_address is an operator's endpoint: without
    auth_basic nginx -t refuses it, naming it."""
    line = ("location = /open-address "
            "{ dukcapil_endpoint ops_application_address; }")
    text = stack.render_nginx_conf(extra_server="        " + line)
    rc, out, _ = stack.nginx_test(text, name="open-address.conf")
    assert rc != 0 and "ops_application_address" in out, out


@pytest.mark.parametrize("name", ["Binawidya", "BINAWIDYA", "Kec. Binawidya",
                                  "14.71.08"])
def test_a_kecamatan_is_named_as_people_write_it(stack, http, name):
    code, _ = submit(http, 40, "post", address=UNSURE)
    r = settle(http.ops, code, {"kecamatan": name})
    assert (r.status, r.json()["delivery"]["kecamatan"]) == \
        (200, "Binawidya"), r


def test_the_new_answers_leak_nothing_under_asan(make_stack):
    """The address settled (both ways, and refused), a post submission
    refused for the budget with its offices, an operator refused a delivery
    step: nginx with the ASan/UBSan build of the module reports nothing."""
    module = next((m for m in ASAN_MODULES if os.path.exists(m)), None)
    if module is None:
        msg = "no ASan module: make SANITIZE=address module"
        if os.environ.get("DUKCAPIL_REQUIRE_ASAN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    st = make_stack(nginx=False, module=module)
    asan_dir = os.path.join(st.root, "asan")
    os.makedirs(asan_dir)
    st.start_nginx(env={
        "LD_PRELOAD": "%s %s" % (asan_runtime(), module),
        "ASAN_OPTIONS": "detect_leaks=1:exitcode=0:fast_unwind_on_malloc=0:"
                        "malloc_context_size=40:log_path=%s/asan" % asan_dir,
        "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s/ubsan" % asan_dir})
    http = http_for(st)
    code, _ = submit(http, 50, "post", address=UNSURE)
    assert settle(http.ops, code, {"kecamatan": "Sail"}).status == 200
    assert settle(http.ops, code, {"kecamatan": "Tampan"}).status == 422
    assert settle(http.ops, code, {"method": "pickup",
                                   "office": "mpp"}).status == 200
    assert settle(http.ops, code, {"kecamatan": "Sail"}).status == 409
    assert move(http.ops, code, "batched").status == 409
    st.psql("INSERT INTO delivery_period (starts, ends, amount)"
            " VALUES (current_date - 2, current_date + 2, 0)")
    r = http.post(APPS, application(51, "post"))
    assert r.error == "delivery_budget_exhausted", r
    st.stop_nginx()
    findings = sanitizer_findings(asan_dir)
    assert not findings, "%d sanitizer findings:\n%s" % (
        len(findings), "\n".join(findings[:5])[:8000])
