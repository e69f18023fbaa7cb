"""Helpers of the dukcapil-scheduler end-to-end tests: a PostgreSQL + Redis
stack without nginx (stack/), the scheduler's configuration, seed
data, and a booking client that follows the Redis key contract of
ARCHITECTURE.md the way the module does (admit in Redis, then INSERT the row,
give the admission back if the INSERT fails).
"""

import calendar
import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

from stack import REPO, Stack, wait_until  # noqa: E402

SCHEDULER = os.environ.get("DUKCAPIL_SCHEDULER") or \
    os.path.join(REPO, "build", "dukcapil-scheduler")
KEEP = os.environ.get("DUKCAPIL_KEEP_STACKS") == "1"

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

DATA_TABLES = ("delivery_event", "delivery_import", "delivery",
               "delivery_batch", "delivery_period", "scheduler_run",
               "application_history", "application", "appointment",
               "quota_override", "calendar_closure", "calendar_opening")


def code(prefix, n):
    """A deterministic, valid code: code('P', 1) == 'P-0000-0000-0001'."""
    s = ""
    for _ in range(12):
        s = CROCKFORD[n % 32] + s
        n //= 32
    return "%s-%s-%s-%s" % (prefix, s[:4], s[4:8], s[8:])


WIB = datetime.timezone(datetime.timedelta(hours=7))


def clock_at(wib):
    """The environment that sets the scheduler's clock (DK_CLOCK_OFFSET) to
    the WIB time `wib`, 'YYYY-MM-DD HH:MM', for one run."""
    at = datetime.datetime.strptime(wib, "%Y-%m-%d %H:%M").replace(tzinfo=WIB)
    return {"DK_CLOCK_OFFSET": str(int(at.timestamp() - time.time()))}


# --- the stack --------------------------------------------------------------

