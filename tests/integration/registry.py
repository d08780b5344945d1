"""Fixtures for the image tests: a real docker-registry on 127.0.0.1 behind TLS from a CA made
here with openssl (optionally with htpasswd basic auth or token auth), a hostile registry that
serves whatever a test wants, and helpers to build images. Every process started here is killed
by its PID; every directory is removed."""
import base64
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time

import pytest

BUILD = os.environ.get("MOAT_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
MOAT = os.path.join(BUILD, "src", "cli", "moat")
BUILTIN_DIR = os.path.join(BUILD, "data")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d):
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=moat-test-ca", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)


class Registry:
    """docker-registry serving on 127.0.0.1:port with TLS (and optional auth)."""

    def __init__(self, tmp, auth=None, tls=True, client_ca=False):
        self.dir = tmp
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        make_ca(tmp)
        self.certs_dir = os.path.join(tmp, "certs.d")
        os.makedirs(os.path.join(self.certs_dir, self.host))
        shutil.copy(os.path.join(tmp, "ca.crt"), os.path.join(self.certs_dir, self.host, "ca.crt"))
        # skopeo's --dest-cert-dir wants *.crt for CAs too
        self.skopeo_certs = os.path.join(self.certs_dir, self.host)
        self.user, self.password = "tester", "s3cret-pass"
        cfg = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(tmp, "storage")}, "delete": {"enabled": True}},
            "http": {"addr": self.host, "tls": {"certificate": os.path.join(tmp, "server.crt"),
                                                "key": os.path.join(tmp, "server.key")}},
        }
        if not tls:
            del cfg["http"]["tls"]
        if client_ca:
            # mutual TLS: clients need a certificate from our CA
            cfg["http"]["tls"]["clientcas"] = [os.path.join(tmp, "ca.crt")]
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
                    "-subj", "/CN=moat-client", cwd=tmp)
            with open(os.path.join(tmp, "client.cnf"), "w") as f:
                f.write("extendedKeyUsage=clientAuth\n")
            openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "client.cert", "-days", "2", "-extfile", "client.cnf", cwd=tmp)
        if auth == "basic":
            import crypt
            with open(os.path.join(tmp, "htpasswd"), "w") as f:
                f.write(f"{self.user}:{crypt.crypt(self.password, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n")
            cfg["auth"] = {"htpasswd": {"realm": "moat-test", "path": os.path.join(tmp, "htpasswd")}}
        elif auth == "token":
            self.token_server = TokenServer(tmp, self.user, self.password)
            cfg["auth"] = {"token": {"realm": self.token_server.url, "service": "moat-test-registry",
                                     "issuer": "moat-test-issuer", "rootcertbundle": self.token_server.cert_path}}
        cfgpath = os.path.join(tmp, "config.yml")
        with open(cfgpath, "w") as f:
            json.dump(cfg, f)  # JSON is YAML
        self.proc = subprocess.Popen(["docker-registry", "serve", cfgpath], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(tmp, "registry.log"), "w"))
        wait_port(self.port)

    def skopeo_copy(self, src, name, creds=True):
        args = ["skopeo", "copy", "-q", "--dest-cert-dir", self.skopeo_certs]
        if creds and (os.path.exists(os.path.join(self.dir, "htpasswd")) or hasattr(self, "token_server")):
            args += ["--dest-creds", f"{self.user}:{self.password}"]
        subprocess.run(args + [src, f"docker://{self.host}/{name}"], check=True, capture_output=True, timeout=120)

    def stop(self):
        self.proc.kill()  # only the registry this fixture started, by its PID
        self.proc.wait()
        if hasattr(self, "token_server"):
            self.token_server.stop()


