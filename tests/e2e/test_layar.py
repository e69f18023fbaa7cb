"""The waiting-room display (/layar/, issue 15) in headless Chromium: a new
call on the screen within 2 s of its answer, chimed and spoken in
Indonesian (speechSynthesis, id-ID) once "Aktifkan suara" was pressed; no
name in its page or in its JSON; the API out of reach shows a quiet
"menghubungkan ulang" and polling goes on; read by axe-core and looked at on
a TV of 1920x1080 and of 1280x720 (screenshots under build/screenshots/)."""

import base64
import json
import os
import time

from selenium.webdriver.support.ui import WebDriverWait

from helpers import http_for, wib_today
from petugas_helpers import DISPLAY, OPS_CALL, OPS_STEP, todays
from portal_helpers import POLL, SHOTS

TV = {"tv": (1920, 1080), "tv-kecil": (1280, 720)}

# what the page hands to speechSynthesis, kept where the test reads it
# (the browser of the tests has no voice to speak with)
SPY = """
window.__spoken = [];
if ('speechSynthesis' in window) {
    speechSynthesis.speak = (u) => window.__spoken.push({text: u.text,
                                                          lang: u.lang});
}
"""


def tv(browser, size):
    w, h = TV[size]
    browser.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})


def shot(browser, name):
    data = browser.d.execute_cdp_cmd("Page.captureScreenshot",
                                     {"format": "png"})["data"]
    with open(os.path.join(SHOTS, name + ".png"), "wb") as f:
        f.write(base64.b64decode(data))


def checked_in(stack, http, n, first=1, service="ktp"):
    people = todays(stack, n, wib_today(), service=service, first=first)
    for code, _, _ in people:
        assert http.ops.post("/api/v1/ops/appointments/%s/check-in" % code,
                             {}).status == 200
    return people


def call(http, counter, services=("ktp",)):
    r = http.ops.post(OPS_CALL % counter, {"office": "mpp",
                                          "services": list(services)})
    assert r.status == 200, r
    return r.json()


def open_display(browser, portal, spy=True):
    ident = None
    if spy:
        ident = browser.d.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": SPY})
    browser.fresh(portal.nginx_url)
    browser.open("/layar/?office=mpp")
    return ident


def forget(browser, ident):
    if ident:
        browser.d.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                                  ident)


def test_a_new_call_is_on_the_display_within_2_s_and_spoken(stack, portal,
                                                             browser):
    http = http_for(portal)
    checked_in(stack, http, 3)
    call(http, "1")
    tv(browser, "tv")
    ident = open_display(browser, portal)
    try:
        browser.wait_text("#sekarang .nomor", "1")
        assert browser.find("#sekarang .loket").text == "Loket 1"
        assert browser.find("#kantor").text == "MPP Pekanbaru" or \
            browser.find("#kantor").text
        browser.find("#suara").click()
        assert not browser.find("#suara").is_displayed()
        # a call already on the screen when the page opened is not spoken
        assert browser.d.execute_script("return window.__spoken") == []
        c = call(http, "2")
        asked = time.monotonic()
        WebDriverWait(browser.d, 2, poll_frequency=POLL).until(
            lambda d: d.execute_script(
                "const e = document.querySelector('#sekarang .nomor');"
                "return e && e.textContent") == str(c["queue_number"]),
            "the call of number %d not on the display within 2 s"
            % c["queue_number"])
        print("display: the call on screen %.2f s after its answer"
              % (time.monotonic() - asked))
        assert browser.find("#sekarang .loket").text == "Loket 2"
        assert browser.find("#sekarang .layanan").text == "KTP-el"
        assert "1" in browser.find("#sebelumnya").text
        spoken = []
        browser.until(lambda d: spoken.extend(d.execute_script(
            "return window.__spoken.splice(0)")) or spoken)
        assert spoken == [{"text": "Nomor antrean 2, layanan KTP-el, silakan"
                                   " menuju loket 2", "lang": "id-ID"}]
        shot(browser, "layar-tv")
        browser.assert_axe()
        assert browser.d.execute_script(
            "return document.documentElement.scrollWidth <= innerWidth && "
            "document.documentElement.scrollHeight <= innerHeight")
    finally:
        forget(browser, ident)


def test_a_recall_is_announced_again(stack, portal, browser):
    http = http_for(portal)
    checked_in(stack, http, 1)
    first = call(http, "3")
    tv(browser, "tv-kecil")
    ident = open_display(browser, portal)
    try:
        browser.wait_text("#sekarang .nomor", "1")
        browser.find("#suara").click()
        assert http.ops.post(OPS_STEP % (first["code"], "recall"),
                             {}).status == 200
        call(http, "3")
        spoken = []
        browser.until(lambda d: spoken.extend(d.execute_script(
            "return window.__spoken.splice(0)")) or spoken)
        assert spoken[0]["text"].startswith("Nomor antrean 1,")
        shot(browser, "layar-tv-kecil")
        browser.assert_axe()
        assert browser.d.execute_script(
            "return document.documentElement.scrollWidth <= innerWidth && "
            "document.documentElement.scrollHeight <= innerHeight")
    finally:
        forget(browser, ident)


def test_the_display_carries_no_names(stack, portal, browser):
    http = http_for(portal)
    people = checked_in(stack, http, 4)
    for counter in ("1", "2", "3"):
        call(http, counter)
    r = http.get(DISPLAY % "mpp")
    assert r.status == 200, r
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    text = json.dumps(body)
    for code, nik, number in people:
        assert "Warga Hadir %d" % number not in text
        assert nik not in text and nik[-4:] not in text
        assert code not in text
    for c in body["calls"]:
        assert set(c) <= {"queue_number", "service", "service_name",
                          "counter", "called_at", "calls"}, c
    tv(browser, "tv")
    open_display(browser, portal, spy=False)
    browser.wait_text("#sekarang .nomor", "3")
    page = browser.d.execute_script(
        "return document.documentElement.outerHTML")
    assert "Warga Hadir" not in page
    for code, nik, _ in people:
        assert code not in page and nik not in page


def test_the_display_reconnects_quietly_when_the_api_is_out_of_reach(
        stack, portal, browser):
    http = http_for(portal)
    checked_in(stack, http, 2)
    call(http, "1")
    tv(browser, "tv")
    open_display(browser, portal, spy=False)
    browser.wait_text("#sekarang .nomor", "1")
    d = browser.d
    d.execute_cdp_cmd("Network.setBlockedURLs",
                      {"urls": ["*/api/v1/display*"]})
    try:
        browser.wait_text("#sambungan", "Menghubungkan ulang")
        # the last call stays on the screen
        assert browser.find("#sekarang .nomor").text == "1"
        shot(browser, "layar-menghubungkan-ulang")
        call(http, "2")
    finally:
        d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.wait_text("#sekarang .nomor", "2")
    browser.until(lambda d: d.find_element("id", "sambungan").text == "")


def test_a_display_set_up_for_an_unknown_office_says_so(stack, portal,
                                                         browser):
    tv(browser, "tv")
    browser.fresh(portal.nginx_url)
    browser.open("/layar/?office=tidak-ada")
    browser.wait_text("#sambungan", "tidak dikenal")
    assert "Belum ada panggilan" in browser.find("#sekarang").text
