"""The citizens' portal (issue 14), Buat janji temu in a real browser
against the real stack, phone verification on: the whole flow at 360x740
and 1280x800 (service and office, a date with what is left, NIK, name and
phone, the code sent, the confirmation with its QR code and .ics), within
100 KB; the errors of a full day, an already-booked NIK, a wrong code and
Redis down; a double-submitted form books once."""

import os
import re
import subprocess
import tempfile

import pytest

from helpers import http_for
from appointments_helpers import (availability, booking, e164,
                                  first_open_date, make_nik, make_phone,
                                  open_dates, rows, set_quota)
from portal_helpers import FLOW_BUDGET, SIZES, WAIT, sent_otp


# --- the steps, as a citizen takes them -----------------------------------

def to_dates(b, service="ktp", office="mpp"):
    b.open("/janji-temu")
    b.wait("#form-layanan option[value=%s]" % office, visible=False)
    b.choose("service", service)
    b.choose("office", office)
    b.submit()
    return b.step("langkah-tanggal")


def pick_date(b, date):
    b.find('label[for="date-%s"]' % date).click()
    b.submit()
    b.step("langkah-data")


def fill_data(b, nik, name, phone):
    b.type("nik", nik)
    b.type("name", name)
    b.type("phone", phone)
    b.submit()


def enter_code(b, st, phone):
    b.step("langkah-kode")
    b.type("otp", sent_otp(st, e164(phone)))
    b.submit()


def confirmed(b):
    b.step("langkah-selesai")
    return b.find("#hasil-kode").text


def book_in_browser(b, st, i, date, check=False):
    """The whole flow for citizen i on date; answers the code shown."""
    to_dates(b)
    if check:
        b.check("janji-tanggal")
    pick_date(b, date)
    if check:
        b.check("janji-data")
    fill_data(b, make_nik(i), "Warga Portal %d" % i, make_phone(i))
    if check:
        b.step("langkah-kode")
        b.check("janji-kode")
    enter_code(b, st, make_phone(i))
    return confirmed(b)


# --- the flow ---------------------------------------------------------------

@pytest.mark.parametrize("size", list(SIZES))
def test_a_citizen_books_and_gets_code_queue_qr_and_calendar(
        stack, portal, browser, size):
    date = first_open_date()
    http = http_for(stack)
    assert http.post("/api/v1/appointments", booking(1, date)).status == 201
    downloads = tempfile.mkdtemp(prefix="dukcapil-portal-dl-")
    browser.d.execute_cdp_cmd("Browser.setDownloadBehavior", {
        "behavior": "allow", "downloadPath": downloads})
    browser.resize(size)
    browser.fresh(portal.nginx_url)

    to_dates(browser)
    label = browser.find('label[for="date-%s"]' % date).text
    assert "Sisa kuota: 149 dari 150" in label, label
    browser.check("janji-tanggal")
    pick_date(browser, date)
    browser.check("janji-data")
    nik, phone = make_nik(20), make_phone(20)
    fill_data(browser, nik, "Siti Aminah", "0812-%s-%s" % (phone[4:8],
                                                           phone[8:]))
    browser.step("langkah-kode")
    assert "0812-" in browser.find("#kode-terkirim").text
    browser.check("janji-kode")
    enter_code(browser, stack, phone)
    code = confirmed(browser)
    browser.wait("#hasil-qr")
    browser.d.execute_script("window.scrollTo(0, 0)")

    # what PostgreSQL holds is what the page says
    got = [r for r in rows(stack, date) if r[0] == code]
    assert len(got) == 1, (code, rows(stack, date))
    _, nik_, phone_, queue, _ = got[0]
    assert (nik_, phone_, queue) == (nik, e164(phone), 2)
    assert browser.find("#hasil-antrean").text == "2"
    assert browser.find("#hasil-layanan").text == "KTP-el"
    assert browser.find("#hasil-kantor").text == \
        "Mal Pelayanan Publik Pekanbaru"
    assert "Jl. Jenderal Sudirman" in browser.find("#hasil-alamat").text
    assert "Kartu Keluarga (KK) asli" in browser.find("#hasil-bawa").text
    tanggal = browser.find("#hasil-tanggal").text
    assert re.fullmatch(r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), "
                        r"%d \w+ %d" % (date.day, date.year), tanggal)
    # the QR code drawn by the module, loaded
    assert browser.d.execute_script(
        "const i = document.getElementById('hasil-qr');"
        "return i.complete && i.naturalWidth > 0 && i.src;").endswith(
            "/api/v1/qr/%s.svg" % code)
    # ... and it reads back as the code (zbarimg, of the picture on screen)
    png = os.path.join(downloads, "qr.png")
    with open(png, "wb") as f:
        f.write(browser.find("#hasil-qr").screenshot_as_png)
    read = subprocess.run(["zbarimg", "--raw", "-q", png],
                          stdout=subprocess.PIPE, text=True, timeout=30)
    assert read.stdout.strip() == code, read
    browser.check("janji-selesai")
    weight = browser.weight()
    print("booking flow at %s: %d bytes transferred" % (size, weight))
    assert 0 < weight <= FLOW_BUDGET, weight

    # the calendar file, made in the page
    browser.find("#kalender").click()
    ics = os.path.join(downloads, "janji-temu-%s.ics" % code)
    browser.until(lambda d: os.path.exists(ics))
    with open(ics, newline="") as f:
        text = f.read()
    assert "DTSTART;VALUE=DATE:%s" % date.strftime("%Y%m%d") in text
    assert "Kode janji temu: %s" % code in text and nik not in text
    assert text.startswith("BEGIN:VCALENDAR\r\n")

    # the NIK went nowhere but the bodies and X-NIK
    assert browser.d.execute_script(
        "return document.cookie + JSON.stringify(localStorage) + "
        "JSON.stringify(sessionStorage) + location.href").find(nik) < 0
    with open(portal.access_log) as f:
        assert nik not in f.read()


