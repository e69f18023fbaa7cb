"""Fixtures of the end-to-end tests: real PostgreSQL, Redis and nginx with
ngx_dukcapil_module, started by the stack package (stack/) in fresh folders under /tmp
(never the `make run` instance in var/).

    stack       the session's stack (one PostgreSQL + Redis + nginx), restarted
                if a test left a server down, data reset before each test
    http        an Http client of that stack (helpers.py); http.ops is
                the operator's
    make_stack  factory for a test that needs its own stack (to stop,
                restart, freeze servers or run nginx under ASan/faketime)
    clean_log   asserts after the test that nginx logged no [alert], [crit]
                or [emerg] during it

Keep DUKCAPIL_KEEP_STACKS=1 in the environment to keep the folders.
"""

import os
import sys
import tempfile

import pytest

# the repository's root: the stack package (stack/)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

import stack as stackmod  # noqa: E402
from stack import Stack, StackError, wait_until  # noqa: E402,F401

# the http fixture is a helpers.Http; its answers are helpers.Response
# (.status, .headers, .body, .json(), .error, .field)
from helpers import http_for  # noqa: E402
# the portal's browser and its nginx, shared by tests/e2e/test_portal_*.py
from portal_helpers import browser, portal  # noqa: E402,F401

REPO = stackmod.REPO
KEEP = os.environ.get("DUKCAPIL_KEEP_STACKS") == "1"
SEVERE = ("[alert]", "[crit]", "[emerg]")


# --- error.log ------------------------------------------------------------

def severe_lines(st, since=0):
    return [l for l in st.error_log_lines(since) if any(s in l for s in SEVERE)]


def assert_no_alerts(st, since=0):
    """No [alert]/[crit]/[emerg] in nginx's error.log from offset `since`."""
    bad = severe_lines(st, since)
    assert not bad, "nginx error.log:\n" + "".join(bad[:20])


def assert_no_crashes(st, since=0):
    """No worker died on a signal (segfault, abort)."""
    bad = [l for l in st.error_log_lines(since) if "exited on signal" in l]
    assert not bad, "nginx error.log:\n" + "".join(bad[:20])


# --- data reset -------------------------------------------------------------

def data_tables(st):
    """Tables that the migrations leave empty: what tests write into. Tables
    the migrations fill (offices, services, kecamatan ...) are reference data
    and are kept."""
    names = st.psql("SELECT quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = 'public' "
                    "AND tablename <> 'schema_migration' ORDER BY 1").split()
    if not names:
        return []
    counts = st.psql(" UNION ALL ".join(
        "SELECT '%s', (SELECT count(*) FROM %s)" % (n, n) for n in names))
    return [line.split("|")[0] for line in counts.split()
            if line.split("|")[1] == "0"]


def reset_data(st, tables):
    if tables:
        st.psql("TRUNCATE %s RESTART IDENTITY CASCADE" % ", ".join(tables))
    st.reset_redis()


def new_stack_dir(prefix="dukcapil-e2e-"):
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def ensure_running(st):
    """Start whatever a previous test left stopped or frozen."""
    st.thaw_postgres()
    st.thaw_redis()
    if not st.postgres_running():
        st.start_postgres(migrate=False)
    if not st.redis_running():
        st.start_redis()
    if not st.nginx_running():
        st.start_nginx()


# --- fixtures ---------------------------------------------------------------

@pytest.fixture(scope="session")
def session_stack():
    st = Stack(new_stack_dir(), fast=True, persistence=False)
    try:
        st.start(scheduler=False)
        st.data_tables = data_tables(st)
        yield st
    finally:
        if KEEP:
            st.stop()
            print("\nkept stack in %s" % st.root)
        else:
            st.destroy()


@pytest.fixture
def stack(session_stack):
    """The session's stack, all servers up, data reset (TRUNCATE of the data
    tables, FLUSHALL, dk:epoch = now)."""
    ensure_running(session_stack)
    reset_data(session_stack, session_stack.data_tables)
    return session_stack


@pytest.fixture
def http(stack):
    return http_for(stack)


@pytest.fixture
def clean_log(stack):
    """Asserts, after the test, no [alert]/[crit]/[emerg] and no crashed
    worker in the session stack's error.log during the test."""
    mark = stack.error_log_size()
    yield mark
    assert_no_alerts(stack, mark)
    assert_no_crashes(stack, mark)


@pytest.fixture
def make_stack():
    """make_stack(start=True, nginx=True, stack_kw..., nginx_kw...) -> Stack

    A stack of the test's own, in a fresh /tmp folder, destroyed after the
    test. Stack keywords: module, fast (default True), persistence (default
    False), workers. Other keywords go to start_nginx (extra_http,
    extra_server, env, wrapper, services, ...)."""
    made = []

    def factory(start=True, nginx=True, **kw):
        stack_kw = {k: kw.pop(k) for k in ("module", "fast", "persistence",
                                           "workers", "http_port",
                                           "redis_port", "pg_port")
                    if k in kw}
        stack_kw.setdefault("fast", True)
        stack_kw.setdefault("persistence", False)
        st = Stack(new_stack_dir(), **stack_kw)
        made.append(st)
        if start:
            st.start_postgres()
            st.start_redis()
            if nginx:
                st.start_nginx(**kw)
        return st

    yield factory
    for st in made:
        if KEEP:
            st.stop()
            print("\nkept stack in %s" % st.root)
        else:
            st.destroy()
