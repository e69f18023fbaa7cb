"""Issue 10, the contract in the tree: docs/openapi.yaml is checked against
real answers of the running system (PostgreSQL, Redis, nginx with the
module), so that the document cannot drift from the code.

Every answer a test here drives goes through check(r, method, path): the
operation (path + method) of the document must list the answer's status, its
Content-Type must be one the document gives for that status, a JSON body must
validate against that status's schema (JSON Schema 2020-12, the dialect of
OpenAPI 3.1, with every $ref resolved in the whole document), and every
header the document says is required must be there and match. A method that
a path does not serve is checked against the path's `x-other-methods`
answer (405).

The last tests read the document and the C sources without the servers:
every operation of the document is driven by a check() in this file, and
every error code the module (or dukcapil-api.conf) can send is documented,
at some status of some operation, and nothing else is."""

import ast
import json
import os
import re

import pytest
import yaml
from jsonschema import Draft202012Validator, RefResolver

from stack import REPO, wait_until
from helpers import http_for
from appointments_helpers import (AVAIL, BOOK, booking, closed_date_in_window,
                                  first_open_date, make_nik, make_phone,
                                  open_dates, second_nginx, set_quota,
                                  wib_today)
from applications_helpers import (APPS, GOOD_ADDRESS, OPS_ADDRESS,
                                  OPS_CHECK_IN, OPS_QUOTA, OPS_STATUS,
                                  application, insert_appointment, move,
                                  random_code)

SPEC_PATH = os.path.join(REPO, "docs", "openapi.yaml")
MODULE_DIR = os.path.join(REPO, "ngx_dukcapil_module")
API_CONF = os.path.join(REPO, "conf", "dukcapil-api.conf")
ADDRESS_C = os.path.join(REPO, "domain", "address.c")

with open(SPEC_PATH) as f:
    SPEC = yaml.safe_load(f)

RESOLVER = RefResolver("", SPEC)
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")

# what check() validated in this run: (method or "*", path, status)
VALIDATED = []

JSON = {"Content-Type": "application/json"}
BIG = json.dumps({"pad": "x" * 17000})          # over the 16 KiB limit

HEALTH = "/api/v1/health"
METRICS = "/metrics"
SERVICES = "/api/v1/services"
CLOSURES = "/api/v1/ops/closures"
OPENINGS = "/api/v1/ops/openings"

# the operations of the document: check(r, *OP_BOOK)
OP_SERVICES = ("GET", "/api/v1/services")
OP_AVAILABILITY = ("GET", "/api/v1/availability")
OP_BOOK = ("POST", "/api/v1/appointments")
OP_APPOINTMENT = ("GET", "/api/v1/appointments/{code}")
OP_CANCEL = ("DELETE", "/api/v1/appointments/{code}")
OP_SUBMIT = ("POST", "/api/v1/applications")
OP_APPLICATION = ("GET", "/api/v1/applications/{code}")
OP_STATUS = ("POST", "/api/v1/ops/applications/{code}/status")
OP_ADDRESS = ("POST", "/api/v1/ops/applications/{code}/address")
OP_CHECK_IN = ("POST", "/api/v1/ops/appointments/{code}/check-in")
OP_LIST = ("GET", "/api/v1/ops/appointments")
OP_CALL = ("POST", "/api/v1/ops/counters/{counter}/call")
OP_RECALL = ("POST", "/api/v1/ops/appointments/{code}/recall")
OP_SERVED = ("POST", "/api/v1/ops/appointments/{code}/served")
OP_ABSENT = ("POST", "/api/v1/ops/appointments/{code}/absent")
OP_DISPLAY = ("GET", "/api/v1/display")
OP_WORKLIST = ("GET", "/api/v1/ops/applications")
OP_OPS_APPLICATION = ("GET", "/api/v1/ops/applications/{code}")
OP_DELIVERY = ("GET", "/api/v1/ops/delivery")
OP_STATS = ("GET", "/api/v1/ops/stats")
OP_QUOTA = ("PUT", "/api/v1/ops/quota")
OP_CLOSE = ("PUT", "/api/v1/ops/closures")
OP_REOPEN = ("DELETE", "/api/v1/ops/closures")
OP_OPEN = ("PUT", "/api/v1/ops/openings")
OP_UNOPEN = ("DELETE", "/api/v1/ops/openings")
OP_QR = ("GET", "/api/v1/qr/{code}.svg")
OP_HEALTH = ("GET", "/api/v1/health")
OP_METRICS = ("GET", "/metrics")
OP_SEND_CODE = ("POST", "/api/v1/phone-verifications")
OP_CONFIRM_CODE = ("POST", "/api/v1/phone-verifications/{id}/confirm")

SEND_CODE = "/api/v1/phone-verifications"
CONFIRM_CODE = "/api/v1/phone-verifications/%s/confirm"

LIST = "/api/v1/ops/appointments"
CALL = "/api/v1/ops/counters/%s/call"
STEP = "/api/v1/ops/appointments/%s/%s"
DISPLAY = "/api/v1/display"
WORKLIST = "/api/v1/ops/applications"
DELIVERY = "/api/v1/ops/delivery"
STATS = "/api/v1/ops/stats"

# a method each path does not serve (its x-other-methods answer)
OTHER_METHODS = [
    ("POST", SERVICES, "/api/v1/services"),
    ("DELETE", AVAIL + "?office=mpp", "/api/v1/availability"),
    ("GET", BOOK, "/api/v1/appointments"),
    ("PUT", BOOK + "/A-0000-0000-0000", "/api/v1/appointments/{code}"),
    ("PATCH", APPS, "/api/v1/applications"),
    ("DELETE", APPS + "/P-0000-0000-0000", "/api/v1/applications/{code}"),
    ("GET", OPS_STATUS % "P-0000-0000-0000",
     "/api/v1/ops/applications/{code}/status"),
    ("PUT", OPS_ADDRESS % "P-0000-0000-0000",
     "/api/v1/ops/applications/{code}/address"),
    ("DELETE", OPS_CHECK_IN % "A-0000-0000-0000",
     "/api/v1/ops/appointments/{code}/check-in"),
    ("POST", OPS_QUOTA, "/api/v1/ops/quota"),
    ("POST", LIST, "/api/v1/ops/appointments"),
    ("GET", CALL % "1", "/api/v1/ops/counters/{counter}/call"),
    ("GET", STEP % ("A-0000-0000-0000", "recall"),
     "/api/v1/ops/appointments/{code}/recall"),
    ("PUT", STEP % ("A-0000-0000-0000", "served"),
     "/api/v1/ops/appointments/{code}/served"),
    ("DELETE", STEP % ("A-0000-0000-0000", "absent"),
     "/api/v1/ops/appointments/{code}/absent"),
    ("POST", DISPLAY + "?office=mpp", "/api/v1/display"),
    ("POST", WORKLIST, "/api/v1/ops/applications"),
    ("DELETE", WORKLIST + "/P-0000-0000-0000",
     "/api/v1/ops/applications/{code}"),
    ("PUT", DELIVERY, "/api/v1/ops/delivery"),
    ("POST", STATS, "/api/v1/ops/stats"),
    ("POST", CLOSURES, "/api/v1/ops/closures"),
    ("GET", OPENINGS, "/api/v1/ops/openings"),
    ("POST", HEALTH, "/api/v1/health"),
    ("PUT", METRICS, "/metrics"),
    ("GET", SEND_CODE, "/api/v1/phone-verifications"),
    ("GET", CONFIRM_CODE % ("0" * 32),
     "/api/v1/phone-verifications/{id}/confirm"),
    ("POST", "/api/v1/qr/A-0000-0000-0000.svg", "/api/v1/qr/{code}.svg"),
]


