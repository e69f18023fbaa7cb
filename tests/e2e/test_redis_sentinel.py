"""Redis high availability (issue 16): the module and the scheduler find
the master through Sentinel (dukcapil_redis_sentinel, redis.sentinel), use
a server only once it says it is a master, ask again on a lost connection
or a READONLY answer, and admit no one on a master of another history
(dk:epoch = the master_replid the state was rebuilt on) until the scheduler
has rebuilt the days from PostgreSQL: a promoted replica may lack the last
admissions, and a failover must never over-book.

Real servers on loopback: the stack's Redis as the master, a replica of it,
three redis-sentinel processes (short down-after-milliseconds), nginx with
the module, the scheduler daemon, PostgreSQL."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import Stack, new_stack_dir, wait_until
from stack import SCHEDULER, free_port
from stack.base import REDIS_ADMIN, pid_alive, read_pid
from stack.nginx import SERVICES
from stack.redis import REDIS_SERVER
from appointments_helpers import BOOK, booking, day_key, first_open_date
from helpers import http_for
from test_pg_failover import Bookings, scheduler_once
from test_foundation import sanitizer_findings
from test_redis_auth import asan_env, stop_nginx

MASTER = "dukcapil"         # the master's name in the Sentinels
RESUME_WITHIN = 30          # seconds from the kill to the next 201
KTP_QUOTA = 3               # small: days fill up while the bookings run
SENTINEL = "/usr/bin/redis-sentinel"
MIN_REPLICAS = "min-replicas-to-write 1\nmin-replicas-max-lag 5\n"


def redis_client(st, port, **kw):
    import redis
    return redis.Redis(host="127.0.0.1", port=port, username=REDIS_ADMIN,
                       password=st.redis_password(REDIS_ADMIN),
                       decode_responses=True, socket_timeout=5, **kw)


def replid(r):
    return r.info("replication")["master_replid"]


def good_replicas(st, port=None):
    """Waits until the master counts a replica as good for
    min-replicas-to-write: Redis recounts once a second, so a replica
    just in sync, or a CONFIG SET just made, may not count yet."""
    r = redis_client(st, port or st.redis_port)
    try:
        wait_until(lambda: int(r.info("replication").get(
            "min_slaves_good_slaves", 0)) >= 1, 15, interval=0.1,
            what="a good replica for min-replicas-to-write")
    finally:
        r.close()


class Replica:
    """A replica of the stack's Redis, with its users, in a /tmp folder."""

    def __init__(self, st, extra=""):
        self.st = st
        self.extra = extra
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="dukcapil-replica-", dir="/tmp")

    def start(self):
        with open(os.path.join(self.st.redis_dir, "redis.conf")) as f:
            conf = f.read()
        for key, value in (("port", str(self.port)),
                           ("pidfile", self.root + "/redis.pid"),
                           ("logfile", self.root + "/redis.log"),
                           ("dir", self.root)):
            conf = re.sub(r"(?m)^%s .*$" % key, "%s %s" % (key, value), conf)
        # user replicator of conf/redis-users.acl: what it grants is enough
        conf += ("replicaof 127.0.0.1 %d\nmasteruser replicator\n"
                 "masterauth %s\n%s"
                 % (self.st.redis_port, self.st.redis_password("replicator"),
                    self.extra))
        path = os.path.join(self.root, "redis.conf")
        with open(path, "w") as f:
            f.write(conf)
        subprocess.run([REDIS_SERVER, path], check=True, timeout=30)
        r = redis_client(self.st, self.port)
        wait_until(lambda: self._linked(r), 30, interval=0.1,
                   what="the replica in sync")
        r.close()

    @staticmethod
    def _linked(r):
        try:
            return r.info("replication").get("master_link_status") == "up"
        except Exception:
            return False

    def destroy(self):
        pid = read_pid(os.path.join(self.root, "redis.pid"))
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


