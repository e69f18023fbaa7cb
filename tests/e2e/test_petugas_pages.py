"""The operators' pages (issue 15), in headless Chromium against the real
stack: behind the operators' account (the browser sends it to the pages and
to /api/v1/ops/), every page read by axe-core at 360x740 and looked at on a
desktop (screenshots under build/screenshots/), a day at the counter
through the pages (check-in by typing the code and Enter, two loket pages
calling, Selesai, Tidak hadir after calls), today's list, the worklist of
applications (a rejection needs its reason), the quota, the delivery
budget and the figures."""

import datetime
import re

import pytest

from applications_helpers import (app_row, history_rows, insert_appointment,
                                  submit)
from helpers import http_for, wib_today
from petugas_helpers import (appointment_status, appointment_steps, login,
                             todays)

PAGES = [("/petugas/", "petugas-menu", "Menu petugas"),
         ("/petugas/check-in", "petugas-check-in", "Check-in warga"),
         ("/petugas/loket", "petugas-loket", "Loket"),
         ("/petugas/hari-ini", "petugas-hari-ini", "Antrean hari ini"),
         ("/petugas/permohonan", "petugas-permohonan", "Permohonan dokumen"),
         ("/petugas/kuota", "petugas-kuota", "Kuota"),
         ("/petugas/pengiriman", "petugas-pengiriman", "Pengiriman PT Pos"),
         ("/petugas/statistik", "petugas-statistik", "Statistik")]


def press_enter(browser, css, text):
    """Types as a USB QR scanner does: the characters, then Enter."""
    from selenium.webdriver.common.keys import Keys
    el = browser.find(css)
    el.clear()
    el.send_keys(text + Keys.ENTER)
    browser.idle()


def key(browser, k):
    """A key pressed on the page (not in a field)."""
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(browser.d).send_keys(k).perform()
    browser.idle()


# --- nginx ------------------------------------------------------------------

def test_operator_pages_need_the_operators_account(stack, portal):
    http = http_for(portal)
    for path in ("/petugas/", "/petugas/loket", "/petugas/check-in.html"):
        r = http.get(path)
        assert r.status == 401, (path, r)
        assert 'realm="Petugas Disdukcapil"' in r.headers["www-authenticate"]
        r = http.ops.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status == 200, (path, r)
        h = r.headers
        assert h["content-type"] == "text/html; charset=utf-8"
        assert h["cache-control"] == "no-cache"
        assert h["content-encoding"] == "gzip"
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert h["x-content-type-options"] == "nosniff"
    assert http.ops.get("/petugas/tidak-ada").status == 404
    # the display is public
    assert http.get("/layar/").status == 200