# --- the document ---------------------------------------------------------

def deref(node):
    """A Response or Header object, its $ref followed."""
    while isinstance(node, dict) and "$ref" in node:
        _, node = RESOLVER.resolve(node["$ref"])
    return node


def schema_errors(instance, schema):
    """Every way `instance` fails `schema`, one line each (with the
    branches of a oneOf), or []."""
    validator = Draft202012Validator(schema, resolver=RESOLVER)
    lines = []
    for e in sorted(validator.iter_errors(instance),
                    key=lambda e: [str(p) for p in e.path]):
        where = "$" + "".join("[%r]" % p for p in e.path)
        lines.append("%s: %s" % (where, e.message))
        for sub in e.context:
            lines.append("    %s$%s: %s" % (
                "branch %s " % sub.schema_path[0] if sub.schema_path else "",
                "".join("[%r]" % p for p in sub.path), sub.message))
    return lines


def responses_of(method, path):
    """(key, {status: response}) of the operation, or of the answer to any
    other method (x-other-methods) when the path does not serve `method`."""
    assert path in SPEC["paths"], "%s is not a path of openapi.yaml" % path
    item = SPEC["paths"][path]
    op = item.get(method.lower())
    if op is not None:
        return method.upper(), op["responses"]
    assert "x-other-methods" in item, \
        "%s %s: no such operation and no x-other-methods" % (method, path)
    return "*", {"405": item["x-other-methods"]}


def check(r, method, path):
    """Validates the answer `r` (a conftest Response) of `method` on the
    document's `path` (a template: "/api/v1/appointments/{code}")."""
    key, responses = responses_of(method, path)
    what = "%s %s answered %d" % (method, path, r.status)
    assert str(r.status) in responses, (
        "%s, a status openapi.yaml does not document for it (it lists %s): %r"
        % (what, ", ".join(sorted(responses)), r))
    resp = deref(responses[str(r.status)])

    media = r.headers.get("content-type", "").split(";")[0].strip().lower()
    content = resp.get("content", {})
    assert media in content, "%s with Content-Type %r; documented: %s" % (
        what, media, ", ".join(content) or "no body")
    if media == "application/json":
        try:
            instance = r.json()
        except ValueError:
            pytest.fail("%s with a body that is not JSON: %r" % (what, r))
    else:
        instance = r.text
    errors = schema_errors(instance, content[media]["schema"])
    assert not errors, "%s, not as openapi.yaml says:\n  %s\nbody: %s" % (
        what, "\n  ".join(errors), r.text)

    for name, header in resp.get("headers", {}).items():
        header = deref(header)
        value = r.headers.get(name.lower())
        if header.get("required"):
            assert value is not None, "%s without header %s" % (what, name)
        if value is not None:
            errors = schema_errors(value, header["schema"])
            assert not errors, "%s: header %s: %s" % (what, name, errors)

    VALIDATED.append((key, path, r.status))
    return r


def from_outside(st, method, url, body=None, auth=False):
    """The answer to a client outside the office network (127.0.0.2; the
    demo allows 127.0.0.1 only), with the operator's account if auth."""
    http = http_for(st, source="127.0.0.2")
    return (http.ops if auth else http).request(method, url, body)


def too_large(http, method, url):
    return http.request(method, url, BIG, headers=JSON)


# --- public reads, and what every path answers to a method it does not serve

def test_public_reads_and_their_errors_are_as_documented(stack, http):
    date = first_open_date()
    check(http.get(SERVICES), *OP_SERVICES)

    r = check(http.get("%s?office=mpp&from=%s&to=%s"
                       % (AVAIL, date, open_dates()[3])),
              *OP_AVAILABILITY)
    assert len(r.json()["days"]) > 1
    for query, error in (("office=nowhere&from=%s&to=%s" % (date, date),
                          "unknown_office"),
                         ("office=mpp&from=2026-13-01&to=%s" % date,
                          "invalid_from"),
                         ("office=mpp&from=%s&to=%s" % (date, "2099-01-01"),
                          "invalid_to")):
        r = check(http.get("%s?%s" % (AVAIL, query)),
                  *OP_AVAILABILITY)
        assert (r.status, r.json()["error"]) == (422, error), r

    nik = {"X-NIK": make_nik(1)}
    for url, template in ((BOOK + "/" + random_code("A"),
                           "/api/v1/appointments/{code}"),
                          (APPS + "/" + random_code("P"),
                           "/api/v1/applications/{code}")):
        assert check(http.get(url, headers=nik), "GET",
                     template).status == 404
        assert check(http.get(url), "GET", template).status == 422
        assert check(http.get(url, headers={"X-NIK": "123"}), "GET",
                     template).status == 422
    code = BOOK + "/" + random_code("A")
    for headers, status in ((nik, 404), ({}, 422)):
        r = check(http.delete(code, headers=headers), "DELETE",
                  "/api/v1/appointments/{code}")
        assert r.status == status, r

    assert check(http.get(HEALTH), *OP_HEALTH).status == 200
    assert check(http.get(METRICS), *OP_METRICS).status == 200


def test_qr_answers_are_as_documented(stack, http):
    code = random_code("A")
    r = check(http.get("/api/v1/qr/%s.svg" % code), *OP_QR)
    assert r.status == 200 and "<path" in r.text, r
    # read as a lookup reads a code: no dashes, lower case, look-alikes
    loose = code.replace("-", "").lower().replace("0", "o").replace("1", "l")
    assert http.get("/api/v1/qr/%s.svg" % loose).body == r.body
    for bad in ("A-0000-0000-000", "P-0000-0000-0000", "A-0000-0000-000U",
                "A-0000-0000-0000.png"):
        r = check(http.get("/api/v1/qr/%s.svg" % bad), *OP_QR)
        assert r.status == 404, (bad, r)