# --- the errors ---------------------------------------------------------

def test_a_full_day_offers_the_next_available_date(stack, portal, browser):
    date, later = open_dates()[:2]
    http = http_for(stack)
    browser.resize("mobile")
    browser.fresh(portal.nginx_url)
    # one place left when the citizen chooses the date ...
    set_quota(stack, "mpp", date, "ktp", 1)
    to_dates(browser)
    pick_date(browser, date)
    # ... taken by someone else before the citizen's booking
    assert http.post("/api/v1/appointments", booking(1, date)).status == 201
    fill_data(browser, make_nik(30), "Budi Santoso", make_phone(30))
    enter_code(browser, stack, make_phone(30))

    browser.step("langkah-tanggal")
    text = browser.summary()
    assert "Kuota KTP-el pada" in text and "sudah penuh" in text, text
    assert "Tanggal terdekat yang masih tersedia: " in text, text
    full = browser.find('label[for="date-%s"]' % date)
    assert "Kuota penuh" in full.text
    assert not browser.find("#date-%s" % date).is_enabled()
    assert browser.find("#date-%s" % later).is_selected()
    browser.check("janji-penuh")

    # the date offered books at once: the phone is verified already
    browser.submit()
    browser.step("langkah-data")
    browser.submit()
    code = confirmed(browser)
    assert [r[0] for r in rows(stack, later)] == [code]
    assert availability(http, date)["remaining"] == 0


def test_an_already_booked_nik_and_a_wrong_code_are_said_plainly(
        stack, portal, browser):
    date = first_open_date()
    http = http_for(stack)
    assert http.post("/api/v1/appointments",
                     booking(40, date)).status == 201
    browser.resize("mobile")
    browser.fresh(portal.nginx_url)
    to_dates(browser)
    pick_date(browser, date)
    # a phone number the API refuses, checked in the page first
    fill_data(browser, make_nik(40), "Warga Empat Puluh", "0212345678")
    assert "nomor HP Indonesia" in browser.field_error("phone")
    browser.check("janji-data-salah")

    phone = make_phone(41)
    browser.type("phone", phone)
    browser.submit()
    browser.step("langkah-kode")
    good = sent_otp(stack, e164(phone))
    browser.type("otp", "%06d" % ((int(good) + 1) % 1000000))
    browser.submit()
    assert browser.field_error("otp") == \
        "Kode verifikasi salah. Sisa percobaan: 4."
    assert "Sisa percobaan: 4" in browser.summary()
    browser.check("janji-kode-salah")

    browser.type("otp", good)
    browser.submit()
    browser.step("langkah-data")
    assert browser.field_error("nik") == \
        "NIK ini sudah memiliki janji temu pada tanggal tersebut."
    browser.check("janji-nik-terpakai")
    assert len(rows(stack, date)) == 1


