"""The production example conf/nginx.conf is a configuration nginx accepts.

It is checked with `nginx -t` as shipped, with only what cannot exist on a
test machine put aside: the certificate (TLS is swapped for a plain listen on
loopback), the system paths (pid, logs, the module) and the `www-data` user.
"""

import os
import re
import shutil
import subprocess

import pytest

from stack import REPO, free_port

CONF = os.path.join(REPO, "conf")
MODULE = os.path.join(REPO, "build", "ngx_http_dukcapil_module.so")


def production_conf_for_test(dirname):
    text = open(os.path.join(CONF, "nginx.conf")).read()
    swaps = [
        (r"load_module \S+;", "load_module %s;" % MODULE),
        (r"\nuser www-data;", "\n"),
        (r"pid /run/nginx.pid;", "pid %s/nginx.pid;" % dirname),
        (r"/var/log/nginx/", dirname + "/"),
        (r"listen 443 ssl http2;", "listen 127.0.0.1:%d;" % free_port()),
        (r"\n\s*ssl_certificate(_key)? [^;]+;", "\n"),
    ]
    for pattern, replacement in swaps:
        text, n = re.subn(pattern, replacement, text)
        assert n >= 1, "conf/nginx.conf no longer has %r" % pattern
    return text


@pytest.mark.skipif(not os.path.exists(MODULE), reason="module not built")
def test_production_example_passes_nginx_t(tmp_path):
    d = str(tmp_path)
    for name in ("dukcapil-api.conf", "dukcapil-ops-access.conf"):
        shutil.copy(os.path.join(CONF, name), d)
    open(os.path.join(d, "dukcapil-ops.htpasswd"), "w").close()
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(production_conf_for_test(d))

    r = subprocess.run(["nginx", "-t", "-p", d + "/", "-c", path, "-e",
                        os.path.join(d, "error.log")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)

    assert r.returncode == 0, r.stdout
    assert "test is successful" in r.stdout


def test_access_log_format_leaves_out_citizens_numbers():
    text = open(os.path.join(CONF, "nginx.conf")).read()
    fmt = re.search(r"log_format portal (.*?);", text, re.S).group(1)

    # the query string and the headers could carry them: neither is logged
    assert "$request " not in fmt and "$request_uri" not in fmt
    assert "$args" not in fmt and "$http_x_nik" not in fmt
    assert "$request_body" not in fmt
