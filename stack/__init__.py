"""The local stack, in one folder: PostgreSQL, Redis, nginx with
ngx_dukcapil_module, and (when built) dukcapil-scheduler.

It serves both `make run` / `make stop` (folder var/) and the end-to-end
tests and benchmarks (a fresh folder under /tmp for each stack), so it lives
beside them rather than in either. Standard library + psycopg2 + redis.

    base.py       paths, StackError, wait_until, ports and processes, the
                  folder's stack.json (Folder)
    postgres.py   the cluster, its database and migrations
    redis.py      Redis and its first dk:epoch
    nginx.py      nginx with the module, the demo nginx.conf, the operator
    scheduler.py  the nightly daemon
    __main__.py   the command line: /usr/bin/python3 -m stack start DIR ...

Layout of DIR:
    stack.json        ports, paths and settings chosen on the first start
    pg/               PostgreSQL cluster (data/, postgresql.log) -- or, when
                      user postgres cannot enter DIR, /tmp/dukcapil-pg-XXXX
                      (path recorded in stack.json)
    redis/            redis.conf, users.acl (conf/redis-users.acl with this
                      stack's password hashes), AOF, redis.log
    redis-dukcapil.auth   "dukcapil PASSWORD" (mode 0600): the Redis
                      credentials of nginx's dukcapil_redis_auth and of the
                      scheduler's redis.auth_file
    redis-admin.password  the password of Redis user admin (mode 0600)
    nginx/            nginx.conf, error.log, access.log, temp folders
    ops.htpasswd      operator account (nginx auth_basic)
    ops-password      its password in clear (mode 0600), printed by make run
    scheduler.yaml    dukcapil-scheduler configuration; scheduler.log its log
    messages.jsonl    the citizens' messages the scheduler sends (file channel):
                      verification codes, confirmations, reminders
    outbox/           manifests written by the scheduler

Starting again starts only what is not running and changes nothing else.
"""

import os
import shutil
import time

from stack.base import (REDIS_ADMIN, REDIS_USER, REPO, StackError,
                        free_port, wait_until)
from stack.nginx import MODULE, OFFICES, SERVICES, NginxServer
from stack.postgres import PostgresServer
from stack.redis import RedisServer
from stack.scheduler import SCHEDULER, SchedulerDaemon

__all__ = ["Stack", "StackError", "wait_until", "free_port", "REPO",
           "MODULE", "SCHEDULER", "OFFICES", "SERVICES", "REDIS_USER",
           "REDIS_ADMIN"]


class Stack(PostgresServer, RedisServer, NginxServer, SchedulerDaemon):
    """One PostgreSQL + one Redis + one nginx (+ scheduler) in folder `root`.

    Ports not given are chosen free (binding port 0) on the first start and
    kept in root/stack.json, so that a later start uses the same ones.

    fast=True (tests): PostgreSQL without fsync; persistence=False: Redis
    without AOF/RDB (a restart then loses everything, like a lost Redis).
    """

    def __init__(self, root, http_port=None, redis_port=None, pg_port=None,
                 module=MODULE, ops_user="petugas", ops_password=None,
                 fast=False, persistence=True, workers=2, quiet=True):
        super().__init__(root, http_port=http_port, redis_port=redis_port,
                         pg_port=pg_port, ops_user=ops_user,
                         ops_password=ops_password, quiet=quiet)
        self.module = module
        self.fast = fast
        self.persistence = persistence
        self.workers = workers

    def start(self, nginx=True, scheduler=True, **nginx_kw):
        self.start_postgres()
        self.start_redis()
        self.write_scheduler_yaml()
        if nginx:
            self.start_nginx(**nginx_kw)
        if scheduler:
            self.start_scheduler()

    def stop(self):
        self.stop_scheduler()
        self.stop_nginx()
        self.stop_redis()
        self.stop_postgres()

    def destroy(self):
        """Stop everything and remove the stack's folders (tests)."""
        errors = []
        for step in (self.stop_scheduler, self.stop_nginx, self.stop_redis,
                     self.stop_postgres):
            try:
                step()
            except Exception as e:  # keep stopping the rest
                errors.append(e)
        for d in (self.state.get("pg_root"), self.state.get("pg_socket_dir")):
            if d and not d.startswith(self.root + "/"):
                shutil.rmtree(d, ignore_errors=True)
        for _ in range(3):      # a process that just exited may still write
            shutil.rmtree(self.root, ignore_errors=True)
            if not os.path.exists(self.root):
                break
            time.sleep(0.5)
        if errors:
            raise errors[0]

    def status(self):
        return {
            "postgres": self.postgres_pid(),
            "redis": self.redis_pid(),
            "nginx": self.nginx_pid(),
            "scheduler": self.scheduler_pid(),
        }

    def summary(self):
        logs = [("nginx", self.error_log),
                ("nginx access", self.access_log),
                ("redis", os.path.join(self.redis_dir, "redis.log")),
                ("postgres", self.pg_log if self.pg_root else "-"),
                ("scheduler", self.scheduler_log)]
        out = [
            "Portal:      %s/" % self.nginx_url,
            "Portal API:  %s/api/v1/services" % self.nginx_url,
            "Operators:   %s/petugas/   (the operator's account below)"
            % self.nginx_url,
            "Display:     %s/layar/?office=mpp   (the waiting room's TV)"
            % self.nginx_url,
            "Health:      %s/api/v1/health" % self.nginx_url,
            "Operator:    user %s, password %s   (%s/api/v1/ops/...)"
            % (self.ops_user, self.ops_password, self.nginx_url),
            "PostgreSQL:  psql \"%s\"" % self.pg_conninfo,
            "Redis:       REDISCLI_AUTH=\"$(cat %s)\" redis-cli -p %d "
            "--user %s" % (self.redis_admin_password_file, self.redis_port,
                           REDIS_ADMIN),
            "Scheduler:   %s" % self.scheduler_yaml,
            "Messages:    tail -f %s   (verification codes, confirmations:"
            " WhatsApp/SMS go here)" % self.messages_file,
            "Logs:",
        ] + ["  %-13s %s" % l for l in logs]
        return "\n".join(out)
