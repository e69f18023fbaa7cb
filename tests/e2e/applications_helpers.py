"""Helpers of the application and operator end-to-end tests (issue 4):
valid application bodies, the life cycle of SPEC.md as data, an operator
client, and views of what PostgreSQL holds."""

import datetime
import json
import re
import secrets

from appointments_helpers import make_nik, make_phone

APPS = "/api/v1/applications"
OPS_STATUS = "/api/v1/ops/applications/%s/status"
OPS_ADDRESS = "/api/v1/ops/applications/%s/address"
OPS_CHECK_IN = "/api/v1/ops/appointments/%s/check-in"
OPS_QUOTA = "/api/v1/ops/quota"

STATUSES = ("submitted", "verified", "processing", "completed", "rejected",
            "batched", "in_transit", "delivered", "returned",
            "awaiting_pickup", "picked_up")

# The life cycle of SPEC.md, written out from the text (not read from the
# database): (from, to) -> the delivery method it is limited to, or None.
TRANSITIONS = {
    ("submitted", "verified"): None,
    ("verified", "processing"): None,
    ("processing", "completed"): None,
    ("submitted", "rejected"): None,
    ("verified", "rejected"): None,
    ("processing", "rejected"): None,
    ("completed", "batched"): "post",
    ("batched", "in_transit"): "post",
    ("batched", "delivered"): "post",
    ("batched", "returned"): "post",
    ("in_transit", "delivered"): "post",
    ("in_transit", "returned"): "post",
    ("returned", "awaiting_pickup"): "post",
    ("completed", "awaiting_pickup"): "pickup",
    ("awaiting_pickup", "picked_up"): None,
}

# The steps of the delivery (issue 12): only the scheduler's delivery-batch
# (into batched) and the import of the courier's results (the rest) take
# them; an operator asking for one hears 409 delivery_status_reserved,
# whatever the status, for a step into RESERVED.
DELIVERY_STEPS = {
    ("completed", "batched"), ("batched", "in_transit"),
    ("batched", "delivered"), ("batched", "returned"),
    ("in_transit", "delivered"), ("in_transit", "returned"),
    ("returned", "awaiting_pickup"),
}
RESERVED = ("batched", "in_transit", "delivered", "returned")

# How an application of each method reaches each status through the
# operator API (statuses after 'submitted', in order). A status missing
# here cannot be reached with that method by an operator.
PATHS = {
    "post": {
        "submitted": [],
        "verified": ["verified"],
        "processing": ["verified", "processing"],
        "completed": ["verified", "processing", "completed"],
        "rejected": ["rejected"],
    },
    "pickup": {
        "submitted": [],
        "verified": ["verified"],
        "processing": ["verified", "processing"],
        "completed": ["verified", "processing", "completed"],
        "rejected": ["rejected"],
        "awaiting_pickup": ["verified", "processing", "completed",
                            "awaiting_pickup"],
        "picked_up": ["verified", "processing", "completed",
                      "awaiting_pickup", "picked_up"],
    },
}


def allowed(method, frm, to):
    if (frm, to) not in TRANSITIONS:
        return False
    only = TRANSITIONS[(frm, to)]
    return only is None or only == method


def office_answer(method, frm, to):
    """What an operator hears asking for frm -> to: 'reserved' (a step of
    the delivery), 'ok' or 'conflict'."""
    if to in RESERVED or (frm, to) in DELIVERY_STEPS:
        return "reserved"
    return "ok" if allowed(method, frm, to) else "conflict"


def deliver(st, code, steps):
    """The delivery's steps, as the scheduler ('batched') and the courier's
    import (the rest) take them: [(status, note)]."""
    for status, note in steps:
        actor = "scheduler" if status == "batched" else "pos-indonesia"
        out = st.psql("SELECT outcome FROM application_transition(%s, %s, %s,"
                      " %s)" % (q(code), q(status), q(actor),
                                "NULL" if note is None else q(note)))
        assert out.strip() == "ok", (code, status, out)


# --- bodies -------------------------------------------------------------

GOOD_ADDRESS = {"street": "Jl. HR. Soebrantas No. 45", "rt": "001",
                "rw": "002", "kelurahan": "Simpang Baru",
                "kecamatan": "Tampan", "postal_code": "28293"}