def test_redis_down_shows_coba_lagi_and_books_nothing_until_it_is_back(
        stack, portal, browser):
    date = first_open_date()
    browser.resize("mobile")
    browser.fresh(portal.nginx_url)
    to_dates(browser)
    pick_date(browser, date)
    # the phone verified (the token needs no Redis), then Redis goes away
    assert http_for(stack).post("/api/v1/appointments",
                                booking(50, date)).status == 201
    fill_data(browser, make_nik(50), "Warga Lima Puluh", make_phone(51))
    enter_code(browser, stack, make_phone(51))
    browser.step("langkah-data")
    stack.stop_redis()
    browser.type("nik", make_nik(52))
    browser.submit()

    browser.step("langkah-sibuk")
    assert browser.find("#langkah-sibuk h1").text == "Layanan sedang sibuk"
    assert "coba lagi" in browser.find("#sibuk-pesan").text
    browser.check("janji-sibuk")
    assert [r[1] for r in rows(stack, date)] == [make_nik(50)]

    # an empty Redis back: bookings wait (503 state_rebuilding) until the
    # scheduler's rebuild sets dk:epoch, which this stands for
    stack.start_redis()
    stack.set_epoch()

    def retried(d):
        if browser.find("#langkah-selesai").is_displayed():
            return True
        if browser.find("#langkah-sibuk").is_displayed() and \
                not d.execute_script("return document.body.ariaBusy"):
            browser.find("#coba-lagi").click()
        return False
    browser.until(retried, WAIT * 2, message="the retries never booked")
    code = browser.find("#hasil-kode").text
    assert [(r[0], r[1]) for r in rows(stack, date)
            if r[1] == make_nik(52)] == [(code, make_nik(52))]


def test_a_double_submitted_booking_books_once(stack, portal, browser):
    date = first_open_date()
    browser.resize("desktop")
    browser.fresh(portal.nginx_url)
    to_dates(browser)
    pick_date(browser, date)
    fill_data(browser, make_nik(60), "Warga Enam Puluh", make_phone(60))
    browser.step("langkah-kode")
    browser.type("otp", sent_otp(stack, e164(make_phone(60))))
    mark = os.path.getsize(portal.access_log)
    # two taps on the button, and a third submission, before any answer
    browser.d.execute_script(
        "const f = document.getElementById('form-kode');"
        "const b = f.querySelector('button[type=submit]');"
        "b.click(); b.click(); f.requestSubmit();")
    code = confirmed(browser)
    assert [r[0] for r in rows(stack, date)] == [code]

    def posts(_):
        with open(portal.access_log) as f:
            f.seek(mark)
            return [l for l in f if "POST /api/v1/appointments" in l]
    sent = browser.until(posts)    # buffered: 1 s
    assert len(sent) == 1, sent


def test_too_many_codes_and_a_no_show_bar_say_what_to_do(stack, portal,
                                                        browser):
    date = first_open_date()
    busy_phone, phone, nik = make_phone(90), make_phone(91), make_nik(90)
    http = http_for(portal)
    for _ in range(3):          # the phone's codes of the hour
        assert http.post("/api/v1/phone-verifications",
                         {"phone": busy_phone}).status == 201
    until = str(open_dates()[-1])
    r = stack.redis()
    try:
        r.set("dk:bar:%s" % nik, until)
    finally:
        r.close()
    browser.resize("mobile")
    browser.fresh(portal.nginx_url)
    to_dates(browser)
    pick_date(browser, date)
    fill_data(browser, nik, "Warga Sembilan Puluh", busy_phone)
    text = browser.field_error("phone")
    assert text.startswith("Terlalu banyak permintaan kode. Coba lagi dalam "
                           ) and text.endswith(" menit."), text
    browser.check("janji-kode-terlalu-banyak")

    browser.type("phone", phone)
    browser.submit()
    enter_code(browser, stack, phone)
    browser.step("langkah-data")
    text = browser.summary()
    assert "belum dapat membuat janji temu secara daring sampai" in text
    assert "Silakan datang langsung ke kantor layanan." in text
    browser.check("janji-tidak-hadir")
    assert rows(stack, date) == []