class Sentinels:
    """Three redis-sentinel processes watching the stack's Redis as user
    sentinel of conf/redis-users.acl, with a password of their own
    (requirepass, sentinel-pass)."""

    PASSWORD = "sentinel-secret-of-the-tests"

    def __init__(self, st, n=3, replicas=1):
        self.st = st
        self.replicas = replicas
        self.ports = [free_port() for _ in range(n)]
        self.root = tempfile.mkdtemp(prefix="dukcapil-sentinel-", dir="/tmp")
        self.auth_file = os.path.join(self.root, "sentinel.auth")
        with open(self.auth_file, "w") as f:
            f.write(self.PASSWORD + "\n")
        os.chmod(self.auth_file, 0o600)

    def start(self):
        for port in self.ports:
            path = os.path.join(self.root, "sentinel-%d.conf" % port)
            with open(path, "w") as f:
                f.write("port %d\nbind 127.0.0.1\ndaemonize yes\n"
                        "pidfile %s/sentinel-%d.pid\n"
                        "logfile %s/sentinel-%d.log\ndir %s\n"
                        "requirepass %s\nsentinel sentinel-pass %s\n"
                        "sentinel monitor %s 127.0.0.1 %d 2\n"
                        "sentinel auth-user %s %s\n"
                        "sentinel auth-pass %s %s\n"
                        "sentinel down-after-milliseconds %s 1000\n"
                        "sentinel failover-timeout %s 4000\n"
                        "sentinel parallel-syncs %s 1\n"
                        % (port, self.root, port, self.root, port, self.root,
                           self.PASSWORD, self.PASSWORD,
                           MASTER, self.st.redis_port,
                           MASTER, "sentinel",
                           MASTER, self.st.redis_password("sentinel"),
                           MASTER, MASTER, MASTER))
            subprocess.run([SENTINEL, path], check=True, timeout=30)
        wait_until(self._all_know_each_other, 30, interval=0.2,
                   what="the Sentinels to find the replica and each other")

    def client(self, port):
        import redis
        return redis.Redis(host="127.0.0.1", port=port,
                           password=self.PASSWORD, decode_responses=True,
                           socket_timeout=2)

    def _all_know_each_other(self):
        try:
            for port in self.ports:
                s = self.client(port)
                try:
                    if (len(s.sentinel_slaves(MASTER)) < self.replicas
                            or len(s.sentinel_sentinels(MASTER))
                            < len(self.ports) - 1):
                        return False
                finally:
                    s.close()
            return True
        except Exception:
            return False

    def master_port(self):
        s = self.client(self.ports[0])
        try:
            return int(s.sentinel_get_master_addr_by_name(MASTER)[1])
        finally:
            s.close()

    def directive(self):
        return " ".join("127.0.0.1:%d" % p for p in self.ports) + " " + MASTER

    def destroy(self):
        for port in self.ports:
            pid = read_pid(os.path.join(self.root, "sentinel-%d.pid" % port))
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