@pytest.mark.parametrize("method, url, path", OTHER_METHODS)
def test_a_method_a_path_does_not_serve_is_405_as_documented(
        stack, http, method, url, path):
    r = check(http.ops.request(method, url), method, path)
    assert r.status == 405, r


# --- phone verification ---------------------------------------------------

def sent_code(st, phone_e164):
    return st.psql("SELECT params->>'code' FROM notification WHERE kind = "
                   "'otp' AND phone = '%s' ORDER BY id DESC LIMIT 1"
                   % phone_e164).strip()


def test_phone_verification_answers_are_as_documented(stack, http,
                                                       make_stack):
    r = check(http.post(SEND_CODE, {"phone": "0812-3456-7890"}),
              *OP_SEND_CODE)
    assert r.status == 201, r
    vid = r.json()["id"]
    code = sent_code(stack, "+6281234567890")
    for body, status in (({"phone": "021-1234567"}, 422), ("{", 400)):
        assert check(http.post(SEND_CODE, body, headers=JSON),
                     *OP_SEND_CODE).status == status
    assert check(http.post(SEND_CODE, "phone", headers={
        "Content-Type": "text/plain"}), *OP_SEND_CODE).status == 415
    assert check(too_large(http, "POST", SEND_CODE), *OP_SEND_CODE).status \
        == 413
    for _ in range(2):
        check(http.post(SEND_CODE, {"phone": "0812-3456-7890"}),
              *OP_SEND_CODE)
    r = check(http.post(SEND_CODE, {"phone": "0812-3456-7890"}),
              *OP_SEND_CODE)
    assert (r.status, r.error) == (429, "too_many_codes"), r

    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = check(http.post(CONFIRM_CODE % vid, {"code": wrong}),
              *OP_CONFIRM_CODE)
    assert r.status == 422, r
    r = check(http.post(CONFIRM_CODE % vid, {"code": code}),
              *OP_CONFIRM_CODE)
    assert r.status == 200, r
    token = r.json()["phone_token"]
    r = check(http.post(CONFIRM_CODE % vid, {"code": code}),
              *OP_CONFIRM_CODE)
    assert r.status == 410, r

    vid = http.post(SEND_CODE, {"phone": "0812-3456-7891"}).json()["id"]
    for _ in range(5):
        r = check(http.post(CONFIRM_CODE % vid, {"code": wrong}),
                  *OP_CONFIRM_CODE)
    assert (r.status, r.error) == (429, "otp_locked"), r

    # where verification is on: a booking and a submission need the token
    pv = http_for(second_nginx(make_stack, stack, phone_verification=True))
    r = check(pv.post(BOOK, booking(1, first_open_date(),
                                    phone="081234567891")), *OP_BOOK)
    assert (r.status, r.error) == (422, "invalid_phone_token"), r
    r = check(pv.post(APPS, application(1)), *OP_SUBMIT)
    assert (r.status, r.error) == (422, "invalid_phone_token"), r
    r = check(pv.post(BOOK, dict(booking(1, first_open_date(),
                                         phone="081234567890"),
                                 phone_token=token)), *OP_BOOK)
    assert r.status == 201, r

    budget = http_for(second_nginx(make_stack, stack,
                                   extra_http="dukcapil_otp_daily_budget 0;"))
    r = check(budget.post(SEND_CODE, {"phone": "0812-3456-7899"}),
              *OP_SEND_CODE)
    assert (r.status, r.error) == (503, "otp_budget_exhausted"), r


# --- booking, reading and cancelling --------------------------------------

def test_booking_answers_are_as_documented(stack, http):
    date, later = open_dates()[:2]
    first = booking(1, date)
    key = {"Idempotency-Key": "openapi-booking-1"}

    r = check(http.post(BOOK, first, headers=key), *OP_BOOK)
    assert r.status == 201, r
    code = r.json()["code"]
    assert r.headers["location"] == "/api/v1/appointments/" + code
    # the same key and body: the first answer again; another body: 422
    assert check(http.post(BOOK, first, headers=key), *OP_BOOK).json() == \
        r.json()
    r = check(http.post(BOOK, booking(2, date), headers=key), *OP_BOOK)
    assert (r.status, r.json()["error"]) == (422, "idempotency_mismatch"), r
    r = check(http.post(BOOK, booking(2, date),
                        headers={"Idempotency-Key": ""}), *OP_BOOK)
    assert (r.status, r.json()["error"]) == \
        (422, "invalid_idempotency_key"), r

    r = check(http.post(BOOK, first), *OP_BOOK)
    assert (r.status, r.json()["error"]) == (409, "already_booked"), r

    set_quota(stack, "mpp", date, "ktp", 1)
    r = check(http.post(BOOK, booking(3, date)), *OP_BOOK)
    assert (r.status, r.json()["error"], r.json()["next_available"]) == \
        (409, "quota_full", str(later)), r

    phone = make_phone(10)
    for i in range(10, 15):
        assert http.post(BOOK, booking(i, later, phone=phone)).status == 201
    r = check(http.post(BOOK, booking(15, later, phone=phone)), *OP_BOOK)
    assert (r.status, r.json()["error"]) == (409, "phone_limit"), r

    barred = booking(20, later)
    redis = stack.redis()
    try:
        redis.set("dk:bar:" + barred["nik"], "2099-01-01")
    finally:
        redis.close()
    r = check(http.post(BOOK, barred), *OP_BOOK)
    assert (r.status, r.json()["until"]) == (403, "2099-01-01"), r

    for body, error in ((dict(first, nik="123"), "invalid_nik"),
                        (dict(first, name=""), "invalid_name"),
                        (dict(first, phone="0761 123456"), "invalid_phone"),
                        (dict(first, service="sim"), "unknown_service"),
                        (dict(first, office="nowhere"), "unknown_office"),
                        (dict(first, date=str(closed_date_in_window())),
                         "invalid_date"),
                        (dict(first, date=str(wib_today())), "invalid_date")):
        r = check(http.post(BOOK, body), *OP_BOOK)
        assert (r.status, r.json()["error"]) == (422, error), (body, r)
    for data, headers, status in ((b"{", JSON, 400),
                                  (b"[]", JSON, 400),
                                  (json.dumps(first), {}, 415),
                                  (json.dumps(first),
                                   {"Content-Type": "text/plain"}, 415)):
        r = check(http.post(BOOK, data, headers=headers), *OP_BOOK)
        assert r.status == status, r
    assert check(too_large(http, "POST", BOOK), *OP_BOOK).status == 413

    nik = {"X-NIK": first["nik"]}
    r = check(http.get(BOOK + "/" + code.lower().replace("-", ""),
                       headers=nik), *OP_APPOINTMENT)
    assert (r.status, r.json()["status"]) == (200, "booked"), r
    for _ in range(2):                  # cancelled, then cancelled already
        r = check(http.delete(BOOK + "/" + code, headers=nik), *OP_CANCEL)
        assert (r.status, r.json()["status"]) == (200, "cancelled"), r
    assert check(http.get(BOOK + "/" + code, headers=nik),
                 *OP_APPOINTMENT).json()["status"] == "cancelled"

    for i, status, error in ((30, "checked_in", "checked_in"),
                             (31, "no_show", "appointment_closed")):
        other, other_nik = insert_appointment(stack, i, later, status=status)
        r = check(http.delete(BOOK + "/" + other,
                              headers={"X-NIK": other_nik}), *OP_CANCEL)
        assert (r.status, r.json()["error"]) == (409, error), r