class TokenServer:
    """A minimal token service for the registry's token auth: checks Basic credentials, issues an
    ES256 JWT carrying the requested repository access, signed by a self-signed cert the registry
    trusts through rootcertbundle."""

    def __init__(self, tmp, user, password):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import datetime
        self.user, self.password = user, password
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "moat-test-token")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1)).sign(self.key, hashes.SHA256()))
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)
        self.cert_path = os.path.join(tmp, "token.crt")
        with open(self.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        self.requests = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                from urllib.parse import urlparse, parse_qs
                q = parse_qs(urlparse(self.path).query)
                auth = self.headers.get("Authorization", "")
                outer.requests.append((self.path, auth))
                ok = auth == "Basic " + base64.b64encode(f"{outer.user}:{outer.password}".encode()).decode()
                if not ok:
                    self.send_response(401)
                    self.end_headers()
                    return
                access = []
                for sc in q.get("scope", []):
                    typ, name, actions = sc.split(":")
                    access.append({"type": typ, "name": name, "actions": actions.split(",")})
                body = json.dumps({"token": outer.sign(q.get("service", [""])[0], access)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(tmp, "server.crt"), os.path.join(tmp, "server.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, service, access):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        def b64u(b):
            return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {"iss": "moat-test-issuer", "sub": self.user, "aud": service, "exp": now + 600, "nbf": now - 60,
                  "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
        der = self.key.sign(signing.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- building test images ----

def tar_bytes(entries):
    """entries: list of (name, kind, data_or_target). kind in file/dir/symlink/hardlink/chardev."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1
            if kind == "file":
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                       "chardev": tarfile.CHRTYPE}[kind]
            ti.mode = 0o755
            if kind in ("symlink", "hardlink"):
                ti.linkname = data
            if kind == "chardev":
                ti.devmajor, ti.devminor = 1, 3
            t.addfile(ti)
    return buf.getvalue()


def docker_archive(path, layers, tag="test/image:latest"):
    """Write a docker-archive with the given uncompressed layer tars."""
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                         "config": {"Cmd": ["sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": f"layer {i}"} for i in range(len(layers))]}).encode()
    cname = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(path, "w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        names = []
        for d, l in zip(diff_ids, layers):
            add(d[7:] + "/layer.tar", l)
            names.append(d[7:] + "/layer.tar")
        add(cname, config)
        add("manifest.json", json.dumps([{"Config": cname, "RepoTags": [tag], "Layers": names}]).encode())
    return "sha256:" + hashlib.sha256(config).hexdigest()


@pytest.fixture
def moat_root():
    d = tempfile.mkdtemp(prefix="moat-img-")
    yield d
    # unmount anything a test left below the root, then remove it
    with open("/proc/self/mountinfo") as f:
        mps = [l.split()[4] for l in f if l.split()[4].startswith(d)]
    for mp in reversed(mps):
        subprocess.run(["umount", "-l", mp], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def moat(root, *args, certs=None, input=None, timeout=120, env_extra=None):
    env = dict(os.environ, MOAT_BUILTIN_DIR=BUILTIN_DIR)
    if env_extra:
        env.update(env_extra)
    cmd = [MOAT, "--root", root]
    if certs:
        cmd += ["--certs-dir", certs]
    return subprocess.run(cmd + list(args), capture_output=True, text=input is None or isinstance(input, str),
                          input=input, timeout=timeout, env=env)


def _registry_fixture(auth, **kw):
    tmp = tempfile.mkdtemp(prefix="moat-reg-")
    reg = Registry(tmp, auth=auth, **kw)
    try:
        yield reg
    finally:
        reg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def registry():
    yield from _registry_fixture(None)


@pytest.fixture(scope="module")
def basic_registry():
    yield from _registry_fixture("basic")


@pytest.fixture(scope="module")
def plain_registry():
    yield from _registry_fixture(None, tls=False)


@pytest.fixture(scope="module")
def mtls_registry():
    yield from _registry_fixture(None, client_ca=True)


@pytest.fixture(scope="module")
def token_registry():
    yield from _registry_fixture("token")


def store_leftovers(root):
    """What a failed operation may not leave: temp files, unpacked layers, blobs, image rows."""
    out = []
    for sub in ("tmp", "overlay", "blobs/sha256", "snapshots"):
        p = os.path.join(root, sub)
        if os.path.isdir(p):
            out += [os.path.join(sub, n) for n in os.listdir(p)]
    return out


class Hostile:
    """An HTTPS 'registry' serving exactly what a test puts in self.routes: path -> (status,
    headers, body) or a callable(handler) for custom behaviour."""

    def __init__(self, tmp):
        make_ca(tmp)
        self.routes = {}
        self.hits = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_HEAD(self):
                self.do_GET(head=True)

            def do_GET(self, head=False):
                outer.hits.append(self.path)
                r = outer.routes.get(self.path)
                if r is None and self.path == "/v2/":
                    r = (200, {}, b"{}")
                if r is None:
                    r = (404, {"Content-Type": "application/json"}, b'{"errors":[{"code":"NOT_FOUND","message":"nope"}]}')
                if callable(r):
                    return r(self)
                status, headers, body = r
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(tmp, "server.crt"), os.path.join(tmp, "server.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.certs_dir = os.path.join(tmp, "certs.d")
        os.makedirs(os.path.join(self.certs_dir, self.host))
        shutil.copy(os.path.join(tmp, "ca.crt"), os.path.join(self.certs_dir, self.host, "ca.crt"))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve_image(self, name, layers, tag="latest", compress=True, config_override=None, manifest_mutate=None):
        """Publish an image; returns (manifest_digest, manifest_bytes)."""
        import gzip
        diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
        config = config_override or json.dumps({"architecture": "amd64", "os": "linux",
                                                "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
        descs = []
        for l in layers:
            blob = gzip.compress(l, mtime=0) if compress else l
            d = "sha256:" + hashlib.sha256(blob).hexdigest()
            self.routes[f"/v2/{name}/blobs/{d}"] = (200, {}, blob)
            descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else ""),
                          "digest": d, "size": len(blob)})
        cd = "sha256:" + hashlib.sha256(config).hexdigest()
        self.routes[f"/v2/{name}/blobs/{cd}"] = (200, {}, config)
        man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(config)},
               "layers": descs}
        if manifest_mutate:
            manifest_mutate(man)
        mb = json.dumps(man).encode()
        md = "sha256:" + hashlib.sha256(mb).hexdigest()
        hdr = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        self.routes[f"/v2/{name}/manifests/{tag}"] = (200, hdr, mb)
        self.routes[f"/v2/{name}/manifests/{md}"] = (200, hdr, mb)
        return md, mb, descs

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile():
    tmp = tempfile.mkdtemp(prefix="moat-hostile-")
    h = Hostile(tmp)
    try:
        yield h
    finally:
        h.stop()
        shutil.rmtree(tmp, ignore_errors=True)
