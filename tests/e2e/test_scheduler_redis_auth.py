"""Issue 11, finding 5: dukcapil-scheduler gives Redis its credentials.

redis.auth_file names the same file format as nginx's dukcapil_redis_auth
("user password", mode 0600 or 0640), read with the configuration; AUTH is
the first command of every connection. A password Redis refuses is a clear
logged error, never the password itself.
"""

import os
import re
import secrets

import pytest

from scheduler_fixtures import (  # noqa: F401
    REPO, sched, sched_stack, wait_until)


def write_secret(sched, name, text, mode=0o600):
    path = os.path.join(sched.st.root, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def acl_password(sched, rule):
    r = sched.st.redis()
    try:
        assert r.execute_command("ACL", "SETUSER", "dukcapil", rule)
    finally:
        r.close()


def test_with_its_password_the_scheduler_reconciles_as_user_dukcapil(sched):
    """A full rebuild (dk:epoch missing) runs every command reconcile sends:
    SCAN, UNLINK, SET, the scripts; all granted to user dukcapil."""
    redis = sched.redis()
    redis.delete("dk:epoch")
    cfg = sched.config()

    r = sched.run("once", "reconcile", config=cfg)

    assert r.returncode == 0, r.stderr
    assert sched.runs()[-1]["outcome"] == "ok"
    assert redis.exists("dk:epoch") == 1
    redis.close()
    assert sched.run("check-config", cfg).returncode == 0


def test_a_refused_password_fails_once_clearly_and_the_daemon_recovers(
        sched):
    wrong = "wrong-" + secrets.token_hex(8)
    auth = write_secret(sched, "wrong.auth", "dukcapil %s\n" % wrong)
    cfg = sched.config(redis__auth_file=auth, jobs__reconcile__at="00:00")

    # `once` exits 69 (unavailable) naming the user and Redis's reason
    r = sched.run("once", "reconcile", config=cfg)
    assert r.returncode == 69, (r.returncode, r.stderr)
    assert "level=error event=redis_auth_failed" in r.stderr, r.stderr
    assert "authentication as 'dukcapil' failed: WRONGPASS" in r.stderr
    assert wrong not in r.stdout + r.stderr

    # the daemon logs it, keeps trying, and once Redis takes the password
    # it connects and runs the reconcile it missed
    d = sched.start("run", config=cfg)
    try:
        sched.wait_log(d, "event=redis_auth_failed")
        acl_password(sched, ">" + wrong)
        sched.wait_log(d, "event=connected to=redis", timeout=15)
        sched.wait_log(d, "run_end job=reconcile", timeout=30)
    finally:
        acl_password(sched, "<" + wrong)
        assert sched.stop(d) == 0
    log = sched.log_of(d)
    assert wrong not in log and sched.st.redis_password() not in log
    assert "outcome=ok" in log.split("run_end job=reconcile", 1)[1]


@pytest.mark.parametrize("content, mode, reason", [
    (None, None, "cannot be read: No such file or directory"),
    ("dukcapil s3cret-XYZ\n", 0o644,
     "is open to other users (mode & 007): chmod o-rwx"),
    ("", 0o600, "is empty"),
    ("dukcapil\ns3cret-XYZ\n", 0o600, "has more than one line"),
])
def test_a_credentials_file_it_cannot_use_is_a_configuration_error(
        sched, content, mode, reason):
    auth = os.path.join(sched.st.root, "bad.auth")
    if os.path.exists(auth):
        os.unlink(auth)
    if content is not None:
        write_secret(sched, "bad.auth", content, mode)
    cfg = sched.config(redis__auth_file=auth)

    r = sched.run("check-config", cfg)

    assert r.returncode == 1, r.stdout + r.stderr
    assert "%s:" % cfg in r.stderr and "redis.auth_file: file '%s' %s" % (
        auth, reason) in r.stderr, r.stderr
    assert "s3cret-XYZ" not in r.stdout + r.stderr
    # run refuses to start on it too
    assert sched.run("once", "reconcile", config=cfg).returncode == 1


def test_the_production_example_passes_check_config(sched):
    """conf/scheduler.yaml as shipped, its credentials file put aside."""
    auth = write_secret(sched, "redis.auth", "dukcapil s3cret-XYZ\n", 0o640)
    with open(os.path.join(REPO, "conf", "scheduler.yaml")) as f:
        text, n = re.subn(r"auth_file: /etc/dukcapil/redis.auth",
                          "auth_file: %s" % auth, f.read())
    assert n == 1, "conf/scheduler.yaml no longer has its auth_file"
    # and the gateway's token beside it (notification.http.token_file)
    token = write_secret(sched, "gateway.token", "t0ken-XYZ\n", 0o640)
    text, n = re.subn(r"token_file: /etc/dukcapil/gateway.token",
                      "token_file: %s" % token, text)
    assert n == 1, "conf/scheduler.yaml no longer has its token_file"
    cfg = os.path.join(sched.st.root, "production.yaml")
    with open(cfg, "w") as f:
        f.write(text)

    r = sched.run("check-config", cfg)

    assert r.returncode == 0, r.stderr