# --- applications and the operators' API ----------------------------------

def test_application_answers_are_as_documented(stack, http):

    by_post = application(1, "post")
    r = check(http.post(APPS, by_post, headers={"Idempotency-Key": "openapi-application-1"}),
              *OP_SUBMIT)
    assert r.status == 201, r
    code = r.json()["code"]
    assert r.headers["location"] == "/api/v1/applications/" + code
    by_pickup = application(2, "pickup")
    pickup_code = check(http.post(APPS, by_pickup), *OP_SUBMIT).json()["code"]

    r = check(http.get(APPS + "/" + pickup_code,
                       headers={"X-NIK": by_pickup["nik"]}), *OP_APPLICATION)
    assert r.json()["delivery"] == {
        "method": "pickup", "office": "mpp",
        "office_name": "Mal Pelayanan Publik Pekanbaru"}, r

    r = check(http.ops.post(OPS_STATUS % code,
                            {"status": "verified", "note": "Berkas lengkap"}),
              *OP_STATUS)
    assert (r.status, r.json()["status"]) == (200, "verified"), r
    r = check(http.get(APPS + "/" + code, headers={"X-NIK": by_post["nik"]}),
              *OP_APPLICATION)
    assert [h["status"] for h in r.json()["history"]] == \
        ["submitted", "verified"], r
    assert r.json()["history"][1]["note"] == "Berkas lengkap", r
    assert "kecamatan" in r.json()["delivery"], r

    r = check(move(http.ops, code, "picked_up"), *OP_STATUS)
    assert (r.status, r.json()["error"], r.json()["status"]) == \
        (409, "invalid_transition", "verified"), r
    r = check(move(http.ops, code, "batched"), *OP_STATUS)
    assert (r.status, r.json()["error"], r.json()["status"],
            r.json()["set_by"]) == \
        (409, "delivery_status_reserved", "verified", "scheduler"), r
    for body, error in (({"status": "lost"}, "invalid_status"),
                        ({"note": "x"}, "invalid_status"),
                        ({"status": "processing", "note": "a\nb"},
                         "invalid_note")):
        r = check(http.ops.post(OPS_STATUS % code, body), *OP_STATUS)
        assert (r.status, r.json()["error"]) == (422, error), (body, r)
    r = check(http.ops.post(OPS_STATUS % random_code("P"),
                            {"status": "verified"}), *OP_STATUS)
    assert r.status == 404, r
    r = check(http.ops.post(OPS_STATUS % code, b"{", headers=JSON), *OP_STATUS)
    assert r.status == 400, r
    r = check(http.ops.post(OPS_STATUS % code, '{"status": "processing"}'),
              *OP_STATUS)
    assert r.status == 415, r
    assert check(too_large(http.ops, "POST", OPS_STATUS % code),
                 *OP_STATUS).status == 413
    assert check(http.post(OPS_STATUS % code, {"status": "processing"}),
                 *OP_STATUS).status == 401
    assert check(from_outside(stack, "POST", OPS_STATUS % code,
                              {"status": "processing"},
                              auth=True),
                 *OP_STATUS).status == 403

    address = dict(GOOD_ADDRESS)
    for body, error in (
            (dict(by_post, kk="1"), "invalid_kk"),
            (dict(by_post, delivery={"method": "drone"}), "invalid_delivery"),
            (dict(by_post, delivery={"method": "pickup", "office": "x"}),
             "unknown_office"),
            (dict(by_post, delivery={"method": "post"}), "invalid_address"),
            (application(3, address=dict(address, rt="RT 0")), "invalid_rt"),
            (application(3, address=dict(address, postal_code="12345")),
             "invalid_postal_code")):
        r = check(http.post(APPS, body), *OP_SUBMIT)
        assert (r.status, r.json()["error"]) == (422, error), (body, r)
    for data, headers, code_ in ((b"null", JSON, 400),
                                 (json.dumps(by_post), {}, 415)):
        assert check(http.post(APPS, data, headers=headers),
                     *OP_SUBMIT).status == code_
    assert check(too_large(http, "POST", APPS), *OP_SUBMIT).status == 413

    # the period of today has no delivery left: post is 422, pickup offered
    today = wib_today()
    stack.psql("INSERT INTO delivery_period (starts, ends, amount)"
               " VALUES ('%s'::date - 1, '%s'::date + 1, 0)" % (today, today))
    r = check(http.post(APPS, application(4, "post")), *OP_SUBMIT)
    assert (r.status, r.json()["error"], r.json()["field"]) == \
        (422, "delivery_budget_exhausted", "delivery"), r
    assert r.json()["pickup_offices"][0]["code"] == "binawidya", r
    assert check(http.post(APPS, application(4, "pickup")),
                 *OP_SUBMIT).status == 201


def test_address_settling_answers_are_as_documented(stack, http):
    unsure = dict(GOOD_ADDRESS, kelurahan="Kelurahan Baru Sekali")
    body = application(1, "post", address=unsure)
    code = http.post(APPS, body).json()["code"]
    r = check(http.ops.post(OPS_ADDRESS % code, {"kecamatan": "Tuah Madani"},
                            headers={"Idempotency-Key": "openapi-address-1"}),
              *OP_ADDRESS)
    assert r.json() == {"code": code, "status": "submitted",
                        "delivery": {"method": "post",
                                     "kecamatan": "Tuahmadani"}}, r
    r = check(http.ops.post(OPS_ADDRESS % code,
                            {"method": "pickup", "office": "mpp"}),
              *OP_ADDRESS)
    assert r.json() == {"code": code, "status": "submitted",
                        "delivery": {"method": "pickup", "office": "mpp"}}, r
    r = check(http.ops.post(OPS_ADDRESS % code, {"kecamatan": "Sail"}),
              *OP_ADDRESS)
    assert (r.status, r.json()["error"], r.json()["status"],
            r.json()["method"]) == \
        (409, "delivery_closed", "submitted", "pickup"), r
    for req, error in (({"kecamatan": "Tampan"}, "invalid_kecamatan"),
                       ({}, "invalid_kecamatan"),
                       ({"method": "post", "office": "mpp"}, "invalid_method"),
                       ({"method": "pickup", "office": "x"}, "unknown_office")):
        r = check(http.ops.post(OPS_ADDRESS % code, req), *OP_ADDRESS)
        assert (r.status, r.json()["error"]) == (422, error), (req, r)
    assert check(http.ops.post(OPS_ADDRESS % random_code("P"),
                               {"kecamatan": "Sail"}),
                 *OP_ADDRESS).status == 404
    assert check(http.ops.post(OPS_ADDRESS % code, b"[", headers=JSON),
                 *OP_ADDRESS).status == 400
    assert check(http.ops.post(OPS_ADDRESS % code, '{"kecamatan": "Sail"}'),
                 *OP_ADDRESS).status == 415
    assert check(too_large(http.ops, "POST", OPS_ADDRESS % code),
                 *OP_ADDRESS).status == 413
    assert check(http.post(OPS_ADDRESS % code, {"kecamatan": "Sail"}),
                 *OP_ADDRESS).status == 401
    assert check(from_outside(stack, "POST", OPS_ADDRESS % code,
                              {"kecamatan": "Sail"}, auth=True),
                 *OP_ADDRESS).status == 403


