"""The citizens' portal (issue 14), Cek / batalkan janji temu in a real
browser against the real stack, at 360x740 and 1280x800: code + NIK show
the appointment, a wrong pair is said plainly, a cancellation asks once
more and frees the slot at once."""

import pytest

from helpers import http_for
from appointments_helpers import (availability, booking, first_open_date,
                                  make_nik, rows)
from portal_helpers import FLOW_BUDGET, SIZES


@pytest.mark.parametrize("size", list(SIZES))
def test_a_citizen_looks_an_appointment_up_and_cancels_it(
        stack, portal, browser, size):
    date = first_open_date()
    http = http_for(stack)
    r = http.post("/api/v1/appointments", booking(70, date))
    assert r.status == 201, r
    code = r.json()["code"]
    browser.resize(size)
    browser.fresh(portal.nginx_url)
    browser.open("/cek-janji")

    # the checks of the page itself, then a pair the API does not know
    browser.submit()
    text = browser.summary()
    assert "Masukkan kode janji temu." in text and "Masukkan NIK" in text
    browser.type("code", code)
    browser.type("nik", make_nik(71))
    browser.submit()
    assert "tidak cocok" in browser.field_error("code")
    browser.check("cek-salah")

    # as a citizen types it: lower case, no dashes
    browser.type("code", code.replace("-", "").lower())
    browser.type("nik", make_nik(70))
    browser.submit()
    browser.step("langkah-janji")
    assert browser.find("#janji-kode").text == code
    assert browser.find("#janji-status").text == "Terjadwal"
    assert browser.find("#janji-antrean").text == "1"
    assert browser.find("#janji-kantor").text == \
        "Mal Pelayanan Publik Pekanbaru"
    browser.check("cek-janji")

    browser.find("#mau-batal").click()
    browser.step("langkah-yakin")
    assert rows(stack, date)[0][4] == "booked"      # nothing yet
    browser.check("cek-yakin")
    browser.find("#ya-batal").click()
    browser.step("langkah-batal")
    assert code in browser.find("#batal-kode").text
    browser.check("cek-batal")
    assert rows(stack, date, status="cancelled")[0][0] == code
    assert availability(http, date)["remaining"] == 150
    weight = browser.weight()
    print("look-up and cancel at %s: %d bytes" % (size, weight))
    assert 0 < weight <= FLOW_BUDGET, weight
