"""The citizens' portal (issue 14), Ajukan permohonan and Lacak permohonan
in a real browser against the real stack, phone verification on, at
360x740 and 1280x800: the delivery rules first, an address whose kelurahan
list follows the kecamatan and fills the postal code, the code sent, the
tracking code; then, once the scheduler batched it and PT Pos's file was
imported, the timeline with the receipt number."""

import os
import subprocess

import pytest

from helpers import http_for
from appointments_helpers import e164, make_nik, make_phone
from applications_helpers import app_row, drive, make_kk
from portal_helpers import FLOW_BUDGET, SIZES, sent_otp
from stack import SCHEDULER


def scheduler(st, *args):
    r = subprocess.run([SCHEDULER, "-c", st.scheduler_yaml] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout
    return r.stdout


def shipped(st, code, resi):
    """The night's batch takes the completed application; PT Pos's file
    says it is on its way with receipt number resi."""
    scheduler(st, "once", "delivery-batch")
    path = os.path.join(st.root, "pos-%s.csv" % code)
    with open(path, "w") as f:
        f.write("tracking_code,resi,status,time,receiver,note\n"
                "%s,%s,in_transit,2026-12-02T09:00:00+07:00,,"
                "Paket diterima di kantor pos\n" % (code, resi))
    scheduler(st, "import-delivery", path)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_citizen_asks_for_delivery_by_pt_pos_and_tracks_it(
        stack, portal, browser, size):
    if not os.path.exists(SCHEDULER):
        pytest.fail("%s is missing: make scheduler" % SCHEDULER)
    i = 80 if size == "mobile" else 81
    nik, phone = make_nik(i), make_phone(i)
    browser.resize(size)
    browser.fresh(portal.nginx_url)
    browser.open("/ajukan")
    assert "alamat di Kota Pekanbaru" in browser.find(
        "#langkah-aturan").text
    browser.find("#mulai").click()
    browser.step("langkah-data")
    browser.wait("#form-data option[value=ktp]", visible=False)
    browser.choose("service", "ktp")
    browser.type("nik", nik)
    browser.type("kk", "1234")
    browser.type("name", "Rina Marlina")
    browser.type("phone", phone)
    browser.submit()
    assert "16 angka" in browser.field_error("kk")
    browser.check("ajukan-data-salah")
    browser.type("kk", make_kk(i))
    browser.check("ajukan-data")
    browser.submit()

    browser.step("langkah-kirim")
    browser.find('label[for="method-post"]').click()
    browser.wait("#bagian-pos")
    browser.wait("#kecamatan option[value=Binawidya]", visible=False)
    browser.choose("kecamatan", "Binawidya")
    # the kelurahan of Binawidya only, and its postal code filled in
    kelurahan = [o.get_attribute("value") for o in
                 browser.finds("#kelurahan option") if o.get_attribute(
                     "value")]
    assert "Simpangbaru" in kelurahan and "Kampung Melayu" not in kelurahan
    browser.choose("kelurahan", "Simpangbaru")
    assert browser.find("#postal_code").get_attribute("value") == "28293"
    browser.submit()
    text = browser.summary()
    assert "nama jalan" in text and "RT" in text, text
    browser.check("ajukan-kirim-salah")
    browser.type("street", "Jl. HR. Soebrantas No. 45")
    browser.type("rt", "001")
    browser.type("rw", "002")
    browser.check("ajukan-kirim")
    browser.submit()

    browser.step("langkah-kode")
    browser.check("ajukan-kode")
    browser.type("otp", sent_otp(stack, e164(phone)))
    browser.submit()
    browser.step("langkah-selesai")
    code = browser.find("#hasil-kode").text
    assert "Dikirim melalui PT Pos ke Jl. HR. Soebrantas No. 45, RT 001/RW " \
        "002, Simpangbaru, Binawidya, Pekanbaru 28293" == \
        browser.find("#hasil-kirim").text
    browser.check("ajukan-selesai")
    row = app_row(stack, code)
    assert row, code
    weight = browser.weight()
    print("application at %s: %d bytes" % (size, weight))
    assert 0 < weight <= FLOW_BUDGET, weight

    # the office's steps, the night's batch, PT Pos's file
    drive(http_for(stack).ops, code, ["verified", "processing", "completed"])
    shipped(stack, code, "P2612%06d" % i)

    browser.fresh(portal.nginx_url)
    browser.open("/lacak")
    browser.type("code", code)
    browser.type("nik", nik)
    browser.submit()
    browser.step("langkah-status")
    assert browser.find("#status-sekarang").text == "Dalam pengiriman PT Pos"
    assert browser.find("#status-resi").text == "P2612%06d" % i
    assert "Kecamatan Binawidya" in browser.find("#status-kirim").text
    steps = [li.find_element("css selector", "strong").text
             for li in browser.finds("#riwayat li")]
    assert steps == ["Dalam pengiriman PT Pos", "Masuk daftar kiriman PT Pos",
                     "Dokumen selesai dicetak", "Sedang diproses",
                     "Diverifikasi", "Diajukan"], steps
    assert "WIB" in browser.find("#riwayat li .waktu").text
    browser.check("lacak-status")
    weight = browser.weight()
    print("tracking at %s: %d bytes" % (size, weight))
    assert 0 < weight <= FLOW_BUDGET, weight


def test_a_spent_delivery_budget_offers_pickup_at_the_nearest_office(
        stack, portal, browser):
    stack.psql("INSERT INTO delivery_period (starts, ends, amount)"
               " VALUES (current_date - 2, current_date + 2, 0)")
    i = 85
    browser.resize("mobile")
    browser.fresh(portal.nginx_url)
    browser.open("/ajukan")
    browser.find("#mulai").click()
    browser.step("langkah-data")
    browser.wait("#form-data option[value=kk]", visible=False)
    browser.choose("service", "kk")
    browser.type("nik", make_nik(i))
    browser.type("kk", make_kk(i))
    browser.type("name", "Dewi Lestari")
    browser.type("phone", make_phone(i))
    browser.submit()
    browser.step("langkah-kirim")
    browser.find('label[for="method-post"]').click()
    browser.wait("#kecamatan option[value=Sukajadi]", visible=False)
    browser.type("street", "Jl. Durian No. 7")
    browser.type("rt", "3")
    browser.type("rw", "4")
    browser.choose("kecamatan", "Sukajadi")
    browser.choose("kelurahan", "Kampung Melayu")
    browser.submit()
    enter_otp = sent_otp(stack, e164(make_phone(i)))
    browser.step("langkah-kode")
    browser.type("otp", enter_otp)
    browser.submit()

    browser.step("langkah-kirim")
    text = browser.field_error("method")
    assert "Kuota pengiriman dokumen melalui PT Pos" in text, text
    assert "UPT Disdukcapil Kecamatan Sukajadi" in text, text
    assert browser.find("#method-pickup").is_selected()
    assert browser.find("#office").get_attribute("value") == "sukajadi"
    browser.check("ajukan-kuota-pos-habis")
    assert stack.psql("SELECT count(*) FROM application").strip() == "0"

    browser.submit()            # pickup at Sukajadi; the phone is verified
    browser.step("langkah-selesai")
    assert browser.find("#hasil-kirim").text == \
        "Diambil di UPT Disdukcapil Kecamatan Sukajadi"
    row = app_row(stack, browser.find("#hasil-kode").text)
    assert (row["delivery_method"], row["pickup_office"]) == \
        ("pickup", "sukajadi"), row
