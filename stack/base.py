"""What the parts of the stack share: where things are, the error, waiting,
processes and ports, templates, and the folder with its stack.json."""

import json
import os
import random
import re
import secrets
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF_DEMO = os.path.join(REPO, "conf", "demo")

IS_ROOT = os.geteuid() == 0

# The users of Redis (conf/redis-users.acl): the module's and the
# scheduler's, and the one of the tests and an operator (every command).
REDIS_USER = "dukcapil"
REDIS_ADMIN = "admin"


class StackError(RuntimeError):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now, below the
    kernel's ephemeral range: a port of that range (where bind(0) picks
    too) may become the local end of any outgoing connection before our
    server binds it, as a Redis of the tests once found ("Address already
    in use")."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200 if low > 11024 else 0):
        port = random.randrange(10000, low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def child_pids(ppid):
    """Pids whose parent is ppid (from /proc)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid and fields[0] != "Z":
            pids.append(int(name))
    return sorted(pids)


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            raise StackError("timed out after %.1f s waiting for %s"
                             % (timeout, what))
        time.sleep(interval)


def run(cmd, what, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if r.returncode != 0:
        raise StackError("%s failed (exit %d): %s\n%s"
                         % (what, r.returncode, " ".join(cmd), r.stdout))
    return r.stdout


def environ(extra):
    """This process's environment with `extra` on top."""
    env = dict(os.environ)
    env.update(extra or {})
    return env


def render(template_name, values):
    """A template of conf/demo/ with every @@KEY@@ replaced."""
    with open(os.path.join(CONF_DEMO, template_name)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@@%s@@" % key, str(value))
    left = re.search(r"@@[A-Z_]+@@", text)
    if left:
        raise StackError("%s: placeholder left unrendered: %s"
                         % (template_name, left.group(0)))
    return text


def write_if_changed(path, text, mode=None):
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


class Folder:
    """The stack's folder and its stack.json: the ports and settings chosen
    on the first start, kept for the next. Every part builds on it."""

    def __init__(self, root, http_port=None, redis_port=None, pg_port=None,
                 ops_user="petugas", ops_password=None, quiet=True):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)
        self.state_path = os.path.join(self.root, "stack.json")
        self.state = self._load_state()
        self.quiet = quiet

        self._choose_port("http_port", http_port)
        self._choose_port("redis_port", redis_port)
        self._choose_port("pg_port", pg_port)
        self.state["ops_user"] = ops_user
        if ops_password:
            self.state["ops_password_wanted"] = ops_password
        self._save_state()

    def _load_state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _save_state(self):
        write_if_changed(self.state_path,
                         json.dumps(self.state, indent=2, sort_keys=True) + "\n",
                         0o600)

    def _choose_port(self, key, wanted):
        if wanted and self.state.get(key) not in (None, wanted):
            self.state.setdefault("port_changes", {})[key] = wanted
        elif key not in self.state:
            self.state[key] = wanted or free_port()

    def _apply_port_change(self, key, running):
        """A port asked for differs from the stored one: take it only when the
        server is not running (a running server keeps its port)."""
        wanted = self.state.get("port_changes", {}).pop(key, None)
        if wanted is None:
            return
        if running:
            self.say("note: %s stays %s while running (stop first to change)"
                     % (key, self.state[key]))
        else:
            self.state[key] = wanted
        self._save_state()

    def say(self, msg):
        if not self.quiet:
            print(msg, flush=True)

    @property
    def http_port(self):
        return self.state["http_port"]

    @property
    def redis_port(self):
        return self.state["redis_port"]

    @property
    def pg_port(self):
        return self.state["pg_port"]

    @property
    def nginx_url(self):
        return "http://127.0.0.1:%d" % self.http_port

    @property
    def pg_conninfo(self):
        return ("hostaddr=127.0.0.1 port=%d dbname=dukcapil user=dukcapil"
                % self.pg_port)

    @property
    def ops_user(self):
        return self.state["ops_user"]

    @property
    def ops_password(self):
        return self.state.get("ops_password")

    def redis_password(self, user=REDIS_USER):
        """The password of a user of this stack's Redis, made on first use
        and kept in stack.json (mode 0600)."""
        passwords = self.state.setdefault("redis_passwords", {})
        if user not in passwords:
            passwords[user] = secrets.token_hex(20)
            self._save_state()
        return passwords[user]

    def share_redis_credentials(self, other):
        """Use the Redis of stack `other` (its port is given apart): its
        users' passwords."""
        self.state["redis_passwords"] = dict(
            (u, other.redis_password(u)) for u in (REDIS_ADMIN, REDIS_USER))
        self._save_state()

    @property
    def redis_auth_file(self):
        """The module's and the scheduler's credentials, "dukcapil PASSWORD"
        in a file of mode 0600: what dukcapil_redis_auth and the scheduler's
        redis.auth_file read."""
        return self.write_redis_credentials()

    @property
    def token_secret_file(self):
        """The phone_token's secret (dukcapil_token_secret): 64 hex
        characters, kept in stack.json, in a file of mode 0600."""
        if not self.state.get("token_secret"):
            self.state["token_secret"] = secrets.token_hex(32)
            self._save_state()
        path = os.path.join(self.root, "token.secret")
        write_if_changed(path, self.state["token_secret"] + "\n", 0o600)
        os.chmod(path, 0o600)
        return path

    @property
    def token_secret(self):
        """The secret's bytes, as the module reads them."""
        with open(self.token_secret_file, "rb") as f:
            return f.read().rstrip(b"\r\n")

    def share_token_secret(self, other):
        """Accept the tokens of stack `other`'s nginx: its secret."""
        self.state["token_secret"] = other.state.get("token_secret") or \
            other.token_secret.decode()
        self._save_state()

    @property
    def redis_admin_password_file(self):
        """The admin's password alone (for redis-cli's REDISCLI_AUTH)."""
        return os.path.join(self.root, "redis-admin.password")

    def write_redis_credentials(self):
        """Writes (again, if changed) the clients' files of credentials, mode
        0600; returns the module's."""
        path = os.path.join(self.root, "redis-dukcapil.auth")
        write_if_changed(path, "%s %s\n" % (REDIS_USER, self.redis_password()),
                         0o600)
        os.chmod(path, 0o600)
        write_if_changed(self.redis_admin_password_file,
                         self.redis_password(REDIS_ADMIN) + "\n", 0o600)
        return path