def sentinel_yaml(st, addresses=None, auth_file=None):
    """The stack's scheduler.yaml with redis.sentinel in place of
    redis.address (unless addresses is None), the epoch checked every
    second."""
    with open(st.write_scheduler_yaml()) as f:
        yaml = f.read()
    redis = ('  address: "127.0.0.1:%d"\n' % st.redis_port
             if addresses is None else
             "  sentinel:\n    addresses: [%s]\n    master_name: %s\n"
             % (", ".join('"%s"' % a for a in addresses), MASTER))
    if auth_file:
        redis += '    auth_file: "%s"\n' % auth_file
    yaml = re.sub(r'(?m)^  address: .*\n', redis
                  + "  epoch_check_seconds: 1\n"
                  "  rebuild_settle_seconds: 1\n", yaml)
    path = os.path.join(st.root, "scheduler-sentinel.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    return path


def book_one(st, i, date, office="mpp"):
    r = http_for(st).post(BOOK, booking(i, date, office=office))
    return r.status, r.error


def error_log(st):
    with open(st.error_log, errors="replace") as f:
        return f.read()


# --- nginx -t ----------------------------------------------------------------

def test_nginx_t_checks_the_sentinel_directive(tmp_path):
    st = Stack(new_stack_dir("dukcapil-sentinel-conf-"))
    try:
        good = st.render_nginx_conf(
            redis_sentinel="127.0.0.1:26379 [::1]:26380 " + MASTER)
        rc, out, _ = st.nginx_test(good)
        assert rc == 0, out
        for line, says in (
                ("127.0.0.1:26379 127.0.0.1:26380",
                 "needs the master's name last"),
                ("localhost:26379 " + MASTER,
                 "needs an IP address, not a host name"),
                ("127.0.0.1:0 " + MASTER, "has an invalid port"),
                ("127.0.0.1 " + MASTER, 'needs "IP:port"')):
            text = good.replace("127.0.0.1:26379 [::1]:26380 " + MASTER, line)
            rc, out, _ = st.nginx_test(text)
            assert rc != 0 and says in out, (line, out)
        # one way to name Redis: the Sentinels, or an address
        both = good.replace("dukcapil_redis_sentinel",
                            "dukcapil_redis 127.0.0.1:6379;\n"
                            "    dukcapil_redis_sentinel", 1)
        rc, out, _ = st.nginx_test(both)
        assert rc != 0 and 'may not be used with "dukcapil_redis"' in out, out
        # the Sentinels' credentials: the same file rules as Redis's
        loose = tmp_path / "sentinel.auth"
        loose.write_text("secret\n")
        loose.chmod(0o644)
        rc, out, _ = st.nginx_test(good.replace(
            "dukcapil_redis_sentinel",
            "dukcapil_redis_sentinel_auth %s;\n    dukcapil_redis_sentinel"
            % loose, 1))
        assert rc != 0 and "dukcapil_redis_sentinel_auth" in out, out
    finally:
        st.destroy()


# --- the master killed --------------------------------------------------------

def test_bookings_resume_after_the_master_is_killed_and_never_over_book():
    st = Stack(new_stack_dir("dukcapil-sentinel-"), fast=False,
               persistence=False)
    replica = other = sentinels = bookings = daemon = None
    services = [("ktp", "KTP-el", KTP_QUOTA)] + SERVICES[1:]
    try:
        st.start_postgres()
        # as production (conf/redis.conf): min-replicas-to-write 1 and two
        # replicas, so that the promoted one keeps one (the other, which
        # the Sentinels make its replica) and takes writes
        st.start_redis()
        replica = Replica(st, MIN_REPLICAS)
        replica.start()
        other = Replica(st, MIN_REPLICAS)
        other.start()
        r = redis_client(st, st.redis_port)
        for line in MIN_REPLICAS.splitlines():
            r.config_set(*line.split())
        r.close()
        good_replicas(st)
        # a master's first replica starts a new history: the state is
        # marked complete on it, as the scheduler's rebuild would
        st.set_epoch()
        sentinels = Sentinels(st, replicas=2)
        sentinels.start()
        st.start_nginx(redis_sentinel=sentinels.directive(),
                       services=services,
                       extra_http="    dukcapil_redis_sentinel_auth %s;"
                       % sentinels.auth_file)
        yaml_path = sentinel_yaml(
            st, ["127.0.0.1:%d" % p for p in sentinels.ports],
            sentinels.auth_file)
        log = open(os.path.join(st.root, "scheduler-sentinel.log"), "ab")
        daemon = subprocess.Popen([SCHEDULER, "-c", yaml_path, "run"],
                                  stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, cwd=st.root,
                                  start_new_session=True)

        bookings = Bookings(st)
        bookings.start()
        wait_until(lambda: len(bookings.created()) >= 30, timeout=60,
                   interval=0.1, what="bookings on the first master")

        st.kill_redis()
        killed = time.monotonic()
        wait_until(lambda: bookings.created(since=killed + 0.001),
                   timeout=RESUME_WITHIN, interval=0.1,
                   what="a booking on the promoted replica")
        resumed = bookings.created(since=killed)[0][0] - killed
        # on until the days are full: the quota holds on the new master
        time.sleep(6)
        bookings.stopping.set()
        bookings.join(timeout=30)

        promoted = sentinels.master_port()
        assert promoted in (replica.port, other.port)
        statuses = {a[1] for a in bookings.answers}
        # while no master took writes: 503, never a 500 nor a hang
        assert statuses <= {201, 409, 503}, sorted(map(str, statuses))
        print("resumed %.1f s after the kill; %d of %d bookings answered "
              "201" % (resumed, len(bookings.created()),
                       len(bookings.answers)))
        assert resumed < RESUME_WITHIN

        # every day: Redis's admissions are its committed rows, never more
        # than the quota
        r = redis_client(st, promoted)
        try:
            assert r.get("dk:epoch") == replid(r)
            full = 0
            for office, date in set(bookings.targets):
                n = int(r.hget(day_key(office, date), "n:ktp") or 0)
                adm = {c for c, v in r.hgetall(
                    day_key(office, date, "adm")).items()
                    if v.split("|")[0] == "ktp"}
                committed = set(st.psql(
                    "SELECT code FROM appointment WHERE office = '%s' AND "
                    "date = '%s' AND service = 'ktp' AND status = 'booked'"
                    % (office, date)).split())
                assert n == len(adm) and adm == committed, (office, date)
                assert len(committed) <= KTP_QUOTA, (office, date)
                full += len(committed) == KTP_QUOTA
            assert full, "no day filled up: the quota was never tried"
        finally:
            r.close()
        told = {a[2] for a in bookings.created()}
        assert told <= set(st.psql("SELECT code FROM appointment").split())
    finally:
        if bookings is not None:
            bookings.stopping.set()
            bookings.join(timeout=30)
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=30)
        st.destroy()
        for part in (sentinels, replica, other):
            if part is not None:
                part.destroy()


