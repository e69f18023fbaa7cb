"""Phone verification (issue 13, the module's half): a code sent through
the outbox, confirmed for a phone_token; the limits against SMS pumping;
bookings and submissions that need the token of their phone.

The session stack runs with dukcapil_phone_verification off (most tests
book without a token); these tests run a second nginx on the same Redis and
PostgreSQL with it on and the same token secret."""

import base64
import datetime
import hashlib
import hmac
import re
import struct
import time

import pytest

from helpers import http_for
from appointments_helpers import (BOOK, booking, e164, first_open_date,
                                  make_nik, make_phone, open_dates,
                                  second_nginx)
from applications_helpers import APPS, application

SEND = "/api/v1/phone-verifications"
CONFIRM = "/api/v1/phone-verifications/%s/confirm"


# --- helpers -------------------------------------------------------------

def verifying_nginx(make_stack, base, extra_http=""):
    """Another nginx on base's Redis and PostgreSQL, with phone
    verification on, base's token secret, and the module's default cap of
    a phone's active appointments (3)."""
    return second_nginx(make_stack, base, phone_verification=True,
                        phone_active_cap=3, extra_http=extra_http)


@pytest.fixture
def pv(stack, make_stack):
    return verifying_nginx(make_stack, stack)


def sent_code(st, phone_e164):
    """The code of the last otp notification of the phone (as the daemon
    would send it)."""
    out = st.psql("SELECT params->>'code' FROM notification "
                  "WHERE kind = 'otp' AND phone = '%s' ORDER BY id DESC "
                  "LIMIT 1" % phone_e164).strip()
    assert re.fullmatch(r"\d{6}", out), out
    return out


def send(http, phone):
    return http.post(SEND, {"phone": phone})


def verify(st, http, phone):
    """A phone_token for phone, the way a citizen gets one."""
    r = send(http, phone)
    assert r.status == 201, r
    c = http.post(CONFIRM % r.json()["id"],
                  {"code": sent_code(st, e164(phone))})
    assert c.status == 200, c
    return c.json()["phone_token"]


