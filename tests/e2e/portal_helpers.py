"""The citizens' portal in a real browser (issue 14): headless Chromium
driven by Selenium (Debian's chromium, chromium-driver, python3-selenium)
against the real stack, axe-core injected on every page and state, the page
weight from the browser's own resource timing, screenshots of every page at
both sizes under build/screenshots/.

One browser for the whole session (fixture `browser`), one nginx with phone
verification on over the session stack's Redis and PostgreSQL (fixture
`portal`): both made once, by conftest.py, when a test first asks for them;
each test still gets its data reset by `stack`.

axe-core runs on every page and state at 360x740; at 1280x800 the same
states are checked for layout (screenshot, horizontal scroll, tap targets):
axe reads the document, which is the same at both sizes, and the session's
time stays under two minutes on a shared machine."""

import json
import os
import re
import shutil

import pytest

from stack import REPO, wait_until

SIZES = {"mobile": (360, 740), "desktop": (1280, 800)}
WAIT = 10                        # seconds any one wait may take
POLL = 0.05                      # how often a wait looks again
SHOTS = os.path.join(REPO, "build", "screenshots")
AXE = os.path.join(REPO, "build", "npm", "node_modules", "axe-core",
                   "axe.min.js")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# the file the portal's sender daemon writes the messages to, and the line
# of each phone's last code read
SENDER = {"messages": None, "read": {}}

HOME_BUDGET = 30 * 1024          # bytes transferred, compressed
FLOW_BUDGET = 100 * 1024


def sent_otp(st, phone_e164):
    """The verification code last sent to the phone, as the citizen reads
    it: the text of the newest 'otp' line for the phone in the file channel
    of the portal's sender daemon (messages.jsonl, as make run writes it).
    st: any stack of the session (the portal's daemon is found by its
    fixture)."""
    path = SENDER["messages"]

    def newest():
        """the newest code for the phone not read before (the file outlives
        the tests' data, whose ids start again at 1)"""
        try:
            with open(path) as f:
                lines = [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return None
        for n in range(len(lines) - 1, SENDER["read"].get(phone_e164, -1),
                       -1):
            m = lines[n]
            if m.get("kind") == "otp" and m.get("to") == phone_e164:
                SENDER["read"][phone_e164] = n
                return m
        return None

    found = []
    wait_until(lambda: found.append(newest()) or found[-1] is not None, WAIT,
               what="a verification code sent to %s" % phone_e164)
    m = found[-1]
    code = re.search(r"\b(\d{6})\b", m["text"])
    assert code, "no code in the message sent to %s" % phone_e164
    return code.group(1)


def needs_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER, AXE)
               if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python3-selenium")
    return missing


@pytest.fixture(scope="module")
def portal(session_stack):
    """An nginx serving the portal with dukcapil_phone_verification on, and
    a daemon sending the citizens' messages to a file, over the session
    stack's Redis and PostgreSQL (as make run's demo); a module's."""
    from conftest import KEEP, new_stack_dir
    from stack import Stack
    st = Stack(new_stack_dir("dukcapil-portal-"), fast=True,
               persistence=False, redis_port=session_stack.redis_port,
               pg_port=session_stack.pg_port)
    st.share_redis_credentials(session_stack)
    st.share_token_secret(session_stack)
    st.state["ops_password_wanted"] = session_stack.ops_password
    st.start_nginx(phone_verification=True)
    # the citizens' messages, the codes among them, to a file as make run's
    # daemon sends them; a daemon that runs no job (the tests' data is reset
    # under it, which a reconcile must not see)
    assert st.start_scheduler(jobs=False), "dukcapil-scheduler not built"
    SENDER["messages"], SENDER["read"] = st.messages_file, {}
    yield st
    st.stop_scheduler()
    st.stop_nginx()
    if not KEEP:
        shutil.rmtree(st.root, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    missing = needs_browser()
    if missing:
        pytest.fail("the browser tests need %s (make deps)" % ", ".join(
            missing))
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--lang=id-ID",
              "--window-size=1280,800", "--disable-extensions",
              "--no-first-run", "--password-store=basic"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(WAIT * 2)
    driver.set_script_timeout(WAIT * 2)
    driver.execute_cdp_cmd("Network.enable", {})
    # axe-core in every document the browser opens, before the page's own
    # scripts: nothing of it goes over the network or counts as weight
    with open(AXE) as f:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                               {"source": f.read()})
    os.makedirs(SHOTS, exist_ok=True)
    try:
        yield Browser(driver)
    finally:
        driver.quit()


