"""End-to-end: --web.config.file (exporter-toolkit format) on the real binary.

A private PKI is made with the `openssl` CLI in a temp dir (a CA, a server
certificate for 127.0.0.1 / gve.test, client certificates from that CA and from
an untrusted one, an expired server certificate); bcrypt hashes come from
Debian's `htpasswd`. The exporter runs with an empty runsc root (no sandboxes:
it serves its own gvisor_exporter_* series) on loopback. Checked: a real
Prometheus scrapes it over TLS (ca_file, server_name) with basic_auth (up == 1,
gvisor_exporter_* series stored); wrong or missing credentials get 401 with
`WWW-Authenticate: Basic` and no metrics; /healthz needs no credentials; plain
HTTP to the TLS port gets no metrics; RequireAndVerifyClientCert refuses a
client without a certificate and one from an untrusted CA; an expired server
certificate is refused by curl; overwriting cert/key is served at the next
handshake without a restart; a bad web config stops the exporter at start with
a message naming the file and the problem. Every process is stopped by its PID.
"""
import os
import shutil
import ssl
import socket
import subprocess
import tempfile
import time

import pytest
import yaml

import operator_scrape
from gvisor_env import Prometheus, free_port, stop_process

PASSWORD = "e2e-s3cret"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def make_ca(d, name):
    openssl("req", "-x509", *EC, "-days", "2", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.crt", cwd=d)


def make_cert(d, name, ca, cn, san=None, client=False):
    """A key and a certificate signed by `ca` (serial random, so each differs)."""
    ext = os.path.join(d, f"{name}.ext")
    with open(ext, "w") as f:
        f.write(f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
        if san:
            f.write(f"subjectAltName={san}\n")
    openssl("req", *EC, "-subj", f"/CN={cn}", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2",
            "-extfile", ext, "-out", f"{name}.crt", cwd=d)


def make_expired_cert(d, name, ca):
    """A server certificate valid only in January 2020 (`openssl ca` can backdate)."""
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\n"
                "default_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n"
                "[p]\ncommonName=supplied\n")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    openssl("req", *EC, "-subj", "/CN=expired", "-addext",
            "subjectAltName=DNS:gve.test,IP:127.0.0.1", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", cwd=d)
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", f"{ca}.crt", "-keyfile", f"{ca}.key",
            "-in", f"{name}.csr", "-out", f"{name}.crt", "-notext", "-startdate", "20200101000000Z",
            "-enddate", "20200102000000Z", cwd=d)


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="gve-tls-e2e-")
    make_ca(d, "ca")
    make_ca(d, "otherca")
    san = "DNS:gve.test,IP:127.0.0.1"
    make_cert(d, "server", "ca", "gve-server-1", san)
    make_cert(d, "server2", "ca", "gve-server-2", san)
    make_cert(d, "client", "ca", "prometheus", client=True)
    make_cert(d, "badclient", "otherca", "intruder", client=True)
    make_expired_cert(d, "expired", "ca")
    r = subprocess.run(["htpasswd", "-nbBC", "10", "prometheus", PASSWORD], check=True,
                       capture_output=True, text=True)
    user, _, bcrypt_hash = r.stdout.strip().partition(":")
    assert user == "prometheus" and bcrypt_hash.startswith("$2y$10$"), r.stdout
    yield d, bcrypt_hash
    shutil.rmtree(d, ignore_errors=True)