def make_token(secret, phone_e164, expiry):
    """A token as the module makes it (README, "phone_token")."""
    head = bytes([1]) + struct.pack(">Q", int(expiry))
    mac = hmac.new(secret, b"dk-phone-token" + head + phone_e164.encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(head + mac).rstrip(b"=").decode()


def wrong(code):
    return "%06d" % ((int(code) + 1) % 1000000)


def metric(st, line):
    r = http_for(st).get("/metrics")
    assert r.status == 200, r
    for l in r.text.split("\n"):
        if l.startswith(line + " "):
            return int(l.split()[-1])
    raise AssertionError("no %s in /metrics" % line)


# --- the code and the token --------------------------------------------

def test_code_goes_to_the_outbox_and_confirms_for_a_token(stack, pv,
                                                          clean_log):
    http = http_for(pv)
    r = send(http, "0812-3456-7890")
    assert r.status == 201, r
    body = r.json()
    assert body["phone"] == "+6281234567890"
    assert body["expires_in"] == 300 and body["resend_after"] == 60
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])

    # one otp row for the daemon, the code among its params
    code = sent_code(stack, "+6281234567890")
    assert stack.psql("SELECT count(*), min(status) FROM notification "
                      "WHERE kind = 'otp'").strip() == "1|queued"

    # Redis holds the code's hash only
    r_ = stack.redis(decode_responses=True)
    try:
        held = r_.hgetall("dk:otp:" + body["id"])
        assert held["p"] == "+6281234567890" and held["n"] == "0"
        assert code not in "".join(held.values())
        assert 290 <= r_.ttl("dk:otp:" + body["id"]) <= 300
    finally:
        r_.close()

    c = http.post(CONFIRM % body["id"], {"code": code})
    assert c.status == 200, c
    got = c.json()
    assert got["phone"] == "+6281234567890"
    assert re.fullmatch(r"[A-Za-z0-9_-]{55}", got["phone_token"])
    at = datetime.datetime.fromisoformat(got["expires_at"])
    assert at.utcoffset() == datetime.timedelta(hours=7)
    assert abs(at.timestamp() - (time.time() + 12 * 3600)) < 60

    # a code is used once
    again = http.post(CONFIRM % body["id"], {"code": code})
    assert again.status == 410 and again.error == "otp_expired"

    # the token books, for its phone
    b = http.post(BOOK, dict(booking(1, first_open_date(),
                                     phone="081234567890"),
                             phone_token=got["phone_token"]))
    assert b.status == 201, b

    # neither the phone nor the code in nginx's logs
    for log in (pv.error_log, pv.access_log):
        try:
            with open(log, errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            continue
        assert code not in text and "81234567890" not in text


def test_a_phone_that_is_no_indonesian_mobile_gets_no_code(pv):
    http = http_for(pv)
    for phone in ("0211234567", "12345", "", None, "+6581234567"):
        r = send(http, phone)
        assert r.status == 422 and r.error == "invalid_phone", (phone, r)
        assert r.field == "phone"


def test_five_wrong_codes_lock_the_code(stack, pv, clean_log):
    http = http_for(pv)
    r = send(http, "081234567891")
    vid = r.json()["id"]
    code = sent_code(stack, "+6281234567891")
    for left in (4, 3, 2, 1):
        w = http.post(CONFIRM % vid, {"code": wrong(code)})
        assert w.status == 422, w
        assert w.error == "invalid_otp" and w.field == "code"
        assert w.json()["attempts_left"] == left
    w = http.post(CONFIRM % vid, {"code": wrong(code)})
    assert w.status == 429 and w.error == "otp_locked", w
    # locked: the right code is no use now
    w = http.post(CONFIRM % vid, {"code": code})
    assert w.status == 429 and w.error == "otp_locked", w


def test_a_malformed_code_counts_as_a_wrong_one(stack, pv):
    http = http_for(pv)
    vid = send(http, "081234567892").json()["id"]
    for body, left in (({"code": "abc"}, 4), ({}, 3), ({"code": 123456}, 2)):
        w = http.post(CONFIRM % vid, body)
        assert w.status == 422 and w.json()["attempts_left"] == left, w


def test_unknown_and_expired_codes_answer_alike(stack, make_stack):
    st = verifying_nginx(make_stack, stack, extra_http="dukcapil_otp_ttl 1s;")
    http = http_for(st)
    for vid in ("0" * 32, "f" * 32, "nonsense", "A" * 32):
        r = http.post(CONFIRM % vid, {"code": "123456"})
        assert r.status == 410 and r.error == "otp_expired", (vid, r)

    r = send(http, "081234567893")
    assert r.json()["expires_in"] == 1
    code = sent_code(stack, "+6281234567893")
    time.sleep(2.2)
    c = http.post(CONFIRM % r.json()["id"], {"code": code})
    assert c.status == 410 and c.error == "otp_expired", c


# --- limits against SMS pumping ------------------------------------------

def test_a_phone_gets_three_codes_an_hour_and_six_a_day(stack, pv):
    http = http_for(pv)
    phone = "081234567894"
    for _ in range(3):
        assert send(http, phone).status == 201
    r = send(http, phone)
    assert r.status == 429 and r.error == "too_many_codes", r
    assert 3500 <= int(r.headers["retry-after"]) <= 3600

    # another phone is not held back
    assert send(http, "081234567895").status == 201

    # the hour is over (its counter gone): three more, then the day's limit
    r_ = stack.redis()
    try:
        r_.delete("dk:otp:h:" + e164(phone))
    finally:
        r_.close()
    for _ in range(3):
        assert send(http, phone).status == 201
    r_ = stack.redis()
    try:
        r_.delete("dk:otp:h:" + e164(phone))
    finally:
        r_.close()
    r = send(http, phone)
    assert r.status == 429 and r.error == "too_many_codes", r
    assert 86000 <= int(r.headers["retry-after"]) <= 86400

    # only the codes sent were written for the daemon
    assert stack.psql("SELECT count(*) FROM notification WHERE phone = '%s'"
                      % e164(phone)).strip() == "6"


def test_the_city_budget_of_codes_a_day(stack, make_stack):
    st = verifying_nginx(make_stack, stack,
                         extra_http="dukcapil_otp_daily_budget 2;")
    http = http_for(st)
    assert send(http, "081234567896").status == 201
    assert send(http, "081234567897").status == 201
    before = metric(st, 'dukcapil_otp_codes_total{outcome="budget_exhausted"}')
    r = send(http, "081234567898")
    assert r.status == 503 and r.error == "otp_budget_exhausted", r
    assert 0 < int(r.headers["retry-after"]) <= 86400
    after = metric(st, 'dukcapil_otp_codes_total{outcome="budget_exhausted"}')
    assert after == before + 1
    assert stack.psql("SELECT count(*) FROM notification").strip() == "2"


# --- bookings and submissions need the token of their phone ------------------

def bad_tokens(stack, phone_e164, good):
    secret = stack.token_secret
    return {
        "missing": None,
        "forged": "A" * 55,
        "garbage": "not a token",
        "altered": good[:-2] + ("AA" if good[-2:] != "AA" else "BA"),
        "expired": make_token(secret, phone_e164, time.time() - 1),
        "another phone": make_token(secret, "+6281299999999",
                                    time.time() + 3600),
        "another secret": make_token(b"x" * 64, phone_e164,
                                     time.time() + 3600),
    }


def test_a_booking_needs_a_valid_token_of_its_phone(stack, pv, clean_log):
    http = http_for(pv)
    phone = make_phone(11)
    good = verify(stack, http, phone)
    date = first_open_date()

    for why, token in bad_tokens(stack, e164(phone), good).items():
        body = booking(11, date)
        if token is not None:
            body["phone_token"] = token
        r = http.post(BOOK, body)
        assert r.status == 422, (why, r)
        assert r.error == "invalid_phone_token", (why, r)
        assert r.field == "phone_token", (why, r)

    # the body's own fields are checked first
    r = http.post(BOOK, dict(booking(11, date), nik="123"))
    assert r.error == "invalid_nik", r

    # a token the test made with the stack's secret is as good as the
    # module's own: the format is the documented one
    made = make_token(stack.token_secret, e164(phone), time.time() + 60)
    r = http.post(BOOK, dict(booking(12, date, phone=phone),
                             phone_token=made))
    assert r.status == 201, r
    r = http.post(BOOK, dict(booking(11, date), phone_token=good))
    assert r.status == 201, r


def test_a_submission_needs_a_valid_token_of_its_phone(stack, pv):
    http = http_for(pv)
    phone = make_phone(21)
    good = verify(stack, http, phone)

    for why, token in bad_tokens(stack, e164(phone), good).items():
        body = application(21)
        if token is not None:
            body["phone_token"] = token
        r = http.post(APPS, body)
        assert r.status == 422, (why, r)
        assert r.error == "invalid_phone_token", (why, r)
        assert r.field == "phone_token", (why, r)

    r = http.post(APPS, dict(application(21), kk="1"))
    assert r.error == "invalid_kk", r

    r = http.post(APPS, dict(application(21), phone_token=good))
    assert r.status == 201, r


def test_without_verification_no_token_is_needed(stack, http):
    r = http.post(BOOK, booking(31, first_open_date()))
    assert r.status == 201, r
    r = http.post(APPS, application(31))
    assert r.status == 201, r


def test_every_nginx_with_the_secret_accepts_the_token(stack, make_stack):
    a = verifying_nginx(make_stack, stack)
    b = verifying_nginx(make_stack, stack)
    phone = make_phone(41)
    token = verify(stack, http_for(a), phone)
    r = http_for(b).post(BOOK, dict(booking(41, first_open_date()),
                                    phone_token=token))
    assert r.status == 201, r


# --- a phone's active appointments across dates ---------------------------

def test_a_bot_with_one_verified_phone_holds_three_appointments(stack, pv,
                                                                 clean_log):
    """Fresh NIKs, other dates, other offices: one verified phone holds at
    most dukcapil_phone_active_cap (3) active appointments; a cancelled one
    frees its place."""
    http = http_for(pv)
    phone = make_phone(61)
    token = verify(stack, http, phone)
    dates = open_dates()
    offices = ("mpp", "sukajadi", "rumbai", "binawidya", "mpp", "sukajadi")
    answers = []
    for k in range(6):
        r = http.post(BOOK, dict(booking(600 + k, dates[k], phone=phone,
                                         office=offices[k]),
                                 phone_token=token))
        answers.append((r.status, r.error))
        if r.status == 201:
            kept = (r.json()["code"], make_nik(600 + k))
    assert answers == [(201, None)] * 3 + [(409, "phone_limit")] * 3, answers
    assert stack.psql("SELECT count(*) FROM appointment WHERE phone = '%s'"
                      " AND status = 'booked'" % e164(phone)).strip() == "3"

    code, nik = kept
    r = http.delete(BOOK + "/" + code, headers={"X-NIK": nik})
    assert r.status == 200, r
    r = http.post(BOOK, dict(booking(606, dates[6], phone=phone),
                             phone_token=token))
    assert r.status == 201, r
    r = http.post(BOOK, dict(booking(607, dates[7], phone=phone),
                             phone_token=token))
    assert (r.status, r.error) == (409, "phone_limit"), r


# --- a phone's no-shows ------------------------------------------------------

def test_a_barred_phone_books_with_no_nik(stack, http):
    """The scheduler bars the phone that booked no-shows (dk:bar:phone:,
    test_scheduler_reconcile.py); book.lua then refuses it whatever the
    NIK, and the NIK with another phone still books."""
    r_ = stack.redis()
    try:
        r_.set("dk:bar:phone:" + e164(make_phone(51)), "2099-03-03")
    finally:
        r_.close()
    date = first_open_date()
    for i in (51, 52, 53):
        r = http.post(BOOK, booking(i, date, phone=make_phone(51)))
        assert r.status == 403 and r.error == "no_show_bar", r
    r = http.post(BOOK, booking(51, date, phone=make_phone(54)))
    assert r.status == 201, r


def test_nginx_refuses_a_short_or_open_token_secret(stack):
    import os
    short = os.path.join(stack.root, "short.secret")
    with open(short, "w") as f:
        f.write("x" * 31 + "\n")
    os.chmod(short, 0o600)
    rc, out, _ = stack.nginx_test(stack.render_nginx_conf(token_secret=short))
    assert rc != 0 and "shorter than 32 bytes" in out, out

    wide = os.path.join(stack.root, "wide.secret")
    with open(wide, "w") as f:
        f.write("x" * 64 + "\n")
    os.chmod(wide, 0o644)
    rc, out, _ = stack.nginx_test(stack.render_nginx_conf(token_secret=wide))
    assert rc != 0 and "dukcapil_token_secret" in out, out

    # verification on needs a secret
    rc, out, _ = stack.nginx_test(stack.render_nginx_conf(
        token_secret=False, phone_verification=True))
    assert rc != 0 and "dukcapil_token_secret" in out, out
