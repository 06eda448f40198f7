#!/usr/bin/env python3
"""A stand-in Kubernetes API server for tests: HTTPS on 127.0.0.1 with a CA
and server certificate made at start with `openssl` (into --dir), serving
GET /apis/node.k8s.io/v1/runtimeclasses.

Behaviour is read from --dir/mode at every connection, so a test switches it
by rewriting that file: ok (the --body file, after checking the bearer token
against --token-file), 401, 403, 500, hang (accepts, never answers), garbage,
big (an endless body), redirect, wrong-ca (a certificate from another CA).
Writes the chosen port to --dir/port when ready; each request's path and
Authorization header are appended to --dir/requests.log.

Used by the kube module's client unit test and tests/e2e/test_kube_api_e2e.py.
"""
import argparse
import http.server
import os
import socketserver
import ssl
import subprocess
import threading
import time

PATH = "/apis/node.k8s.io/v1/runtimeclasses"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_pki(d):
    """ca.crt + server.{crt,key} (SAN 127.0.0.1, localhost), and the same from other-ca."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-subj",
                f"/CN=gve-test-{ca}", "-days", "2", cwd=d)
        srv = "server" if ca == "ca" else "other-server"
        openssl("req", *ec, "-keyout", f"{srv}.key", "-out", f"{srv}.csr", "-subj",
                "/CN=127.0.0.1", cwd=d)
        openssl("x509", "-req", "-in", f"{srv}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{srv}.crt", "-days", "2", "-extfile", "san.ext",
                cwd=d)


def context(d, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key"))
    return ctx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--body", required=True)
    p.add_argument("--token-file", required=True)
    a = p.parse_args()
    d = a.dir
    make_pki(d)
    good, wrong = context(d, "server"), context(d, "other-server")
    stop = threading.Event()

    def mode():
        try:
            with open(os.path.join(d, "mode")) as f:
                return f.read().strip() or "ok"
        except FileNotFoundError:
            return "ok"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, code, body, ctype="application/json"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            m = mode()
            auth = self.headers.get("Authorization", "")
            with open(os.path.join(d, "requests.log"), "a") as f:
                f.write(f"{m} {self.path} {auth}\n")
            with open(a.token_file) as f:
                want = "Bearer " + f.read().strip()
            status = {"401": (401, "Unauthorized"), "403": (403, "Forbidden"),
                      "500": (500, "InternalError")}
            if m == "hang":
                stop.wait(120)
                return
            if m == "garbage":
                return self.reply(200, b"<html>\x00\xff not json {{{", "text/html")
            if m == "big":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b" " * 65536
                try:
                    for _ in range(2048):  # 128 MiB, far over any cap
                        self.wfile.write(chunk)
                except OSError:
                    pass
                return
            if m == "redirect":
                self.send_response(302)
                self.send_header("Location", "https://127.0.0.1:1/steal-the-token")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if m in status or auth != want or self.path != PATH:
                code, reason = status.get(m, (401, "Unauthorized") if auth != want
                                          else (404, "NotFound"))
                body = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                        f'"message":"{reason}","reason":"{reason}","code":{code}}}')
                return self.reply(code, body.encode())
            with open(a.body, "rb") as f:
                self.reply(200, f.read())

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

        def get_request(self):
            # The certificate is chosen per connection, so "wrong-ca" takes
            # effect at once; the handshake runs in the handler's thread.
            sock, addr = self.socket.accept()
            ctx = wrong if mode() == "wrong-ca" else good
            return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

        def handle_error(self, request, client_address):
            pass  # failed handshakes (wrong-ca) and resets are expected

    srv = Server(("127.0.0.1", 0), Handler)
    tmp = os.path.join(d, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, os.path.join(d, "port"))
    try:
        srv.serve_forever()
    finally:
        stop.set()


if __name__ == "__main__":
    main()