def make_kk(i):
    """The i-th valid KK number: region 147101, issue date DDMMYY, serial
    0001-9999 (distinct per i up to ~1e6)."""
    serial = i % 9999 + 1
    j = i // 9999
    return "147101%02d%02d%02d%04d" % (j % 28 + 1, 3, 15, serial)


def application(i, method="post", service="ktp", address=None, office="mpp",
                **over):
    """A valid application body of citizen i."""
    body = {"nik": make_nik(i), "kk": make_kk(i),
            "name": "Pemohon Uji %d" % i, "phone": make_phone(i),
            "service": service}
    if method == "post":
        body["delivery"] = {"method": "post",
                            "address": dict(address or GOOD_ADDRESS)}
    else:
        body["delivery"] = {"method": "pickup", "office": office}
    body.update(over)
    return body


def submit(http, i, method="post", **kw):
    """Submit application i; returns (code, nik)."""
    body = application(i, method, **kw)
    r = http.post(APPS, body)
    assert r.status == 201, (body, r)
    return r.json()["code"], body["nik"]


def citizen_view(http, code, nik):
    r = http.get("%s/%s" % (APPS, code), headers={"X-NIK": nik})
    assert r.status == 200, r
    return r


# a rejection needs its note: the reason its citizen is told (issue 15)
REJECTION_NOTE = "Berkas persyaratan tidak lengkap."


def move(ops, code, status, note=None):
    """An operator's step; a rejection without a note given carries
    REJECTION_NOTE (note="" sends an empty one)."""
    body = {"status": status}
    if note is None and status == "rejected":
        note = REJECTION_NOTE
    if note is not None:
        body["note"] = note
    return ops.post(OPS_STATUS % code, body)


def drive(ops, code, steps):
    """Move an application along `steps`, each of which must answer 200 (a
    rejection with REJECTION_NOTE)."""
    for s in steps:
        r = move(ops, code, s)
        assert (r.status, r.json().get("status")) == (200, s), (code, s, r)


# --- PostgreSQL views ---------------------------------------------------

def q(value):
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def app_row(st, code):
    """The application row as a dict (None if absent)."""
    out = st.psql("SELECT row_to_json(a) FROM application a WHERE code = %s"
                  % q(code)).strip()
    return json.loads(out) if out else None


def history_rows(st, code):
    """[(from_status, to_status, actor, note)] oldest first."""
    out = st.psql(
        "SELECT coalesce(json_agg(json_build_array(h.from_status, "
        "h.to_status, h.actor, h.note) ORDER BY h.id), '[]') "
        "FROM application_history h JOIN application a "
        "ON a.id = h.application_id WHERE a.code = %s" % q(code)).strip()
    return [tuple(x) for x in json.loads(out)]


def count_applications(st):
    return int(st.psql("SELECT count(*) FROM application").strip())


# --- appointments written straight into PostgreSQL ---------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(letter="A"):
    chars = "".join(secrets.choice(CROCKFORD) for _ in range(12))
    return "%s-%s-%s-%s" % (letter, chars[:4], chars[4:8], chars[8:])


def insert_appointment(st, i, date, status="booked", office="mpp",
                       service="ktp", queue=None):
    """An appointment row dated `date` (any date: booking through the API
    only accepts tomorrow onwards). Returns (code, nik)."""
    code, nik = random_code(), make_nik(i)
    extra_cols, extra_vals = "", ""
    if status == "cancelled":
        extra_cols, extra_vals = ", cancelled_at", ", now()"
    elif status == "checked_in":
        extra_cols, extra_vals = ", checked_in_at", ", now()"
    st.psql("INSERT INTO appointment (code, nik, name, phone, office, service,"
            " date, queue_number, status%s) VALUES (%s, %s, %s, %s, %s, %s,"
            " %s, %d, %s%s)"
            % (extra_cols, q(code), q(nik), q("Warga Hadir %d" % i),
               q("+62" + make_phone(i)[1:]), q(office), q(service), q(date),
               queue or (i + 1), q(status), extra_vals))
    return code, nik


def appointment_row(st, code):
    out = st.psql("SELECT row_to_json(a) FROM appointment a WHERE code = %s"
                  % q(code)).strip()
    return json.loads(out) if out else None


RFC3339_WIB = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+07:00$")


def parse_wib(at):
    """'2026-12-01T10:00:00+07:00' -> aware datetime."""
    return datetime.datetime.fromisoformat(at)