def test_operators_check_in_and_quota_answers_are_as_documented(stack, http):
    date = first_open_date()

    today_code, _ = insert_appointment(stack, 1, wib_today())
    r = check(http.ops.post(OPS_CHECK_IN % today_code, {}), *OP_CHECK_IN)
    assert (r.status, r.json()["status"]) == (200, "checked_in"), r
    r = check(http.ops.post(OPS_CHECK_IN % today_code, {}), *OP_CHECK_IN)
    assert (r.status, r.json()["status"]) == (200, "checked_in"), r
    gone, _ = insert_appointment(stack, 3, wib_today(), status="cancelled")
    r = check(http.ops.post(OPS_CHECK_IN % gone, {}), *OP_CHECK_IN)
    assert (r.status, r.json()["error"], r.json()["status"]) == \
        (409, "appointment_closed", "cancelled"), r
    booked = http.post(BOOK, booking(2, date)).json()["code"]
    r = check(http.ops.post(OPS_CHECK_IN % booked, {}), *OP_CHECK_IN)
    assert (r.status, r.json()["error"], r.json()["date"]) == \
        (409, "not_today", str(date)), r
    assert check(http.ops.post(OPS_CHECK_IN % random_code("A"), {}),
                 *OP_CHECK_IN).status == 404
    assert check(http.post(OPS_CHECK_IN % booked, {}),
                 *OP_CHECK_IN).status == 401
    assert check(from_outside(stack, "POST", OPS_CHECK_IN % booked),
                 *OP_CHECK_IN).status == 403

    good = {"office": "mpp", "service": "ktp", "date": str(date),
            "quota": 7}
    r = check(http.ops.put(OPS_QUOTA, good), *OP_QUOTA)
    assert r.json() == good, r
    for body, error in ((dict(good, office="x"), "unknown_office"),
                        (dict(good, service="x"), "unknown_service"),
                        (dict(good, date="2000-01-01"), "invalid_date"),
                        (dict(good, quota=-1), "invalid_quota"),
                        (dict(good, quota="7"), "invalid_quota")):
        r = check(http.ops.put(OPS_QUOTA, body), *OP_QUOTA)
        assert (r.status, r.json()["error"]) == (422, error), (body, r)
    assert check(http.ops.put(OPS_QUOTA, b"7", headers=JSON),
                 *OP_QUOTA).status == 400
    assert check(http.ops.put(OPS_QUOTA, json.dumps(good)),
                 *OP_QUOTA).status == 415
    assert check(too_large(http.ops, "PUT", OPS_QUOTA),
                 *OP_QUOTA).status == 413
    assert check(http.put(OPS_QUOTA, good), *OP_QUOTA).status == 401
    assert check(from_outside(stack, "PUT", OPS_QUOTA, good),
                 *OP_QUOTA).status == 403

    assert check(from_outside(stack, "GET", HEALTH), *OP_HEALTH).status == 403
    assert check(from_outside(stack, "GET", METRICS),
                 *OP_METRICS).status == 403


def test_the_counters_answers_are_as_documented(stack, http):
    """The queue at the office (issue 15): the day's list, a call, recall,
    served, absent, and the public display, with their errors."""
    today = wib_today()
    first, _ = insert_appointment(stack, 1, today, status="checked_in")
    second, _ = insert_appointment(stack, 2, today, status="checked_in",
                                   service="kk")
    good = {"office": "mpp", "services": ["ktp", "kk"]}

    r = check(http.ops.get(LIST + "?office=mpp"), *OP_LIST)
    assert len(r.json()["appointments"]) == 2, r
    for query, error in (("?office=x", "unknown_office"),
                         ("?office=mpp&date=2026-02-30", "invalid_date"),
                         ("?office=mpp&status=x", "invalid_status")):
        r = check(http.ops.get(LIST + query), *OP_LIST)
        assert (r.status, r.json()["error"]) == (422, error), (query, r)
    assert check(http.get(LIST + "?office=mpp"), *OP_LIST).status == 401
    assert check(from_outside(stack, "GET", LIST + "?office=mpp", auth=True),
                 *OP_LIST).status == 403

    r = check(http.ops.post(CALL % "A2", good), *OP_CALL)
    assert (r.status, r.json()["code"]) == (200, first), r
    r = check(http.ops.post(STEP % (first, "recall"), {}), *OP_RECALL)
    assert (r.status, r.json()["status"]) == (200, "checked_in"), r
    r = check(http.ops.post(STEP % (first, "recall"), {}), *OP_RECALL)
    assert (r.status, r.json()["error"]) == (409, "invalid_transition"), r
    check(http.ops.post(CALL % "A2", good), *OP_CALL)
    r = check(http.ops.post(STEP % (first, "served"), {}), *OP_SERVED)
    assert (r.status, r.json()["status"]) == (200, "served"), r
    r = check(http.ops.post(STEP % (first, "served"), {}), *OP_SERVED)
    assert (r.status, r.json()["status"]) == (409, "served"), r
    check(http.ops.post(CALL % "1", good), *OP_CALL)
    r = check(http.ops.post(STEP % (second, "absent"), {}), *OP_ABSENT)
    assert (r.status, r.json()["status"]) == (200, "no_show"), r
    r = check(http.ops.post(STEP % (second, "absent"), {}), *OP_ABSENT)
    assert (r.status, r.json()["status"]) == (409, "no_show"), r
    r = check(http.ops.post(CALL % "1", good), *OP_CALL)
    assert (r.status, r.json()["error"]) == (404, "queue_empty"), r
    for counter, body, error in (
            ("loket_1", good, "invalid_counter"),
            ("1", dict(good, office="x"), "unknown_office"),
            ("1", dict(good, services=["x"]), "invalid_services")):
        r = check(http.ops.post(CALL % counter, body), *OP_CALL)
        assert (r.status, r.json()["error"]) == (422, error), (body, r)
    for op, url in ((OP_CALL, CALL % "1"),
                    (OP_RECALL, STEP % (first, "recall")),
                    (OP_SERVED, STEP % (first, "served")),
                    (OP_ABSENT, STEP % (first, "absent"))):
        code = random_code("A")
        path = url if op == OP_CALL else STEP % (code, url.rsplit("/")[-1])
        body = good if op == OP_CALL else {}
        if op != OP_CALL:
            assert check(http.ops.post(path, body), *op).status == 404
        assert check(http.post(path, body), *op).status == 401
        assert check(from_outside(stack, "POST", path, body, auth=True),
                     *op).status == 403
        assert check(http.ops.post(path, body, headers={
            "Origin": "https://evil.example"}), *op).status == 403
        assert check(http.ops.post(path, b"[", headers=JSON),
                     *op).status == 400
        assert check(http.ops.post(path, json.dumps(body)),
                     *op).status == 415
        assert check(too_large(http.ops, "POST", path), *op).status == 413

    r = check(http.get(DISPLAY + "?office=mpp"), *OP_DISPLAY)
    assert [c["counter"] for c in r.json()["calls"]] == ["1", "A2", "A2"], r
    r = check(http.get(DISPLAY + "?office=x"), *OP_DISPLAY)
    assert (r.status, r.json()["error"]) == (422, "unknown_office"), r