class SchedulerStack:
    """PostgreSQL + Redis of the stack package, and helpers around the binary."""

    def __init__(self):
        self.st = Stack(tempfile.mkdtemp(prefix="dukcapil-sched-", dir="/tmp"),
                        fast=True, persistence=False)
        self.st.start_postgres()
        self.st.start_redis()
        self.outbox = os.path.join(self.st.root, "outbox")
        self.conninfo = self.st.pg_conninfo
        self.procs = []

    def destroy(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if KEEP:
            self.st.stop()
            print("\nkept stack in %s" % self.st.root)
        else:
            self.st.destroy()

    # --- data ---

    def reset(self):
        self.st.psql("TRUNCATE %s RESTART IDENTITY CASCADE"
                     % ", ".join(DATA_TABLES))
        self.st.reset_redis()
        shutil.rmtree(self.outbox, ignore_errors=True)
        os.makedirs(self.outbox)

    def db(self):
        return self.st.connect()

    def redis(self):
        return self.st.redis(decode_responses=True)

    def sql(self, query, args=None):
        conn = self.db()
        try:
            with conn.cursor() as c:
                c.execute(query, args)
                return c.fetchall() if c.description else None
        finally:
            conn.close()

    def value(self, query, args=None):
        return self.sql(query, args)[0][0]

    # --- configuration ---

    def config(self, name="scheduler.yaml", **over):
        """Writes a configuration; keyword names are dotted keys with '__'
        for '.', e.g. delivery__budget_total=10."""
        keys = {
            "postgres.conninfo": '"%s"' % self.conninfo,
            "redis.address": '"127.0.0.1:%d"' % self.st.redis_port,
            "redis.auth_file": '"%s"' % self.st.redis_auth_file,
            "redis.epoch_check_seconds": "2",
            "jobs.delivery_batch.at": '"01:00"',
            "jobs.reconcile.at": '"02:00"',
            "delivery.budget_total": "2500",
            # the seeds are completed on 2026-11-01: none is overdue unless
            # a test says so
            "delivery.pickup_after_days": "3650",
            "delivery.per_night_cap": "500",
            "delivery.batch_size": "4",
            "delivery.outbox_dir": '"%s"' % self.outbox,
            "appointments.window_days": "14",
            "appointments.admission_grace_seconds": "60",
            "no_show.count": "2",
            "no_show.within_days": "30",
            "no_show.bar_days": "14",
        }
        for k, v in over.items():
            keys[k.replace("__", ".")] = v if isinstance(v, str) and \
                v.startswith('"') else '"%s"' % v if isinstance(v, str) \
                else str(v)
        tree = {}
        for k, v in keys.items():
            node = tree
            parts = k.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = v

        def emit(node, indent):
            out = []
            for k, v in node.items():
                if isinstance(v, dict):
                    out.append("%s%s:" % ("  " * indent, k))
                    out += emit(v, indent + 1)
                else:
                    out.append("%s%s: %s" % ("  " * indent, k, v))
            return out

        path = os.path.join(self.st.root, name)
        with open(path, "w") as f:
            f.write("\n".join(emit(tree, 0)) + "\n")
        return path

    # --- the binary ---

    def run(self, *args, config=None, env=None, timeout=60):
        """Runs the scheduler to its end: CompletedProcess (text)."""
        cmd = [SCHEDULER]
        if config is not None:
            cmd += ["-c", config]
        cmd += list(args)
        return subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout, env=self._env(env))

    def start(self, *args, config=None, env=None, log=None):
        """Starts the scheduler in the background: Popen, stderr to log."""
        cmd = [SCHEDULER] + (["-c", config] if config else []) + list(args)
        log = log or os.path.join(self.st.root, "scheduler-%d.log"
                                  % len(self.procs))
        f = open(log, "w")
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                             env=self._env(env))
        p.log = log
        self.procs.append(p)
        return p

    @staticmethod
    def _env(extra):
        env = dict(os.environ)
        for k in ("DK_CRASH_AT", "DK_CLOCK_OFFSET"):
            env.pop(k, None)
        env.update(extra or {})
        return env

    @staticmethod
    def stop(p, sig=signal.SIGTERM, timeout=30):
        if p.poll() is None:
            p.send_signal(sig)
        return p.wait(timeout)

    @staticmethod
    def log_of(p):
        with open(p.log) as f:
            return f.read()

    def wait_log(self, p, text, timeout=20):
        wait_until(lambda: text in self.log_of(p), timeout,
                   what="%r in %s" % (text, p.log))

    def runs(self, job=None):
        rows = self.sql("SELECT id, job, slot, reason, outcome, started_at,"
                        " finished_at, counts, error FROM scheduler_run"
                        " ORDER BY id")
        keys = ("id", "job", "slot", "reason", "outcome", "started_at",
                "finished_at", "counts", "error")
        rows = [dict(zip(keys, r)) for r in rows]
        return [r for r in rows if job is None or r["job"] == job]


@pytest.fixture(scope="module")
def sched_stack():
    s = SchedulerStack()
    try:
        yield s
    finally:
        s.destroy()


@pytest.fixture
def sched(sched_stack):
    """The module's stack with empty data tables, a fresh Redis state
    (dk:epoch set) and an empty outbox."""
    sched_stack.reset()
    return sched_stack


# --- seed data ----------------------------------------------------------------

KECAMATAN = [("14.71.01", "Jadirejo", "Sukajadi", "28126"),
             ("14.71.02", "Sumahilang", "Pekanbaru Kota", "28111"),
             ("14.71.08", "Simpang Baru", "Binawidya", "28293")]


def seed_completed(sched, n, start=1, kecamatan=None, method="post"):
    """n completed applications, completed one second apart (oldest first:
    start), deterministic codes P-...-<start..>."""
    conn = sched.db()
    try:
        with conn.cursor() as c:
            for i in range(start, start + n):
                kec = kecamatan or KECAMATAN[i % len(KECAMATAN)]
                c.execute(
                    "INSERT INTO application (code, service, nik, kk, name,"
                    " phone, status, delivery_method, pickup_office, street,"
                    " rt, rw, kelurahan, kecamatan_written, postal_code,"
                    " kecamatan_code, completed_at) VALUES"
                    " (%s, %s, %s, '1471010101010001', %s, %s, 'completed',"
                    "  %s, %s, %s, '001', '002', %s, %s, %s, %s,"
                    "  timestamptz '2026-11-01 08:00:00+07'"
                    "  + %s * interval '1 second')",
                    (code("P", i), ("ktp", "kk", "akta_lahir")[i % 3],
                     "1471014101%06d" % i, "Warga, \"Nomor\" %d" % i,
                     "+62812%08d" % i, method,
                     "mpp" if method == "pickup" else None,
                     "Jl. Melur No. %d" % i, kec[1], kec[2], kec[3], kec[0],
                     i))
    finally:
        conn.close()