def test_operator_pages_have_no_inline_script_or_other_host(stack, portal):
    http = http_for(portal)
    for path, _, _ in PAGES + [("/layar/", None, None)]:
        page = (http.ops if path.startswith("/petugas") else http).get(
            path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert " style=" not in page and "<style" not in page, path
        assert not re.search(r"(src|href)=\"(https?:)?//", page), path
        assert '<html lang="id">' in page, path


# --- every page -------------------------------------------------------------

@pytest.mark.parametrize("size", ["mobile", "desktop"])
def test_every_operator_page_reads_well(stack, portal, browser, size):
    today = wib_today()
    todays(stack, 3, today)
    submit(http_for(stack), 1, method="pickup")
    browser.resize(size)
    login(browser, portal)
    for path, name, heading in PAGES:
        browser.open(path)
        h1 = browser.wait("h1")
        assert h1.text == heading, (path, h1.text)
        browser.check(name)


# --- check-in ----------------------------------------------------------------

def test_check_in_by_typing_the_code_and_enter(stack, portal, browser):
    """The code as typed, as a QR scanner types the bare code (any case, no
    dashes) or the portal's URL with the code: each checks its citizen in
    and shows the name, service, queue number and masked NIK; the field is
    empty and focused again for the next scan."""
    today = wib_today()
    people = todays(stack, 3, today)
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/check-in")
    assert browser.d.switch_to.active_element.get_attribute("name") == "code"
    forms = [people[0][0],
             people[1][0].replace("-", "").lower(),
             portal.nginx_url + "/cek-janji?code=" + people[2][0]]
    for (code, nik, number), typed in zip(people, forms):
        press_enter(browser, "#code", typed)
        browser.wait_text("#hadir-nomor", str(number))
        assert browser.find("#hadir-nama").text == "Warga Hadir %d" % number
        assert browser.find("#hadir-nik").text == nik[:4] + "*" * 8 + nik[-4:]
        assert appointment_status(stack, code) == "checked_in"
        active = browser.d.switch_to.active_element
        assert active.get_attribute("name") == "code"
        assert active.get_attribute("value") == ""
    browser.check("petugas-check-in-hadir")
    assert len(browser.finds("#riwayat li")) == 3


def test_check_in_errors_are_said_in_indonesian(stack, portal, browser):
    tomorrow = wib_today() + datetime.timedelta(days=1)
    later, _ = insert_appointment(stack, 7, tomorrow)
    browser.resize("mobile")
    login(browser, portal)
    browser.open("/petugas/check-in")
    press_enter(browser, "#code", "bukan kode")
    assert "tidak dikenali" in browser.summary()
    press_enter(browser, "#code", "A-0000-0000-0000")
    assert "A-0000-0000-0000 tidak ditemukan" in browser.summary()
    press_enter(browser, "#code", later)
    text = browser.summary()
    assert "bukan hari ini" in text, text
    browser.check("petugas-check-in-salah")
    assert appointment_status(stack, later) == "booked"


# --- a day at the counter ----------------------------------------------------

def set_desk(browser, office, counter, services):
    """The loket page's first step: office, counter, services."""
    from selenium.webdriver.support.ui import Select
    browser.step("atur")
    Select(browser.find("#office")).select_by_value(office)
    browser.type("counter", counter, form="#form-loket")
    for box in browser.finds("input[name=services]"):
        if box.is_selected() != (box.get_attribute("value") in services):
            box.click()
    browser.find("#form-loket button[type=submit]").click()
    browser.step("layani")
    assert browser.find("#judul-loket").text == "Loket %s" % counter


def test_a_day_at_the_counter(stack, portal, browser):
    """Four citizens checked in at the check-in page (code typed + Enter);
    two loket pages (two tabs, loket 1 and loket 2) call in turn: each gets
    its own citizen, lowest number first; Selesai; Panggil ulang twice and
    Tidak hadir; the keys of the page; the empty queue said plainly. Every
    step is a history row with the operator and the loket."""
    today = wib_today()
    people = todays(stack, 4, today)
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/check-in")
    for code, _, number in people:
        press_enter(browser, "#code", code)
        browser.wait_text("#hadir-nomor", str(number))

    d = browser.d
    browser.open("/petugas/loket")
    set_desk(browser, "mpp", "1", ["ktp"])
    one = d.current_window_handle
    d.switch_to.new_window("tab")
    browser.open("/petugas/loket")
    # the tab remembers the last desk of this browser: change it
    browser.find("#ubah-loket").click()
    set_desk(browser, "mpp", "2", ["ktp"])
    two = d.current_window_handle

    def at(handle, button, number=None, message=None):
        d.switch_to.window(handle)
        browser.find("#" + button).click()
        browser.idle()
        if number is not None:
            browser.wait_text("#warga-nomor", str(number))
        if message is not None:
            browser.wait_text("#pesan", message)

    at(one, "panggil", 1)
    assert browser.find("#warga-nama").text == "Warga Hadir 1"
    at(two, "panggil", 2)
    browser.check("petugas-loket-dipanggil")
    at(one, "selesai", message="Nomor 1 selesai dilayani")
    assert browser.find("#warga").get_attribute("hidden") is not None
    # loket 2's citizen does not come: called again twice, then absent
    at(two, "ulang", 2)
    assert browser.find("#warga-panggilan").text.startswith("2 kali")
    at(two, "ulang", 2)
    at(two, "absen", message="Nomor 2 dicatat tidak hadir")
    # the keyboard: P calls, S closes
    d.switch_to.window(one)
    key(browser, "p")
    browser.wait_text("#warga-nomor", "3")
    key(browser, "s")
    browser.wait_text("#pesan", "Nomor 3 selesai dilayani")
    d.switch_to.window(two)
    at(two, "panggil", 4)
    at(two, "selesai", message="Nomor 4 selesai dilayani")
    at(two, "panggil", message="Tidak ada warga yang menunggu")
    browser.check("petugas-loket-kosong")
    d.close()
    d.switch_to.window(one)

    status = [appointment_status(stack, c) for c, _, _ in people]
    assert status == ["served", "no_show", "served", "served"], status
    user = portal.ops_user
    assert appointment_steps(stack, people[0][0]) == [
        ("booked", "checked_in", user, ""),
        ("checked_in", "called", user, "1"),
        ("called", "served", user, "1")]
    steps = appointment_steps(stack, people[1][0])
    assert [s[:2] for s in steps] == [
        ("booked", "checked_in"), ("checked_in", "called"),
        ("called", "checked_in"), ("checked_in", "called"),
        ("called", "checked_in"), ("checked_in", "called"),
        ("called", "no_show")], steps
    assert {s[2] for s in steps} == {user}


def test_the_loket_page_keeps_its_desk_and_its_citizen_over_a_reload(
        stack, portal, browser):
    today = wib_today()
    people = todays(stack, 2, today, service="kk")
    http = http_for(portal)
    for code, _, _ in people:
        assert http.ops.post("/api/v1/ops/appointments/%s/check-in" % code,
                             {}).status == 200
    browser.resize("mobile")
    login(browser, portal)
    browser.open("/petugas/loket")
    if not browser.find("#layani").get_attribute("hidden"):
        browser.find("#ubah-loket").click()
    set_desk(browser, "mpp", "A3", ["kk"])
    browser.find("#panggil").click()
    browser.idle()
    browser.wait_text("#warga-nomor", "1")
    browser.d.refresh()
    browser.idle()
    browser.step("layani")
    assert browser.find("#judul-loket").text == "Loket A3"
    browser.wait_text("#warga-nomor", "1")
    browser.check("petugas-loket-mobile")


# --- today's list ------------------------------------------------------------

def test_todays_list_filters_by_status_and_service(stack, portal, browser):
    from selenium.webdriver.support.ui import Select
    today = wib_today()
    ktp = todays(stack, 3, today)
    todays(stack, 2, today, service="kk", first=10)
    http = http_for(portal)
    assert http.ops.post("/api/v1/ops/appointments/%s/check-in" % ktp[0][0],
                         {}).status == 200
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/hari-ini")
    browser.wait_text("#ringkasan", "5 janji temu")
    assert len(browser.finds("#daftar tbody tr")) == 5
    Select(browser.find("#status")).select_by_value("checked_in")
    browser.find("#form-saring button[type=submit]").click()
    browser.idle()
    browser.wait_text("#ringkasan", "1 janji temu")
    rows = browser.finds("#daftar tbody tr")
    assert len(rows) == 1 and "Warga Hadir 1" in rows[0].text
    Select(browser.find("#status")).select_by_value("")
    Select(browser.find("#service")).select_by_value("kk")
    browser.find("#form-saring button[type=submit]").click()
    browser.idle()
    browser.wait_text("#ringkasan", "2 janji temu")
    browser.check("petugas-hari-ini-kk")


# --- the back office ---------------------------------------------------------

def test_applications_move_by_button_and_a_rejection_needs_its_reason(
        stack, portal, browser):
    http = http_for(stack)
    first, _ = submit(http, 1, method="pickup")
    second, _ = submit(http, 2, method="pickup")
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/permohonan")
    browser.wait("#daftar table")
    browser.find('button[data-code="%s"][data-to=verified]' % first).click()
    browser.idle()
    browser.wait_text("#pesan", "diverifikasi")
    assert app_row(stack, first)["status"] == "verified"
    browser.find('button[data-code="%s"][data-to=rejected]' % second).click()
    browser.step("tolak")
    browser.find("#form-tolak button[type=submit]").click()
    assert "alasan penolakan" in browser.summary()
    assert app_row(stack, second)["status"] == "submitted"
    browser.check("petugas-permohonan-tolak")
    browser.type("note", "Foto KK tidak terbaca. Unggah ulang.",
                 form="#form-tolak")
    browser.find("#form-tolak button[type=submit]").click()
    browser.step("daftar-permohonan")
    browser.wait_text("#pesan", "ditolak")
    assert app_row(stack, second)["status"] == "rejected"
    assert history_rows(stack, second)[-1] == (
        "submitted", "rejected", portal.ops_user,
        "Foto KK tidak terbaca. Unggah ulang.")


def test_quota_page_sets_a_dates_quota_and_shows_what_citizens_see(
        stack, portal, browser):
    from selenium.webdriver.support.ui import Select
    from appointments_helpers import first_open_date
    date = first_open_date()
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/kuota")
    Select(browser.find("#service")).select_by_value("ktp")
    browser.d.execute_script(
        "const f = document.getElementById('date'); f.value = arguments[0];"
        "f.dispatchEvent(new Event('change'));", str(date))
    browser.idle()
    browser.type("quota", "12", form="#form-kuota")
    browser.find("#form-kuota button[type=submit]").click()
    browser.idle()
    browser.wait_text("#pesan", "sekarang 12")
    row = browser.finds("#ketersediaan tbody tr")[0]
    assert "KTP-el" in row.text and "12" in row.text, row.text
    r = http_for(stack).get("/api/v1/availability?office=mpp&from=%s&to=%s"
                            % (date, date))
    ktp = [s for s in r.json()["days"][0]["services"]
           if s["service"] == "ktp"][0]
    assert ktp["quota"] == 12
    browser.type("quota", "tidak", form="#form-kuota")
    browser.find("#form-kuota button[type=submit]").click()
    assert "angka" in browser.summary()
    browser.check("petugas-kuota")


def test_delivery_page_shows_the_budget_and_the_batches(stack, portal,
                                                        browser):
    """The period's budget in deliveries (used, pending, left) and its
    batches, newest first, with their manifest and deliveries."""
    from test_backoffice import batches
    night = wib_today() - datetime.timedelta(days=2)
    batches(stack, http_for(stack), [(night, 2),
                                     (night + datetime.timedelta(1), 1)])
    submit(http_for(stack), 700, "post")      # accepted, not yet batched
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/pengiriman")
    browser.wait("#anggaran-sisa")
    assert browser.find("#anggaran-total").text == "1.000 pengiriman"
    assert browser.find("#anggaran-terpakai").text == "3"
    assert browser.find("#anggaran-menunggu").text == "1"
    assert browser.find("#anggaran-sisa").text == "996"
    rows = browser.finds("#kiriman tbody tr")
    assert len(rows) == 2
    assert "Belum dibuat" in rows[0].text and "1 menunggu kurir" in \
        rows[0].text, rows[0].text
    assert "Sudah dibuat" in rows[1].text, rows[1].text
    browser.check("petugas-pengiriman")


def test_delivery_page_without_a_period_says_so(stack, portal, browser):
    browser.resize("mobile")
    login(browser, portal)
    browser.open("/petugas/pengiriman")
    browser.wait_text("#anggaran", "Belum ada periode anggaran")
    browser.check("petugas-pengiriman-tanpa-periode")


def test_figures_page_draws_its_charts_and_links_the_csv(stack, portal,
                                                          browser):
    today = wib_today()
    todays(stack, 3, today)
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/statistik")
    browser.wait("#grafik svg")
    assert len(browser.finds("#grafik svg")) == 3
    # one bar (or none) per day of the 30, each named in its title
    bars = browser.finds("#grafik figure:first-child svg rect title")
    assert any("3" in b.get_attribute("textContent") for b in bars)
    assert len(browser.finds("#tabel tbody tr")) == 30
    href = browser.find("#unduh").get_attribute("href")
    assert "format=csv" in href
    r = http_for(portal).ops.get(href[len(portal.nginx_url):])
    assert r.status == 200, r
    assert r.headers["content-disposition"].startswith("attachment")
    assert "date" in r.text.splitlines()[0]
    browser.check("petugas-statistik-grafik")


def test_a_third_unanswered_call_makes_a_no_show_and_calls_the_next(
        stack, portal, browser):
    today = wib_today()
    people = todays(stack, 2, today, service="akta_lahir")
    http = http_for(portal)
    for code, _, _ in people:
        assert http.ops.post("/api/v1/ops/appointments/%s/check-in" % code,
                             {}).status == 200
    browser.resize("desktop")
    login(browser, portal)
    browser.open("/petugas/loket")
    if not browser.find("#layani").get_attribute("hidden"):
        browser.find("#ubah-loket").click()
    set_desk(browser, "mpp", "5", ["akta_lahir"])
    browser.find("#panggil").click()
    browser.idle()
    browser.wait_text("#warga-nomor", "1")
    for calls in (2, 3):
        key(browser, "u")
        browser.wait_text("#warga-panggilan", "%d kali" % calls)
        assert browser.find("#warga-nomor").text == "1"
    key(browser, "u")
    browser.wait_text("#pesan", "Nomor 1 sudah dipanggil 3 kali dan dicatat "
                                "tidak hadir")
    browser.wait_text("#warga-nomor", "2")
    browser.check("petugas-loket-tidak-hadir")
    assert appointment_status(stack, people[0][0]) == "no_show"
    assert appointment_status(stack, people[1][0]) == "called"