def test_the_back_offices_answers_are_as_documented(stack, http):
    """The back office (issue 15): the worklist and its pages, one
    application, a rejection without its reason, the delivery budget with
    and without a period, the statistics as JSON and CSV, with their
    errors; PostgreSQL stopped: 503."""
    codes = [http.post(APPS, application(i, "post")).json()["code"]
             for i in range(3)]
    r = check(http.ops.get(WORKLIST + "?limit=2"), *OP_WORKLIST)
    assert len(r.json()["applications"]) == 2, r
    r = check(http.ops.get(WORKLIST + "?limit=2&status=submitted&cursor="
                           + r.json()["next_cursor"]), *OP_WORKLIST)
    assert [a["code"] for a in r.json()["applications"]] == codes[2:], r
    for query, error in (("?status=x", "invalid_status"),
                         ("?office=X", "unknown_office"),
                         ("?cursor=!", "invalid_cursor"),
                         ("?limit=101", "invalid_limit")):
        r = check(http.ops.get(WORKLIST + query), *OP_WORKLIST)
        assert (r.status, r.json()["error"]) == (422, error), (query, r)
    assert check(http.get(WORKLIST), *OP_WORKLIST).status == 401
    assert check(from_outside(stack, "GET", WORKLIST, auth=True),
                 *OP_WORKLIST).status == 403

    r = check(http.ops.post(OPS_STATUS % codes[0], {"status": "rejected"}),
              *OP_STATUS)
    assert (r.status, r.json()["error"]) == (422, "invalid_note"), r
    move(http.ops, codes[0], "rejected", "Berkas tidak lengkap.")
    r = check(http.ops.get(WORKLIST + "/" + codes[0]), *OP_OPS_APPLICATION)
    assert r.json()["history"][-1]["note"] == "Berkas tidak lengkap.", r
    pickup = http.post(APPS, application(9, "pickup")).json()["code"]
    r = check(http.ops.get(WORKLIST + "/" + pickup), *OP_OPS_APPLICATION)
    assert r.json()["address"] is None, r
    r = check(http.ops.get(WORKLIST + "/" + random_code("P")),
              *OP_OPS_APPLICATION)
    assert r.status == 404, r
    assert check(http.get(WORKLIST + "/" + pickup),
                 *OP_OPS_APPLICATION).status == 401

    r = check(http.ops.get(DELIVERY), *OP_DELIVERY)
    assert r.json()["period"] is None, r
    today = wib_today()
    stack.psql("INSERT INTO delivery_period (starts, ends, amount)"
               " VALUES ('%s'::date - 1, '%s'::date + 1, 50)" % (today, today))
    r = check(http.ops.get(DELIVERY), *OP_DELIVERY)
    assert (r.json()["budget"], r.json()["pending"]) == (50, 2), r
    assert check(http.get(DELIVERY), *OP_DELIVERY).status == 401

    insert_appointment(stack, 1, today, status="checked_in")
    r = check(http.ops.get(STATS), *OP_STATS)
    assert r.json()["budget"]["budget"] == 50, r
    r = check(http.ops.get(STATS + "?office=mpp&format=csv"), *OP_STATS)
    assert r.text.count("\r\n") == 31, r
    r = check(http.ops.get(STATS + "?office=mpp",
                           headers={"Accept": "text/csv"}), *OP_STATS)
    assert r.headers["content-type"].startswith("text/csv"), r
    for query, error in (("?office=x", "unknown_office"),
                         ("?from=2026-02-30", "invalid_from"),
                         ("?from=2026-02-02&to=2026-02-01", "invalid_from"),
                         ("?from=2026-01-01&to=2026-05-01", "invalid_to"),
                         ("?format=pdf", "invalid_format")):
        r = check(http.ops.get(STATS + query), *OP_STATS)
        assert (r.status, r.json()["error"]) == (422, error), (query, r)
    assert check(http.get(STATS), *OP_STATS).status == 401

    stack.stop_postgres()
    try:
        for op, path in ((OP_WORKLIST, WORKLIST),
                         (OP_OPS_APPLICATION, WORKLIST + "/" + pickup),
                         (OP_DELIVERY, DELIVERY), (OP_STATS, STATS)):
            r = check(http.ops.get(path, timeout=30), *op)
            assert (r.status, r.json()["error"]) == (503, "unavailable"), r
    finally:
        stack.start_postgres(migrate=False)