# --- READONLY, and the history check ---------------------------------------

class FakeSentinel(threading.Thread):
    """Answers SENTINEL get-master-addr-by-name with the port it is told
    (and +OK to anything else): a Sentinel that names a server the test
    chooses, a replica included."""

    def __init__(self, master_port):
        super().__init__(daemon=True)
        self.master_port = master_port
        self.master_host = "127.0.0.1"
        self.asked = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()

    def serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line.startswith(b"*"):
                    return
                args = []
                for _ in range(int(line[1:])):
                    n = int(f.readline()[1:])
                    args.append(f.read(n + 2)[:-2].decode())
                if args[0].upper() == "SENTINEL":
                    self.asked += 1
                    host, port = self.master_host, str(self.master_port)
                    c.sendall(b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                              % (len(host), host.encode(), len(port),
                                 port.encode()))
                else:
                    c.sendall(b"+OK\r\n")
        except (OSError, ValueError):
            pass
        finally:
            c.close()

    def stop(self):
        self.sock.close()


def test_readonly_sends_the_module_back_to_the_sentinels_then_it_waits():
    """The master is made a replica by hand (REPLICAOF) and the replica
    promoted; the Sentinel names the new master.  The module's next write
    meets READONLY on its old connection: it asks the Sentinel again rather
    than failing forever, finds the new master of another history, answers
    503 state_rebuilding until the scheduler has rebuilt the days (dk:epoch
    = the new master_replid), then books again.  Under ASan when it is
    built (hiredis's contexts are freed inside their own callbacks)."""
    st = Stack(new_stack_dir("dukcapil-readonly-"), fast=False,
               persistence=False)
    replica = fake = asan_dir = None
    try:
        st.start_postgres()
        st.start_redis()
        replica = Replica(st)
        replica.start()
        # a master's first replica starts a new history: the state is
        # marked complete on it, as the scheduler's rebuild would
        st.set_epoch()
        fake = FakeSentinel(st.redis_port)
        fake.start()
        # a Sentinel that names the master by a host name: never resolved
        # (DNS would block the worker), nothing written
        fake.master_host = "localhost"
        module, env, asan_dir = asan_env(st)
        st.start_nginx(redis_sentinel="127.0.0.1:%d %s" % (fake.port, MASTER),
                       workers=1, module=module, env=env)
        date = first_open_date()
        wait_until(lambda: "a host name, not an address" in error_log(st),
                   10, interval=0.1, what="the host name refused")
        assert book_one(st, 1, date) == (503, "unavailable")
        fake.master_host = "127.0.0.1"
        wait_until(lambda: book_one(st, 1, date)[0] == 201, 15,
                   interval=0.2, what="a booking on the first master")
        asked = fake.asked

        # the failover, by hand: the replica promoted, the master demoted
        old = redis_client(st, st.redis_port)
        new = redis_client(st, replica.port)
        new.execute_command("REPLICAOF", "NO", "ONE")
        old.execute_command("REPLICAOF", "127.0.0.1", str(replica.port))
        fake.master_port = replica.port
        history = replid(new)
        assert new.get("dk:epoch") != history

        answers = []

        def rebuilding():
            answers.append(book_one(st, 100 + len(answers), date))
            return answers[-1] == (503, "state_rebuilding")

        wait_until(rebuilding, 20, interval=0.2,
                   what="the module on the promoted replica")
        assert fake.asked > asked
        # a write met READONLY, or the role asked every second said
        # "slave" first
        assert ("is a replica now (READONLY)" in error_log(st)
                or "is not a master: not used" in error_log(st))
        assert set(answers) <= {(503, "unavailable"),
                                (503, "state_rebuilding")}, answers
        # nothing was written to the demoted master
        assert old.info("replication")["role"] == "slave"

        # the scheduler finds the master through the Sentinel too, sees a
        # state of another history, and rebuilds it
        yaml_path = sentinel_yaml(st, ["127.0.0.1:%d" % fake.port])
        r = scheduler_once(yaml_path)
        assert r.returncode == 0, r.stderr
        assert new.get("dk:epoch") == history
        assert book_one(st, 200, date)[0] == 201
        # the first booking, made on the old master, was rebuilt
        assert int(new.hget(day_key("mpp", date), "n:ktp")) == 2
        old.close()
        new.close()
        if asan_dir:
            stop_nginx(st, asan_dir)
            findings = sanitizer_findings(asan_dir)
            assert not findings, "%d sanitizer findings:\n%s" % (
                len(findings), "\n".join(findings[:5])[:8000])
    finally:
        if fake is not None:
            fake.stop()
        st.destroy()
        if replica is not None:
            replica.destroy()


