"""The command line of the local stack (make run / make stop), from the
repository's root:

    /usr/bin/python3 -m stack start DIR [--http-port N] [--redis-port N]
                                        [--pg-port N] [--ops-user U]
                                        [--ops-password P] [--no-module]
                                        [--no-scheduler] [--workers N]
    /usr/bin/python3 -m stack stop DIR
    /usr/bin/python3 -m stack status DIR
"""

import argparse
import os
import signal
import sys

from stack import MODULE, SCHEDULER, Stack, StackError


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    p = argparse.ArgumentParser(prog="python3 -m stack",
                                description="local Disdukcapil stack")
    p.add_argument("command", choices=["start", "stop", "status"])
    p.add_argument("dir")
    p.add_argument("--http-port", type=int)
    p.add_argument("--redis-port", type=int)
    p.add_argument("--pg-port", type=int)
    p.add_argument("--ops-user", default=None)
    p.add_argument("--ops-password", default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--module", default=MODULE,
                   help="the module .so to load (default: %(default)s)")
    p.add_argument("--no-module", action="store_true",
                   help="plain nginx without the module (smoke test)")
    p.add_argument("--no-scheduler", action="store_true")
    a = p.parse_args(argv)

    if a.command != "start" and not os.path.exists(
            os.path.join(a.dir, "stack.json")):
        print("no stack in %s" % a.dir)
        return 0 if a.command == "stop" else 3

    st = Stack(a.dir, http_port=a.http_port, redis_port=a.redis_port,
               pg_port=a.pg_port, ops_user=a.ops_user or "petugas",
               ops_password=a.ops_password
               or os.environ.get("DUKCAPIL_OPS_PASSWORD") or None,
               module=None if a.no_module else os.path.abspath(a.module),
               workers=a.workers, quiet=False)
    try:
        if a.command == "start":
            # the demo is the portal as citizens meet it: a verified phone
            st.start(scheduler=not a.no_scheduler, phone_verification=True,
                     phone_active_cap=3)
            if not a.no_scheduler and not st.scheduler_pid():
                print("scheduler: %s not built; not started" % SCHEDULER)
            print()
            print(st.summary())
        elif a.command == "stop":
            st.stop()
            print("stopped (data kept in %s)" % st.root)
        else:
            down = 0
            for name, pid in st.status().items():
                print("%-10s %s" % (name, "running, pid %d" % pid if pid
                                    else "stopped"))
                down += pid is None and name != "scheduler"
            return 0 if down == 0 else 3
    except StackError as e:
        print("stack: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