def test_operators_calendar_answers_are_as_documented(stack, http):
    date = [d for d in open_dates() if d.weekday() != 5][1]
    sunday = closed_date_in_window()
    citizen = booking(1, date)
    code = http.post(BOOK, citizen).json()["code"]
    nik = {"X-NIK": citizen["nik"]}

    close = {"date": str(date), "office": "mpp", "reason": "Banjir"}
    r = check(http.ops.put(CLOSURES, close), *OP_CLOSE)
    assert (r.status, r.json()["cancelled"]) == (200, 1), r
    r = check(http.get("%s?office=mpp&from=%s&to=%s" % (AVAIL, date, date)),
              *OP_AVAILABILITY)
    assert r.json()["days"][0]["reason"] == "Banjir", r
    r = check(http.get(BOOK + "/" + code, headers=nik), *OP_APPOINTMENT)
    assert (r.json()["status"], r.json()["reason"]) == \
        ("cancelled_by_office", "Banjir"), r
    r = check(http.delete(BOOK + "/" + code, headers=nik), *OP_CANCEL)
    assert (r.status, r.json()["error"]) == (409, "appointment_closed"), r
    r = check(http.post(BOOK, booking(2, date)), *OP_BOOK)
    assert (r.status, r.json()["error"]) == (422, "invalid_date"), r
    for body, error in ((dict(close, date="2000-01-01"), "invalid_date"),
                        (dict(close, office="x"), "unknown_office"),
                        (dict(close, reason=""), "invalid_reason")):
        r = check(http.ops.put(CLOSURES, body), *OP_CLOSE)
        assert (r.status, r.json()["error"]) == (422, error), (body, r)
    assert check(http.ops.put(CLOSURES, b"[]", headers=JSON),
                 *OP_CLOSE).status == 400
    assert check(http.ops.put(CLOSURES, json.dumps(close)),
                 *OP_CLOSE).status == 415
    assert check(too_large(http.ops, "PUT", CLOSURES), *OP_CLOSE).status \
        == 413
    assert check(http.put(CLOSURES, close), *OP_CLOSE).status == 401
    assert check(from_outside(stack, "PUT", CLOSURES, close, auth=True),
                 *OP_CLOSE).status == 403
    r = check(http.ops.put(CLOSURES, close,
                           headers={"Sec-Fetch-Site": "cross-site"}),
              *OP_CLOSE)
    assert (r.status, r.json()["error"]) == (403, "cross_site_request"), r

    reopen = {"date": str(date), "office": "mpp"}
    r = check(http.ops.request("DELETE", CLOSURES, reopen), *OP_REOPEN)
    assert r.json() == dict(reopen, closed=False), r
    r = check(http.ops.request("DELETE", CLOSURES, reopen), *OP_REOPEN)
    assert (r.status, r.json()["error"]) == (404, "not_found"), r
    r = check(http.ops.request("DELETE", CLOSURES, dict(reopen, date="x")),
              *OP_REOPEN)
    assert (r.status, r.json()["error"]) == (422, "invalid_date"), r
    assert check(http.request("DELETE", CLOSURES, reopen),
                 *OP_REOPEN).status == 401

    opening = {"date": str(sunday), "office": "mpp"}
    r = check(http.ops.put(OPENINGS, opening), *OP_OPEN)
    assert r.json() == dict(opening, opened=True), r
    r = check(http.ops.put(OPENINGS, dict(opening, date=str(date))),
              *OP_OPEN)
    assert (r.status, r.json()["error"]) == (422, "not_closed_weekday"), r
    r = check(http.ops.put(OPENINGS, dict(opening, office="x")), *OP_OPEN)
    assert (r.status, r.json()["error"]) == (422, "unknown_office"), r
    assert check(http.put(OPENINGS, opening), *OP_OPEN).status == 401
    assert check(from_outside(stack, "PUT", OPENINGS, opening),
                 *OP_OPEN).status == 403
    sunday_code = http.post(BOOK, booking(3, sunday)).json()["code"]
    r = check(http.ops.request("DELETE", OPENINGS, opening), *OP_UNOPEN)
    assert (r.status, r.json()["error"], r.json()["appointments"]) == \
        (409, "appointments_on_date", 1), r
    http.delete(BOOK + "/" + sunday_code,
                headers={"X-NIK": booking(3, sunday)["nik"]})
    r = check(http.ops.request("DELETE", OPENINGS, opening), *OP_UNOPEN)
    assert r.json() == dict(opening, opened=False), r
    r = check(http.ops.request("DELETE", OPENINGS, opening), *OP_UNOPEN)
    assert (r.status, r.json()["error"]) == (404, "not_found"), r
    r = check(http.ops.request("DELETE", OPENINGS, {"office": "mpp"}),
              *OP_UNOPEN)
    assert (r.status, r.json()["error"]) == (422, "invalid_date"), r
    assert check(from_outside(stack, "DELETE", OPENINGS, opening,
                              auth=True), *OP_UNOPEN).status == 403


# --- 503 ------------------------------------------------------------------

def test_unavailable_answers_are_as_documented(stack, http):
    """Redis stopped: health names it, the reads and writes that need it are
    503 unavailable; Redis without its state (dk:epoch): a booking is 503
    state_rebuilding."""
    date = first_open_date()
    stack.stop_redis()
    try:
        r = check(http.get(HEALTH), *OP_HEALTH)
        assert (r.status, r.json()["redis"]) == (503, "down"), r
        r = check(http.get("%s?office=mpp&from=%s&to=%s"
                           % (AVAIL, date, date)),
                  *OP_AVAILABILITY)
        assert (r.status, r.json()["error"]) == (503, "unavailable"), r
        r = check(http.post(BOOK, booking(1, date)),
                  *OP_BOOK)
        assert (r.status, r.json()["error"]) == (503, "unavailable"), r
        r = check(http.ops.put(OPS_QUOTA, {"office": "mpp", "service": "ktp",
                                           "date": str(date), "quota": 3}),
                  *OP_QUOTA)
        assert (r.status, r.json()["error"]) == (503, "unavailable"), r
        r = check(http.ops.put(CLOSURES, {"date": str(date),
                                          "reason": "Uji"}), *OP_CLOSE)
        assert (r.status, r.json()["error"]) == (503, "unavailable"), r
    finally:
        stack.start_redis()
        wait_until(lambda: http.get(HEALTH).status == 200, 10,
                   what="health to be 200 again")

    redis = stack.redis()
    try:
        redis.delete("dk:epoch")
        r = check(http.post(BOOK, booking(2, date)),
                  *OP_BOOK)
        assert (r.status, r.json()["error"]) == (503, "state_rebuilding"), r
    finally:
        stack.set_epoch(redis)
        redis.close()


# --- the document against this file and against the C sources -------------

def checked_operations():
    """(method, path) of every check() call in this file whose operation is
    written out (check(r, *OP_BOOK) or check(r, "GET", "/metrics")), and
    ("*", path) of each row of OTHER_METHODS."""
    with open(os.path.abspath(__file__)) as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "check"):
            continue
        args = node.args[1:]
        if len(args) == 1 and isinstance(args[0], ast.Starred) \
                and isinstance(args[0].value, ast.Name) \
                and args[0].value.id.startswith("OP_"):
            found.add(globals()[args[0].value.id])
        elif len(args) == 2 and all(isinstance(a, ast.Constant)
                                    for a in args):
            found.add((args[0].value, args[1].value))
    found = {(responses_of(m, p)[0], p) for m, p in found}
    found |= {(responses_of(m, p)[0], p) for m, _, p in OTHER_METHODS}
    return found


