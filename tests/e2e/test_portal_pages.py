"""The citizens' portal (issue 14): every page at 360x740 and 1280x800, in
a real browser against the real stack: what it shows, axe-core, no
horizontal scroll, tap targets, the home page's weight; how nginx serves
the pages (headers, compression, caching)."""

import datetime
import gzip
import re

import pytest

from helpers import http_for, wib_today
from appointments_helpers import booking, first_open_date, make_nik
from portal_helpers import HOME_BUDGET, SIZES

PAGES = [("/", "beranda", "Layanan Online Disdukcapil Kota Pekanbaru"),
         ("/janji-temu", "janji-layanan", "Buat janji temu"),
         ("/cek-janji", "cek-cari", "Cek atau batalkan janji temu"),
         ("/ajukan", "ajukan-aturan", "Ajukan permohonan dokumen"),
         ("/lacak", "lacak-cari", "Lacak permohonan"),
         ("/bantuan", "bantuan", "Cara lain mendapatkan layanan"),
         ("/tidak-ada", "404", "Halaman tidak ditemukan")]


@pytest.mark.parametrize("size", list(SIZES))
def test_home_shows_tomorrows_quota_and_weighs_under_30_kb(stack, portal,
                                                           browser, size):
    # 3 booked tomorrow at the MPP: what is left is what the page says
    date = first_open_date()
    http = http_for(stack)
    for i in range(3):
        assert http.post("/api/v1/appointments",
                         booking(i, date)).status == 201
    browser.resize(size)
    browser.fresh(portal.nginx_url)
    browser.open("/")
    box = browser.wait_text("#situasi", "tersisa")
    if date == wib_today() + datetime.timedelta(days=1):
        assert "Kuota KTP-el besok: 147 tersisa" in box.text, box.text
    else:
        assert "Kuota KTP-el: 147 tersisa" in box.text, box.text
    assert "Jl. Jenderal Sudirman" in browser.find("#daftar-kantor").text
    browser.check("beranda")
    weight = browser.weight()
    print("home page at %s: %d bytes transferred" % (size, weight))
    assert 0 < weight <= HOME_BUDGET, weight


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_reads_well_at_both_sizes(stack, portal, browser, size):
    browser.resize(size)
    browser.fresh(portal.nginx_url)
    for path, name, heading in PAGES:
        browser.open(path)
        h1 = browser.wait("h1")
        assert h1.text == heading, (path, h1.text)
        assert browser.d.execute_script(
            "return document.documentElement.lang") == "id"
        browser.check(name)