def test_the_daemon_rebuilds_a_state_of_another_history(tmp_path):
    """A plain Redis whose dk:epoch names another history (a restart's, a
    failover's): bookings wait (503 state_rebuilding) until the daemon's
    epoch check has rebuilt the days, then go on."""
    st = Stack(new_stack_dir("dukcapil-history-"), fast=False,
               persistence=False)
    daemon = None
    try:
        st.start_postgres()
        st.start_redis()
        st.start_nginx()
        date = first_open_date()
        assert book_one(st, 1, date)[0] == 201
        r = redis_client(st, st.redis_port)
        r.set("dk:epoch", "f" * 40)
        assert book_one(st, 2, date) == (503, "state_rebuilding")
        yaml_path = sentinel_yaml(st)
        log = open(os.path.join(st.root, "scheduler-sentinel.log"), "ab")
        daemon = subprocess.Popen([SCHEDULER, "-c", yaml_path, "run"],
                                  stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, cwd=st.root,
                                  start_new_session=True)
        wait_until(lambda: r.get("dk:epoch") == replid(r), 30, interval=0.2,
                   what="the daemon's rebuild")
        assert book_one(st, 3, date)[0] == 201
        assert int(r.hget(day_key("mpp", date), "n:ktp")) == 2
        r.close()
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=30)
        st.destroy()