def test_every_operation_of_the_document_is_checked_in_this_file():
    documented = set()
    for path, item in SPEC["paths"].items():
        documented |= {(m.upper(), path) for m in METHODS if m in item}
        if "x-other-methods" in item:
            documented.add(("*", path))
    checked = checked_operations()
    missing = sorted(documented - checked)
    assert not missing, ("operations of openapi.yaml that no check() in "
                         "test_openapi.py drives: %s" % missing)
    assert checked <= documented, sorted(checked - documented)


def read(path):
    with open(path) as f:
        return f.read()


def function_body(src, name):
    """The body of a C function in nginx layout (its name at column 0)."""
    m = re.search(r"^%s\(.*?^\}" % re.escape(name), src, re.M | re.S)
    assert m, "no function %s" % name
    return m.group(0)


def literal_returns(src, name, seen):
    """The field names a function returns: its string literals, the
    elements of an array it returns from, and those of the functions whose
    result it returns; an address checked by domain/address.c names the
    field that dk_address_check failed on (res.field)."""
    if name in seen:
        return set()
    seen.add(name)
    body = function_body(src, name)
    fields = set(re.findall(r'return\s+(?:[^;]*?:\s*)?"([a-z_]+)"\s*;', body))
    for array in re.findall(r"return\s+(\w+)\[\w+\]\s*;", body):
        init = re.search(r"\b%s\[\]\s*=\s*\{([^}]*)\}" % array, body)
        assert init, "array %s of %s" % (array, name)
        fields |= set(re.findall(r'"([a-z_]+)"', init.group(1)))
    for callee in re.findall(r"return\s+(ngx_http_dukcapil_\w+)\(", body):
        fields |= literal_returns(src, callee, seen)
    if "res.field" in body:
        fields |= set(re.findall(r'fail\(res,\s*"([a-z_]+)"\)',
                                 read(ADDRESS_C)))
    return fields


def invalid_code(field):
    """ngx_http_dukcapil_send_invalid's code for a field."""
    return ("unknown_" if field in ("service", "office") else "invalid_") + \
        field


def codes_the_code_sends():
    """{code: [where]} of every error code in the module's sources and in
    the API's nginx configuration."""
    codes = {}

    def add(code, where):
        codes.setdefault(code, []).append(where)

    for name in sorted(os.listdir(MODULE_DIR)):
        if not name.endswith(".c"):
            continue
        src = read(os.path.join(MODULE_DIR, name))
        for code in re.findall(
                r"ngx_http_dukcapil_(?:send_error|job_error)\(\s*[^,;]+,"
                r"\s*[^,;]+,\s*\"([a-z_]+)\"", src):
            add(code, name)
        for code in re.findall(r'ngx_http_dukcapil_error_json\(\s*"([a-z_]+)"',
                               src):
            add(code, name)
        for code in re.findall(r'\\"error\\":\\"([a-z_]+)\\"', src):
            add(code, name)             # answers written out by hand
        for code in re.findall(
                r'ngx_string\("[a-z]+"\),\s*NGX_HTTP_DUKCAPIL_[A-Z_]+,'
                r'\s*NGX_HTTP_[A-Z_]+,\s*"([a-z_]+)"', src):
            add(code, name)             # a row of the booking outcomes
        if "ngx_http_dukcapil_send_invalid(" not in src:
            continue
        fields = set(re.findall(
            r'ngx_http_dukcapil_send_invalid\(\s*\w+,\s*"([a-z_]+)"\)', src))
        fields |= set(re.findall(r'\bfield\s*=\s*"([a-z_]+)"\s*;', src))
        for var, fn in re.findall(r"(\w+)\s*=\s*(ngx_http_dukcapil_\w+)\(",
                                  src):
            if re.search(r"ngx_http_dukcapil_send_invalid\(\s*\w+,\s*%s\)"
                         % var, src):
                fields |= literal_returns(src, fn, set())
        for field in fields:
            add(invalid_code(field), name + " (send_invalid)")
    for code in re.findall(r'"error":"([a-z_]+)"', read(API_CONF)):
        add(code, "dukcapil-api.conf")
    return codes


def documented_codes():
    """{code: [operation status]} of the codes the document's responses
    allow in `error` (the catalogue ErrorCode itself left out)."""
    found = {}

    def walk(node, where, seen):
        if isinstance(node, list):
            for x in node:
                walk(x, where, seen)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if ref and ref != "#/components/schemas/ErrorCode" \
                and ref not in seen:
            walk(RESOLVER.resolve(ref)[1], where, seen | {ref})
        error = node.get("properties", {}).get("error", {})
        for code in ([error["const"]] if "const" in error else
                     error.get("enum", [])):
            found.setdefault(code, []).append(where)
        for k, v in node.items():
            if k != "$ref":
                walk(v, where, seen)

    for path, item in SPEC["paths"].items():
        for method in METHODS:
            for status, resp in item.get(method, {}).get("responses",
                                                         {}).items():
                resp = deref(resp)
                schema = resp.get("content", {}).get("application/json",
                                                     {}).get("schema")
                if schema is None:
                    continue
                where = "%s %s %s" % (method.upper(), path, status)
                before = sum(len(v) for v in found.values())
                walk(schema, where, frozenset())
                if "#/components/schemas/Error" in json.dumps(schema):
                    assert sum(len(v) for v in found.values()) > before, \
                        "%s: an Error that does not say its codes" % where
    return found


def test_every_error_code_the_code_sends_is_documented():
    sent = codes_the_code_sends()
    documented = documented_codes()
    # the scan finds what it must: a code of each way the module sends one
    assert {"invalid_json", "quota_full", "no_show_bar", "not_today",
            "invalid_postal_code", "unknown_office", "invalid_quota",
            "too_many_requests"} <= set(sent), sorted(sent)
    missing = {c: sent[c] for c in sent if c not in documented}
    assert not missing, "error codes openapi.yaml does not document: %s" \
        % missing
    unsent = {c: documented[c] for c in documented if c not in sent}
    assert not unsent, "openapi.yaml documents codes nothing sends: %s" \
        % unsent
    catalogue = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    assert catalogue == set(documented), (
        "ErrorCode lists %s and leaves out %s"
        % (sorted(catalogue - set(documented)),
           sorted(set(documented) - catalogue)))


def test_every_schema_of_the_document_is_valid_json_schema_2020_12():
    assert SPEC["openapi"].startswith("3.1")
    for name, schema in SPEC["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            for status, resp in item.get(method, {}).get("responses",
                                                         {}).items():
                for media in deref(resp).get("content", {}).values():
                    Draft202012Validator.check_schema(media["schema"])