def test_nginx_serves_pages_fresh_and_assets_for_a_year(stack, portal):
    http = http_for(portal)
    for path in ("/", "/janji-temu", "/bantuan"):
        r = http.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status == 200, (path, r)
        h = r.headers
        assert h["content-type"] == "text/html; charset=utf-8"
        assert h["cache-control"] == "no-cache"
        assert h["content-encoding"] == "gzip"
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        page = gzip.decompress(r.body).decode()
        # no inline script, no style attribute, nothing from another host
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert " style=" not in page and "<style" not in page, path
        assert not re.search(r"(src|href)=\"(https?:)?//", page), path
        # the NIK field is never filled from the browser's memory
        if 'name="nik"' in page:
            assert re.search(r'name="nik"[^>]*autocomplete="off"', page)
        etag = h["etag"]
        again = http.get(path, headers={"If-None-Match": etag,
                                        "Accept-Encoding": "gzip"})
        assert again.status == 304, again

    for path, ctype in (("/assets/v1/portal.css", "text/css"),
                        ("/assets/v1/api.js", "text/javascript"),
                        ("/assets/v1/alamat.json", "application/json")):
        r = http.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status == 200, (path, r)
        assert r.headers["content-type"] == ctype + "; charset=utf-8"
        assert r.headers["cache-control"] == \
            "public, max-age=31536000, immutable"
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["x-content-type-options"] == "nosniff"

    assert http.get("/tidak-ada").status == 404
    assert http.get("/api/v1/tidak-ada").json()["error"] == "not_found"
    # a form sent without JavaScript: the body is not read, the citizen
    # is sent to what to do instead
    r = http.post("/tanpa-js", "nik=%s" % make_nik(1), headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 303 and r.headers["location"].endswith("/bantuan")


def test_a_page_without_javascript_says_what_to_do(stack, portal):
    http = http_for(portal)
    for path in ("/janji-temu", "/cek-janji", "/ajukan", "/lacak"):
        page = http.get(path).text
        assert "<noscript>" in page, path
        noscript = page.split("<noscript>")[1].split("</noscript>")[0]
        assert "Mal Pelayanan Publik" in noscript and "08.00" in noscript
        # every form's action is the page for a browser without JavaScript
        for form in re.findall(r"<form[^>]*>", page):
            assert 'method="post"' in form and 'action="/tanpa-js"' in form


def test_every_error_code_of_the_contract_has_a_sentence_in_the_portal():
    """docs/openapi.yaml's ErrorCode, each said in Indonesian by api.js
    (a key of its tables, or a case of message())."""
    import os
    import yaml
    from stack import REPO
    with open(os.path.join(REPO, "docs", "openapi.yaml")) as f:
        codes = yaml.safe_load(f)["components"]["schemas"]["ErrorCode"][
            "enum"]
    with open(os.path.join(REPO, "portal", "assets", "v1", "api.js")) as f:
        js = f.read()
    said = set(re.findall(r"^\s+([a-z_]+): \"", js, re.M)) | \
        set(re.findall(r'case "([a-z_]+)":', js))
    missing = sorted(set(codes) - said)
    assert not missing, "error codes the portal does not say: %s" % missing


def test_the_qr_code_leaks_nothing_under_asan(stack, make_stack):
    """QR codes drawn (both versions a code can need, every case and dash
    a lookup reads) and refused: nginx with the ASan/UBSan build of the
    module reports nothing."""
    import os
    from applications_helpers import random_code
    from test_foundation import ASAN_MODULES, asan_runtime, \
        sanitizer_findings
    module = next((m for m in ASAN_MODULES if os.path.exists(m)), None)
    if module is None:
        msg = "no ASan module: make SANITIZE=address module"
        if os.environ.get("DUKCAPIL_REQUIRE_ASAN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    # an nginx of its own on the session's Redis and PostgreSQL (a QR code
    # needs neither; the module's configuration names them)
    st = make_stack(start=False, module=module, workers=1,
                    redis_port=stack.redis_port,
                    pg_port=stack.pg_port)
    st.share_redis_credentials(stack)
    st.share_token_secret(stack)
    asan_dir = os.path.join(st.root, "asan")
    os.makedirs(asan_dir)
    st.start_nginx(env={
        "LD_PRELOAD": "%s %s" % (asan_runtime(), module),
        "ASAN_OPTIONS": "detect_leaks=1:exitcode=0:fast_unwind_on_malloc=0:"
                        "malloc_context_size=40:log_path=%s/asan" % asan_dir,
        "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s/ubsan" % asan_dir})
    http = http_for(st)
    for _ in range(20):
        code = random_code("A")
        for form in (code, code.replace("-", "").lower()):
            r = http.get("/api/v1/qr/%s.svg" % form)
            assert r.status == 200 and r.text.endswith("</svg>\n"), r
    for bad in ("A-0000-0000-000", ".svg", "A--.svg", "x" * 200):
        assert http.get("/api/v1/qr/%s.svg" % bad).status == 404
    assert http.request("HEAD", "/api/v1/qr/%s.svg" % code).status == 200
    st.stop_nginx()
    findings = sanitizer_findings(asan_dir)
    assert not findings, "%d sanitizer findings:\n%s" % (
        len(findings), "\n".join(findings[:5])[:8000])