class Browser:
    """The driver and what the tests do with it."""

    def __init__(self, driver):
        self.d = driver
        self.size = "desktop"
        self.base = None

    # --- pages ---------------------------------------------------------

    def resize(self, size):
        self.size = size
        w, h = SIZES[size]
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": w, "height": h, "deviceScaleFactor": 1,
            "mobile": size == "mobile"})

    def fresh(self, base):
        """A cold start: nothing cached, nothing measured yet."""
        self.base = base
        self.d.execute_cdp_cmd("Network.clearBrowserCache", {})
        self.d.get("about:blank")
        self.transferred = 0

    def open(self, path):
        """Opens a page and waits for its modules to have run (no request
        in flight); what the page before transferred is added up first."""
        self.transferred += self.page_bytes()
        self.d.get(self.base + path)
        self.idle()

    def page_bytes(self):
        """Bytes the current document transferred: its navigation and
        every resource and fetch since (resource timing's transferSize:
        compressed body and headers; 0 when served from the cache)."""
        if not self.d.current_url.startswith("http"):
            return 0
        return self.d.execute_script(
            "return performance.getEntriesByType('navigation')"
            ".concat(performance.getEntriesByType('resource'))"
            ".reduce((a, x) => a + (x.transferSize || 0), 0);")

    def idle(self):
        self.until(lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "!document.body.hasAttribute('aria-busy') && "
            "!document.querySelector('form[aria-busy=true]')"))

    def weight(self):
        """Bytes transferred since fresh(), this page's included."""
        return self.transferred + self.page_bytes()

    # --- finding and waiting ------------------------------------------

    def wait(self, css, visible=True):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        cond = EC.visibility_of_element_located if visible else \
            EC.presence_of_element_located
        return self.until(cond((By.CSS_SELECTOR, css)))

    def wait_text(self, css, text):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        self.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css),
                                                    text))
        return self.d.find_element(By.CSS_SELECTOR, css)

    def until(self, condition, timeout=WAIT, message=""):
        """Waits (at most timeout seconds) until condition(driver) is
        true; answers its value."""
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.d, timeout, poll_frequency=POLL).until(
            condition, message)

    def step(self, section_id):
        """Waits until the step (a section of the page) is the one shown."""
        el = self.wait("#%s" % section_id)
        self.idle()
        return el

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.d.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        from selenium.webdriver.common.by import By
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def type(self, name, value, form=None):
        el = self.find("%s [name=%s]" % (form or "section:not([hidden])",
                                         name))
        el.clear()
        el.send_keys(value)

    def choose(self, name, value):
        from selenium.webdriver.support.ui import Select
        Select(self.find("section:not([hidden]) select[name=%s]" % name)) \
            .select_by_value(value)

    def submit(self):
        """Presses the submit button of the step shown."""
        self.find("section:not([hidden]) button[type=submit]").click()

    def summary(self):
        """The error summary of the step shown: its text, once visible."""
        el = self.wait("section:not([hidden]) .ringkasan-salah")
        assert el.text.startswith("Ada yang perlu diperbaiki"), el.text
        return el.text

    def field_error(self, name):
        return self.wait("#%s-salah" % name).text

    # --- what every page and state is checked for ----------------------

    def check(self, name):
        """Screenshot, axe-core, no horizontal scroll, tap targets: the
        state shown now, under the name `name`."""
        self.idle()
        self.screenshot(name)
        self.assert_fits()
        self.assert_tap_targets()
        if self.size == "mobile":
            self.assert_axe()

    def screenshot(self, name):
        import base64
        m = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = m.get("cssContentSize") or m["contentSize"]
        w, _ = SIZES[self.size]
        shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": w,
                     "height": min(size["height"], 4000), "scale": 1}})
        path = os.path.join(SHOTS, "%s-%s.png" % (name, self.size))
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        return path

    def assert_fits(self):
        over = self.d.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert over <= 0, "%s: %d px of horizontal scroll at %s" % (
            self.d.current_url, over, self.size)

    def assert_tap_targets(self):
        small = self.d.execute_script("""
            const out = [];
            for (const e of document.querySelectorAll(
                    'button, .tombol, ' +
                    'input:not([type=radio]):not([type=checkbox]), select, ' +
                    '.pilihan label, .kembali, .kaki a, .ringkasan-salah a')) {
                const r = e.getBoundingClientRect();
                if (r.width === 0 && r.height === 0) continue;   // hidden
                if (r.height < 44 - 0.5 || r.width < 24)
                    out.push((e.id || e.textContent.trim().slice(0, 30)) +
                             ' ' + Math.round(r.width) + 'x' +
                             Math.round(r.height));
            }
            return out;""")
        assert not small, "%s at %s: tap targets under 44 px: %s" % (
            self.d.current_url, self.size, small)

    def assert_axe(self):
        result = self.d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations'],
                               selectors: false, ancestry: false,
                               runOnly: {type: 'tag', values: [
                                   'wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                   'best-practice']}})
               .then(r => done(JSON.stringify(r.violations)))
               .catch(e => done(JSON.stringify([{id: 'axe-error',
                                  impact: 'critical', help: String(e)}])));""")
        bad = [v for v in json.loads(result)
               if v.get("impact") in ("serious", "critical")]
        assert not bad, "%s at %s: axe-core: %s" % (
            self.d.current_url, self.size,
            "; ".join("%s (%s): %s %s" % (
                v["id"], v["impact"], v.get("help"),
                [n.get("html", "")[:80] for n in v.get("nodes", [])][:3])
                for v in bad))
