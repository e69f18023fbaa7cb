"""The operators' pages (/petugas/) and the waiting-room display (/layar/)
in the portal's browser (portal_helpers.py), issue 15: the operator's
account given once, as a browser's login prompt would, then sent by the
browser to the pages and to /api/v1/ops/ alike (the same realm)."""

from applications_helpers import insert_appointment, q

OPS_CALL = "/api/v1/ops/counters/%s/call"
OPS_STEP = "/api/v1/ops/appointments/%s/%s"     # recall, served, absent
DISPLAY = "/api/v1/display?office=%s"


def login(browser, portal):
    """The operator's account for this browser: a first navigation with
    the credentials in the address (Chrome keeps them for the realm), then
    the pages are opened by their plain addresses."""
    browser.fresh(portal.nginx_url)
    with_account = portal.nginx_url.replace(
        "http://", "http://%s:%s@" % (portal.ops_user, portal.ops_password))
    browser.d.get(with_account + "/petugas/")
    browser.open("/petugas/")


def todays(st, n, date, service="ktp", office="mpp", first=1):
    """n appointments of `date` (booked), queue numbers first..; [(code,
    nik, queue_number)]."""
    out = []
    for i in range(first, first + n):
        code, nik = insert_appointment(st, i, date, service=service,
                                       office=office, queue=i)
        out.append((code, nik, i))
    return out


def appointment_status(st, code):
    return st.psql("SELECT status FROM appointment WHERE code = %s"
                   % q(code)).strip()


def appointment_steps(st, code):
    """[(from_status, to_status, actor, counter)] of appointment_history,
    oldest first."""
    out = st.psql(
        "SELECT h.from_status || '|' || h.to_status || '|' || h.actor || '|'"
        " || coalesce(h.counter, '') FROM appointment_history h"
        " JOIN appointment a ON a.id = h.appointment_id"
        " WHERE a.code = %s ORDER BY h.id" % q(code))
    return [tuple(l.split("|")) for l in out.split("\n") if l.strip()]

