"""The stack's Redis: redis.conf from conf/demo/, its ACL users from the
production example conf/redis-users.acl with passwords of the stack's own,
dk:epoch on the very first start, and the test tools (freeze, thaw, kill,
reset)."""

import hashlib
import os
import signal
import time

from stack.base import (REDIS_ADMIN, REPO, Folder, StackError, pid_alive,
                        read_pid, render, run, wait_until, write_if_changed)

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_USERS_ACL = os.path.join(REPO, "conf", "redis-users.acl")
HASH_PLACEHOLDER = "#SHA256_OF_THE_PASSWORD"


def master_replid(r):
    """The history a Redis's data set belongs to (INFO replication): what
    dk:epoch names, and what a failover or a restart changes."""
    return r.info("replication")["master_replid"]


class RedisServer(Folder):
    """fast=True (tests): DEBUG allowed (tests make Redis slow on purpose);
    persistence=False: no AOF/RDB (a restart then loses everything, like a
    lost Redis)."""

    fast = False
    persistence = True

    @property
    def redis_dir(self):
        return os.path.join(self.root, "redis")

    def redis_pid(self):
        pid = read_pid(os.path.join(self.redis_dir, "redis.pid"))
        return pid if pid_alive(pid) else None

    def redis_running(self):
        return self.redis_pid() is not None

    def redis(self, **kw):
        """A redis-py client of this stack's Redis, as its admin user (every
        command, every key)."""
        import redis
        kw.setdefault("username", REDIS_ADMIN)
        kw.setdefault("password", self.redis_password(REDIS_ADMIN))
        return redis.Redis(host="127.0.0.1", port=self.redis_port, **kw)

    # --- its users (their passwords: base.Folder) ---

    def redis_users_acl(self):
        """conf/redis-users.acl, each user's placeholder hash replaced with
        the SHA-256 of its password here."""
        lines = []
        with open(REDIS_USERS_ACL) as f:
            for line in f.read().splitlines():
                words = line.split()
                if HASH_PLACEHOLDER in words:
                    digest = hashlib.sha256(self.redis_password(
                        words[1]).encode()).hexdigest()
                    line = line.replace(HASH_PLACEHOLDER, "#" + digest)
                lines.append(line)
        return "\n".join(lines) + "\n"

    def start_redis(self, set_epoch=True):
        """Start Redis if not running. On the very first start of this Redis
        (an empty data set: nothing to rebuild) set dk:epoch to now."""
        running = self.redis_running()
        self._apply_port_change("redis_port", running)
        if running:
            return
        os.makedirs(self.redis_dir, exist_ok=True)
        acl = os.path.join(self.redis_dir, "users.acl")
        write_if_changed(acl, self.redis_users_acl(), 0o600)
        self.write_redis_credentials()
        conf = render("redis.conf.in", {
            "REDIS_PORT": self.redis_port,
            "REDIS_DIR": self.redis_dir,
            "ACL_FILE": acl,
            "APPENDONLY": "yes" if self.persistence else "no",
            "SAVE": '""',
            # tests make Redis slow on purpose (DEBUG SLEEP); make run: no
            "DEBUG_COMMAND": "local" if self.fast else "no",
        })
        conf_path = os.path.join(self.redis_dir, "redis.conf")
        write_if_changed(conf_path, conf)
        self.say("redis: start on 127.0.0.1:%d" % self.redis_port)
        run([REDIS_SERVER, conf_path], "redis-server")
        r = self.redis()
        try:
            wait_until(lambda: self._redis_ready(r), 30, what="redis to load")
            fresh_marker = os.path.join(self.redis_dir, "initialized")
            if not os.path.exists(fresh_marker):
                if set_epoch and r.dbsize() == 0:
                    self.set_epoch(r)
                with open(fresh_marker, "w") as f:
                    f.write("dk:epoch set on the first start of this Redis\n")
        finally:
            r.close()

    @staticmethod
    def _redis_ready(r):
        import redis
        try:
            return r.ping()
        except redis.AuthenticationError as e:
            raise StackError("redis refuses the stack's admin user (%s): a "
                             "Redis started before the stack had users? Stop "
                             "it, then start again" % e)
        except (redis.ConnectionError, redis.BusyLoadingError):
            return False

    def set_epoch(self, r=None):
        """Mark Redis as holding a complete state (what a rebuild does):
        dk:epoch = the master's history, its master_replid."""
        close = r is None
        r = r or self.redis()
        try:
            r.set("dk:epoch", master_replid(r))
        finally:
            if close:
                r.close()

    def stop_redis(self):
        pid = self.redis_pid()
        if not pid:
            return
        self.thaw_redis()
        self.say("redis: shutdown")
        r = self.redis()
        import redis
        try:
            r.shutdown(nosave=not self.persistence)
        except redis.AuthenticationError:
            # a Redis started before the stack had users: SIGTERM is a
            # shutdown too (it writes the AOF)
            os.kill(pid, signal.SIGTERM)
        except redis.ConnectionError:
            pass
        finally:
            r.close()
        wait_until(lambda: not pid_alive(pid), 30, what="redis to exit")

    def kill_redis(self):
        """SIGKILL: what the AOF must survive."""
        pid = self.redis_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 10, what="redis to die")

    def freeze_redis(self):
        """SIGSTOP Redis: commands hang (a Redis that is 'too slow')."""
        pid = self.redis_pid()
        if pid:
            os.kill(pid, signal.SIGSTOP)

    def thaw_redis(self):
        pid = self.redis_pid()
        if pid:
            os.kill(pid, signal.SIGCONT)

    def restart_redis(self):
        """A restart begins a new history (master_replid): a state that
        was complete (dk:epoch) is marked complete again, as the
        scheduler's rebuild would after the restart (the stack runs none;
        the AOF kept every admission)."""
        self.stop_redis()
        self.start_redis()
        self.restamp_epoch()

    def restamp_epoch(self):
        """dk:epoch, if present, set to the current history."""
        r = self.redis()
        try:
            if r.exists("dk:epoch"):
                self.set_epoch(r)
        finally:
            r.close()

    def command_calls(self, command):
        """How many times Redis has run `command` (INFO commandstats)."""
        r = self.redis()
        try:
            stats = r.info("commandstats")
        finally:
            r.close()
        return stats.get("cmdstat_" + command.lower(), {}).get("calls", 0)

    def reset_redis(self):
        """FLUSHALL, then dk:epoch = now (a fresh, complete, empty state)."""
        r = self.redis()
        try:
            r.flushall()
            self.set_epoch(r)
        finally:
            r.close()