# --- bookings as the module makes them ----------------------------------------

# The module's own scripts, for driving Redis the way nginx does while the
# scheduler reconciles.
LUA_DIR = os.path.join(REPO, "ngx_dukcapil_module", "lua")


def module_script(name):
    with open(os.path.join(LUA_DIR, name + ".lua")) as f:
        return f.read()


def day_keys(office, date):
    """The keys book.lua takes for a day; the phones are the date's."""
    tag = "dk:{%s:%s}:" % (office, date)
    return [tag + "day", tag + "adm", tag + "nik", "dk:{%s}:phone" % date]


class Booker:
    """Books like the module: one atomic admission in Redis, then the row."""

    def __init__(self, sched):
        self.r = sched.redis()
        self.db = sched.db()
        self.book = self.r.register_script(module_script("book"))
        self.release = self.r.register_script(module_script("release"))

    def close(self):
        self.r.close()
        self.db.close()

    def __call__(self, n, office, service, date, quota, phone_cap=5,
                 weekday_closed=False):
        nik = "1471014101%06d" % (n % 1000000)
        phone = "+62813%08d" % n
        c = code("A", n)
        keys = day_keys(office, date)
        # the day's keys go a week after the day, as the module sets them
        expire = calendar.timegm(
            datetime.date.fromisoformat(str(date)).timetuple()) + 8 * 86400
        ans = self.book(keys=["dk:epoch", "dk:bar:" + nik, keys[0], keys[1],
                              keys[2], keys[3], "dk:bar:phone:" + phone,
                              "dk:epoch"],
                        args=[service, quota, nik, phone, phone_cap, c,
                              int(time.time() * 1000), expire, 99, 0, 0,
                              "1" if weekday_closed else "0", "", "",
                              # the history the module checked (book.lua)
                              self.r.info("replication")["master_replid"]])
        if isinstance(ans, bytes):
            ans = ans.decode()
        ans = ans.split(" ")
        if ans[0] != "ok":
            return ans[0]
        try:
            with self.db.cursor() as cur:
                cur.execute("INSERT INTO appointment (code, nik, name, phone,"
                            " office, service, date, queue_number) VALUES"
                            " (%s, %s, 'Warga', %s, %s, %s, %s, %s)",
                            (c, nik, phone, office, service, date, ans[1]))
        except Exception:
            self.release(keys=keys, args=[c])
            return "pg_failed"
        return "ok"

    def cancel(self, c, office, date):
        with self.db.cursor() as cur:
            cur.execute("UPDATE appointment SET status = 'cancelled',"
                        " cancelled_at = now() WHERE code = %s"
                        " AND status = 'booked'", (c,))
        self.release(keys=day_keys(office, date), args=[c])


def redis_day(r, office, date):
    """(day hash, adm hash, nik hash, phone hash) of one (office, date)."""
    return tuple(r.hgetall(k) for k in day_keys(office, date))


def assert_day_consistent(r, office, date):
    """The invariant of the scripts: n, nik and phone derive from adm."""
    day, adm, nik, phone = redis_day(r, office, date)
    count, niks, phones = {}, {}, {}
    for c, v in adm.items():
        svc, n, p, q, ms = v.split("|")
        count[svc] = count.get(svc, 0) + 1
        niks[n] = c
        assert int(day.get("s:" + svc, 0)) >= int(q)
    # the date's phones count the admissions of every office
    for key in r.scan_iter("dk:{*:%s}:adm" % date, count=1000):
        for v in r.hvals(key):
            p = (v.decode() if isinstance(v, bytes) else v).split("|")[2]
            phones[p] = phones.get(p, 0) + 1
    for k, v in day.items():
        if k.startswith("n:"):
            assert int(v) == count.get(k[2:], 0), (office, date, k, v)
    assert niks == nik
    assert {p: int(v) for p, v in phone.items()} == phones
    return adm