class TlsExporter:
    """The exporter with a web config, on loopback, stopped by its PID."""

    def __init__(self, binary, d, name, config):
        self.dir = d
        self.port = free_port()
        self.config = os.path.join(d, f"{name}.yml")
        with open(self.config, "w") as f:
            yaml.safe_dump(config, f)
        self.root = tempfile.mkdtemp(prefix="gve-tls-root-", dir=d)
        self.log = open(os.path.join(d, f"{name}.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, f"--web.listen-address=127.0.0.1:{self.port}",
             f"--web.config.file={self.config}", f"--runsc.root={self.root}",
             "--runsc.root-parent=", "--cri.endpoint=", "--poll.interval=1s",
             f"--syscalls.record-file={d}/{name}-record.json"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def logs(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def wait_listening(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, "exporter exited: " + self.logs()
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise TimeoutError("exporter not listening: " + self.logs())

    def stop(self):
        stop_process(self.proc, timeout=15)
        self.log.close()


def curl(*args):
    """curl's (exit code, HTTP status, body, stderr)."""
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}",
                        *args], capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    return r.returncode, int(code or 0), body, r.stderr


@pytest.fixture(scope="module")
def tls_auth_exporter(exporter_bin, pki):
    d, bcrypt_hash = pki
    shutil.copy(os.path.join(d, "server.crt"), os.path.join(d, "live.crt"))
    shutil.copy(os.path.join(d, "server.key"), os.path.join(d, "live.key"))
    e = TlsExporter(exporter_bin, d, "tls-auth", {
        # Relative paths: relative to the web config's directory.
        "tls_server_config": {"cert_file": "live.crt", "key_file": "live.key"},
        "basic_auth_users": {"prometheus": bcrypt_hash},
        "http_server_config": {"headers": {"X-Frame-Options": "deny"}},
    })
    try:
        yield e.wait_listening()
    finally:
        e.stop()


def url(e, path):
    return f"https://gve.test:{e.port}{path}"


def tls_args(d, e):
    """curl trusting our CA, gve.test (the certificate's name) resolving to loopback."""
    return ["--cacert", os.path.join(d, "ca.crt"), "--resolve", f"gve.test:{e.port}:127.0.0.1"]


def scrape_until_up(job):
    """A real Prometheus running `job` until its target is up with the exporter's
    series stored: (the target's up labels, names of gvisor_exporter_* series)."""
    p = Prometheus(None, [], scrape_configs=[job])
    try:
        p.wait_ready()
        deadline = time.time() + 60
        up, names = [], set()
        while time.time() < deadline:
            up = p.query("up")
            names = {l["__name__"] for l, _ in p.query('count by (__name__) ({__name__=~"gvisor_exporter_.+"})')}
            if up and up[0][1] == 1 and len(names) >= 3:
                break
            time.sleep(0.5)
        assert up and up[0][1] == 1, (up, p.get("/api/v1/targets")["activeTargets"], p.logs())
        (target,) = p.get("/api/v1/targets")["activeTargets"]
        assert target["scrapeUrl"].startswith("https://"), target
        return up[0][0], names
    finally:
        p.stop()


def test_prometheus_scrapes_over_tls_with_basic_auth(tls_auth_exporter, pki):
    d, _ = pki
    e = tls_auth_exporter
    password_file = os.path.join(d, "prometheus-password")
    with open(password_file, "w") as f:
        f.write(PASSWORD)
    _, names = scrape_until_up({
        "job_name": "gvisor-exporter-tls", "scheme": "https", "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "tls_config": {"ca_file": os.path.join(d, "ca.crt"), "server_name": "gve.test"},
        "basic_auth": {"username": "prometheus", "password_file": password_file},
        "static_configs": [{"targets": [f"127.0.0.1:{e.port}"]}]})
    assert "gvisor_exporter_polls_total" in names, names


def test_shipped_tls_variant_is_scraped_as_the_operator_would(exporter_bin, pki):
    """deploy/kubernetes/tls end to end: the exporter runs with the shipped
    web-config.example.yml (only its bcrypt placeholder replaced and the Secret
    mount paths pointed at this test's files), and a real Prometheus runs the job
    prometheus-operator generates from the shipped TLS ServiceMonitor (https,
    tlsConfig ca + serverName, basicAuth from the Secrets docs/deploy.md creates,
    honorLabels, jobLabel, relabelings)."""
    d, bcrypt_hash = pki
    objects = operator_scrape.kustomize(operator_scrape.TLS_DIR)
    ep = operator_scrape.one(objects, "ServiceMonitor")["spec"]["endpoints"][0]
    server_name = ep["tlsConfig"]["serverName"]
    make_cert(d, "svc", "ca", "gvisor-exporter", f"DNS:{server_name}")
    with open(os.path.join(operator_scrape.TLS_DIR, "web-config.example.yml")) as f:
        web = yaml.safe_load(f)
    (user,) = web["basic_auth_users"]
    web["basic_auth_users"] = {user: bcrypt_hash}
    web["tls_server_config"]["cert_file"] = os.path.join(d, "svc.crt")
    web["tls_server_config"]["key_file"] = os.path.join(d, "svc.key")
    e = TlsExporter(exporter_bin, d, "shipped-tls", web)
    try:
        e.wait_listening()
        secrets = {(ep["tlsConfig"]["ca"]["secret"]["name"], ep["tlsConfig"]["ca"]["secret"]["key"]):
                   os.path.join(d, "ca.crt"),
                   (ep["basicAuth"]["username"]["name"], ep["basicAuth"]["username"]["key"]): user,
                   (ep["basicAuth"]["password"]["name"], ep["basicAuth"]["password"]["key"]): PASSWORD}
        job, _ = operator_scrape.monitor_job("ServiceMonitor", f"127.0.0.1:{e.port}",
                                             directory=operator_scrape.TLS_DIR, secrets=secrets)
        labels, names = scrape_until_up(job)
        assert "gvisor_exporter_polls_total" in names, names
        assert (labels["job"], labels["instance"], labels["namespace"], labels["endpoint"]) == (
            "gvisor-exporter", operator_scrape.NODE, "gvisor-exporter", "metrics"), labels
    finally:
        e.stop()


def test_wrong_or_missing_password_is_401_without_metrics(tls_auth_exporter, pki):
    d, _ = pki
    e = tls_auth_exporter
    for auth in (["-u", "prometheus:wrong"], ["-u", "nobody:" + PASSWORD], []):
        for path in ("/metrics", "/sandboxes?format=json", "/"):
            rc, code, body, err = curl(*tls_args(d, e), "-D", "-", *auth, url(e, path))
            assert rc == 0, err
            assert code == 401, (auth, path, body)
            assert "WWW-Authenticate: Basic" in body, body
            assert "gvisor_" not in body, body
    rc, code, body, err = curl(*tls_args(d, e), "-D", "-", "-u", f"prometheus:{PASSWORD}",
                               url(e, "/metrics"))
    assert (rc, code) == (0, 200), err
    assert "gvisor_exporter_polls_total" in body
    assert "X-Frame-Options: deny" in body  # headers from http_server_config


def test_healthz_needs_no_credentials(tls_auth_exporter, pki):
    d, _ = pki
    e = tls_auth_exporter
    rc, code, body, err = curl(*tls_args(d, e), url(e, "/healthz"))
    assert (rc, code) == (0, 200), (err, body)
    assert body.startswith("ok"), body


def test_plain_http_to_the_tls_port_gets_no_metrics(tls_auth_exporter):
    e = tls_auth_exporter
    rc, code, body, err = curl("-u", f"prometheus:{PASSWORD}",
                               f"http://127.0.0.1:{e.port}/metrics")
    assert rc != 0 or code != 200, (rc, code, body)
    assert "gvisor_" not in body
    assert e.proc.poll() is None


def served_subject(port):
    """The subject and serial of the certificate the server presents now."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="gve.test") as t:
            der = t.getpeercert(binary_form=True)
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-serial"],
                       input=der, capture_output=True, check=True)
    return r.stdout.decode()


def test_rotated_certificate_is_served_without_restart(tls_auth_exporter, pki):
    d, _ = pki
    e = tls_auth_exporter
    before = served_subject(e.port)
    assert "CN = gve-server-1" in before, before
    pid = e.proc.pid
    # Overwrite in place (same inodes; size or mtime change), as `cp` does.
    time.sleep(0.01)
    shutil.copyfile(os.path.join(d, "server2.crt"), os.path.join(d, "live.crt"))
    shutil.copyfile(os.path.join(d, "server2.key"), os.path.join(d, "live.key"))
    after = served_subject(e.port)
    assert "CN = gve-server-2" in after, after
    assert before.split("serial=")[1] != after.split("serial=")[1]
    assert e.proc.pid == pid and e.proc.poll() is None
    # The new certificate verifies with the CA and serves metrics.
    rc, code, body, err = curl(*tls_args(d, e), "-u", f"prometheus:{PASSWORD}", url(e, "/metrics"))
    assert (rc, code) == (0, 200), err
    assert "reloaded" in e.logs()


def test_client_certificates_required_and_verified(exporter_bin, pki):
    d, _ = pki
    e = TlsExporter(exporter_bin, d, "mtls", {"tls_server_config": {
        "cert_file": os.path.join(d, "server.crt"), "key_file": os.path.join(d, "server.key"),
        "client_auth_type": "RequireAndVerifyClientCert", "client_ca_file": "ca.crt"}})
    try:
        e.wait_listening()
        base = tls_args(d, e)
        rc, code, body, err = curl(*base, url(e, "/metrics"))
        assert rc != 0 and code == 0, (rc, code, body)  # no certificate: handshake refused
        assert "gvisor_" not in body
        rc, code, body, err = curl(*base, "--cert", os.path.join(d, "badclient.crt"), "--key",
                                   os.path.join(d, "badclient.key"), url(e, "/metrics"))
        assert rc != 0 and code == 0, (rc, code, body)  # untrusted CA: refused
        assert "gvisor_" not in body
        rc, code, body, err = curl(*base, "--cert", os.path.join(d, "client.crt"), "--key",
                                   os.path.join(d, "client.key"), url(e, "/metrics"))
        assert (rc, code) == (0, 200), err
        assert "gvisor_exporter_polls_total" in body
        assert e.proc.poll() is None
    finally:
        e.stop()


def test_expired_server_certificate_is_refused_by_the_client(exporter_bin, pki):
    d, _ = pki
    e = TlsExporter(exporter_bin, d, "expired", {"tls_server_config": {
        "cert_file": "expired.crt", "key_file": "expired.key"}})
    try:
        e.wait_listening()
        rc, code, body, err = curl(*tls_args(d, e), url(e, "/metrics"))
        assert rc == 60 and code == 0, (rc, code, err)
        assert "expired" in err, err
        assert "gvisor_" not in body
    finally:
        e.stop()


@pytest.mark.parametrize("name,config,message", [
    ("unknown-key", {"tls_server_config": {"cert_file": "server.crt", "key_file": "server.key",
                                           "certfile": "x"}},
     "unknown key tls_server_config.certfile"),
    ("no-key-file", {"tls_server_config": {"cert_file": "server.crt"}},
     "tls_server_config: missing key_file"),
    ("bad-bcrypt", {"basic_auth_users": {"prometheus": "plaintext-password"}},
     "basic_auth_users.prometheus: not a bcrypt hash"),
    ("unreadable-cert", {"tls_server_config": {"cert_file": "missing.crt",
                                               "key_file": "server.key"}},
     "cannot read cert_file"),
    ("wrong-key", {"tls_server_config": {"cert_file": "server.crt", "key_file": "client.key"}},
     "does not match the certificate"),
])
def test_bad_web_config_exits_at_start(exporter_bin, pki, name, config, message):
    d, _ = pki
    e = TlsExporter(exporter_bin, d, f"bad-{name}", config)
    try:
        rc = e.proc.wait(timeout=20)
        logs = e.logs()
        assert rc != 0, logs
        assert e.config in logs, logs  # the file is named
        assert message in logs, logs
        assert "plaintext-password" not in logs  # a secret never reaches the log
    finally:
        e.stop()


def test_tls_version_bounds(exporter_bin, pki):
    d, _ = pki
    e = TlsExporter(exporter_bin, d, "tls13", {"tls_server_config": {
        "cert_file": "server.crt", "key_file": "server.key", "min_version": "TLS13"}})
    try:
        e.wait_listening()
        rc, code, body, err = curl(*tls_args(d, e), "--tls-max", "1.2", url(e, "/healthz"))
        assert rc == 35 and code == 0, (rc, code, err)  # handshake refused below TLS 1.3
        rc, code, body, err = curl(*tls_args(d, e), "--tlsv1.3", url(e, "/healthz"))
        assert (rc, code) == (0, 200), err
    finally:
        e.stop()