# --- min-replicas-to-write, a stale Sentinel --------------------------------

def test_noreplicas_makes_bookings_503_until_a_replica_attaches():
    """A master with min-replicas-to-write 1 (conf/redis.conf) and no
    replica, as one cut off from the others is, refuses writes: bookings
    answer 503, never 500 nor a hang, and nothing is admitted.  Once a
    replica attaches (a new history: the state is marked complete on it,
    as the scheduler's rebuild would), the workers notice within their
    one-second INFO replication and book again."""
    st = Stack(new_stack_dir("dukcapil-noreplicas-"), fast=False,
               persistence=False)
    replica = None
    try:
        st.start_postgres()
        st.start_redis()
        st.set_epoch()
        r = redis_client(st, st.redis_port)
        r.config_set("min-replicas-to-write", "1")
        r.config_set("min-replicas-max-lag", "5")
        st.start_nginx()
        date = first_open_date()
        answers = [book_one(st, i, date) for i in range(1, 6)]
        assert {a[0] for a in answers} == {503}, answers
        assert "NOREPLICAS" in error_log(st)
        assert not r.hget(day_key("mpp", date), "n:ktp")
        assert st.psql("SELECT count(*) FROM appointment").strip() == "0"
        # the scheduler leaves it too (a cut-off old master's dk:epoch
        # would keep it from ever rebuilding the new one)
        done = scheduler_once(sentinel_yaml(st))
        assert done.returncode != 0
        assert "no replica in touch" in done.stdout + done.stderr, done

        replica = Replica(st)
        replica.start()
        good_replicas(st)
        st.set_epoch()
        answers = []

        def booked():
            answers.append(book_one(st, 10 + len(answers), date))
            return answers[-1][0] == 201

        wait_until(booked, 15, interval=0.2,
                   what="a booking once a replica attached")
        assert {a[0] for a in answers} <= {201, 503}, answers
        assert int(r.hget(day_key("mpp", date), "n:ktp")) == 1
        done = scheduler_once(sentinel_yaml(st))
        assert done.returncode == 0, done.stdout + done.stderr
        r.close()
    finally:
        st.destroy()
        if replica is not None:
            replica.destroy()


def test_a_stale_sentinel_naming_a_dead_master_is_passed_over():
    """Three Sentinels, fakes: while all name a dead address, the worker
    asks each in turn (a master that refuses the connection sends it to
    the next Sentinel, not to the same one again); once two name the real
    master and one still the dead address, bookings succeed, and the
    scheduler, asking the stale one first, connects through the next."""
    st = Stack(new_stack_dir("dukcapil-stale-sentinel-"), fast=False,
               persistence=False)
    fakes = []
    try:
        st.start_postgres()
        st.start_redis()
        st.set_epoch()
        dead = free_port()
        for _ in range(3):
            fake = FakeSentinel(dead)
            fake.start()
            fakes.append(fake)
        st.start_nginx(redis_sentinel=" ".join(
            "127.0.0.1:%d" % f.port for f in fakes) + " " + MASTER,
            workers=1)
        wait_until(lambda: all(f.asked for f in fakes), 20, interval=0.2,
                   what="each Sentinel asked in turn")
        date = first_open_date()
        for fake in fakes[1:]:
            fake.master_port = st.redis_port
        answers = []

        def booked():
            answers.append(book_one(st, 1 + len(answers), date))
            return answers[-1][0] == 201

        wait_until(booked, 15, interval=0.2,
                   what="a booking through a live Sentinel")
        assert {a[0] for a in answers} <= {201, 503}, answers
        for i in range(5):
            assert book_one(st, 100 + i, date)[0] == 201

        # the scheduler: the stale Sentinel first
        yaml_path = sentinel_yaml(st, ["127.0.0.1:%d" % f.port
                                       for f in fakes])
        r = scheduler_once(yaml_path)
        assert r.returncode == 0, r.stderr
    finally:
        for fake in fakes:
            fake.stop()
        st.destroy()
