#!/usr/bin/env python3
"""kafkarig: start and control real Apache Kafka brokers for asiokafka tests.

The broker jars come from Maven Central (assembled into a cache outside the
repository), every node is a KRaft combined broker+controller bound to
127.0.0.1, and readiness is decided by real Kafka requests.  Standard library
only.  See docs/rig.md for the developer guide.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# ---------------------------------------------------------------------------
# Pinned versions: the ONE place to change Kafka / logging versions.
# ---------------------------------------------------------------------------
# "deps": extra runtime artifacts (the SLF4J binding; without one the broker
#         logs nothing).  "managed": artifact versions forced via
#         dependencyManagement.  "logging": which config file flavour to write.
KAFKA_VERSIONS = {
    # The default: the newest 4.x whose artifacts all resolve from Maven Central.
    "4.3.1": {
        "aliases": ("4", "4.3"),
        "logging": "log4j2",
        # kafka-server 4.3.1 itself depends on log4j-core/api 2.25.4.
        "deps": [
            ("org.apache.logging.log4j", "log4j-slf4j-impl", "2.25.4"),
            ("org.apache.logging.log4j", "log4j-core", "2.25.4"),
            ("org.apache.logging.log4j", "log4j-api", "2.25.4"),
        ],
        "managed": [],
    },
    # Newer, but incomplete on Maven Central: its pom names kafka-tools-api:4.4.0, which is
    # not published, so that one jar is taken from 4.3.1 (the broker does not use it at run
    # time). Make it the default once the artifact appears and the "managed" entry can go.
    "4.4.0": {
        "aliases": ("4.4",),
        "logging": "log4j2",
        "deps": [
            ("org.apache.logging.log4j", "log4j-slf4j-impl", "2.25.5"),
            ("org.apache.logging.log4j", "log4j-core", "2.25.5"),
            ("org.apache.logging.log4j", "log4j-api", "2.25.5"),
        ],
        "managed": [("org.apache.kafka", "kafka-tools-api", "4.3.1")],
    },
    "3.9.2": {
        "aliases": ("3", "3.9"),
        "logging": "log4j1",
        "deps": [
            ("org.slf4j", "slf4j-reload4j", "1.7.36"),
            ("ch.qos.reload4j", "reload4j", "1.2.25"),
        ],
        "managed": [],
    },
}
DEFAULT_VERSION = "4.3.1"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

# ---------------------------------------------------------------------------
# Listener table.  Node i (1-based) listens on base + 10*(i-1) + offset.
# To add a listener (e.g. GSSAPI at offset 7) append a row here and, if it
# needs settings, a branch in listener_settings().
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Listener:
    name: str        # listener name (also used in rig.env keys)
    protocol: str    # security protocol
    offset: int      # port offset inside the node's 10-port slice
    mechanisms: tuple = ()  # SASL mechanisms


SASL_MECHS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
LISTENERS = (
    Listener("PLAINTEXT", "PLAINTEXT", 0),
    Listener("CONTROLLER", "PLAINTEXT", 1),
    Listener("SSL", "SSL", 2),
    Listener("MTLS", "SSL", 3),
    Listener("SASL_PLAINTEXT", "SASL_PLAINTEXT", 4, SASL_MECHS),
    Listener("SASL_SSL", "SASL_SSL", 5, SASL_MECHS),
    Listener("OAUTH", "SASL_PLAINTEXT", 6, ("OAUTHBEARER",)),
)
# Only with --kerberos (Rig.listeners()): needs the rig's KDC, advertised as "localhost"
# because the service principal is kafka/localhost@REALM.
GSSAPI_LISTENER = Listener("GSSAPI", "SASL_PLAINTEXT", 7, ("GSSAPI",))
ALL_LISTENERS = LISTENERS + (GSSAPI_LISTENER,)
CONTROLLER_LISTENER = "CONTROLLER"

# Kerberos (opt-in, --kerberos or ASIOKAFKA_RIG_KERBEROS=1): an MIT krb5kdc under DIR/kdc.
KRB5_REALM = "ASIOKAFKA.TEST"
KRB5_SERVICE_NAME = "kafka"
KRB5_SERVICE_PRINCIPAL = f"{KRB5_SERVICE_NAME}/localhost@{KRB5_REALM}"
KRB5_CLIENT_PRINCIPAL = f"asiokafka@{KRB5_REALM}"
KDC_PORT_OFFSET = 8          # node 1's slice; unused by the listeners
KDC_DEADLINE_S = 15.0

# Credentials (tests only).
SASL_USER, SASL_PASSWORD = "asiokafka", "asiokafka-secret"
ADMIN_USER, ADMIN_PASSWORD = "admin", "admin-secret"
CLIENT_KEY_PASSWORD = "client-key-pass"
OAUTH_PRINCIPAL = "asiokafka"   # any sub is accepted; this is the one tests use
# KIP-368: sessions of these (listener, mechanism) pairs expire after REAUTH_MS, so clients must
# re-authenticate in-band; every other SASL session never expires (lifetime 0).
REAUTH_MS = 4000
REAUTH_PATHS = (("OAUTH", "OAUTHBEARER"), ("SASL_SSL", "SCRAM-SHA-512"))

# Port blocks.
PORT_BASE, BLOCK_SIZE, BLOCK_COUNT = 21000, 32, 300
PORT_CLAIM_DIR = Path("/tmp/asiokafka-rig-ports")
CLAIM_GRACE_S = 300   # a fresh claim is never treated as stale

START_DEADLINE_S = 120.0
STOP_DEADLINE_S = 30.0
POLL_S = 0.2


class RigError(Exception):
    """A user-facing failure; main() prints it and exits non-zero."""


class NodeFailed(RigError):
    """A node died or did not become ready; .node says which one."""

    def __init__(self, node: int, msg: str):
        super().__init__(msg)
        self.node = node


def log(msg: str) -> None:
    print(f"kafkarig: {msg}", flush=True)


# ---------------------------------------------------------------------------
# Versions and the Maven-built class path
# ---------------------------------------------------------------------------
def resolve_version(requested: str | None) -> str:
    """Map --version / ASIOKAFKA_KAFKA_VERSION (or an alias) to a pinned version."""
    v = requested or os.environ.get("ASIOKAFKA_KAFKA_VERSION") or DEFAULT_VERSION
    if v in KAFKA_VERSIONS:
        return v
    for full, spec in KAFKA_VERSIONS.items():
        if v in spec["aliases"]:
            return full
    raise RigError(f"unsupported Kafka version {v!r}; choose one of "
                   + ", ".join(f"{k} (alias {'/'.join(s['aliases'])})"
                               for k, s in KAFKA_VERSIONS.items()))


def cache_root() -> Path:
    c = os.environ.get("ASIOKAFKA_CACHE")
    return Path(c) if c else Path.home() / ".cache" / "asiokafka"


def libs_dir(version: str) -> Path:
    return cache_root() / f"kafka-{version}" / "libs"


def _pom(version: str) -> str:
    spec = KAFKA_VERSIONS[version]

    def dep(g, a, v):
        return (f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
                f"<version>{v}</version></dependency>\n")
    managed = "".join(dep(*m) for m in spec["managed"])
    deps = dep("org.apache.kafka", "kafka_2.13", version) + "".join(dep(*d) for d in spec["deps"])
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<!-- generated by kafkarig.py; do not edit -->\n"
            "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n"
            "  <modelVersion>4.0.0</modelVersion>\n"
            "  <groupId>asiokafka.rig</groupId>\n"
            f"  <artifactId>kafka-broker-classpath-{version}</artifactId>\n"
            "  <version>1</version>\n  <packaging>pom</packaging>\n"
            f"  <dependencyManagement><dependencies>\n{managed}  </dependencies></dependencyManagement>\n"
            f"  <dependencies>\n{deps}  </dependencies>\n</project>\n")


def fetch(version: str) -> Path:
    """Assemble the broker class path for `version` (idempotent, lock-protected)."""
    base = cache_root() / f"kafka-{version}"
    libs, marker = base / "libs", base / "libs.complete"
    if marker.exists():
        return libs
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if marker.exists():
            return libs
        if shutil.which("mvn") is None:
            raise RigError("mvn not found on PATH (Maven is needed once to fetch the broker jars)")
        (base / "pom.xml").write_text(_pom(version))
        tmp = base / "libs.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(libs, ignore_errors=True)
        log(f"fetching Kafka {version} broker jars with Maven into {libs}")
        cmd = ["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(base / "pom.xml"),
               f"{DEPENDENCY_PLUGIN}:copy-dependencies",
               "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"]
        log("running: " + " ".join(cmd))
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        if r.returncode != 0:
            raise RigError(f"maven failed (exit {r.returncode}) fetching Kafka {version}:\n"
                           + re.sub(r"\x1b\[[0-9;]*m", "", r.stdout))
        jars = sorted(p.name for p in tmp.glob("*.jar"))
        if not any(j.startswith(f"kafka_2.13-{version}") for j in jars):
            raise RigError(f"maven did not produce kafka_2.13-{version}.jar in {tmp}")
        tmp.rename(libs)
        marker.write_text("\n".join(jars) + "\n")
        log(f"fetched {len(jars)} jars for Kafka {version}")
    return libs


# ---------------------------------------------------------------------------
# Rig state (DIR/rig.json is internal; DIR/rig.env is the fixture contract)
# ---------------------------------------------------------------------------
@dataclass
class Rig:
    dir: Path
    version: str
    nodes: int
    base_port: int
    block: int
    cluster_id: str
    heap: str
    kerberos: bool = False

    @staticmethod
    def load(d: Path) -> "Rig":
        f = d / "rig.json"
        if not f.exists():
            raise RigError(f"{d} is not a started rig (no rig.json); run 'start --dir {d}' first")
        s = json.loads(f.read_text())
        return Rig(dir=d, version=s["version"], nodes=s["nodes"], base_port=s["base_port"],
                   block=s["block"], cluster_id=s["cluster_id"], heap=s["heap"],
                   kerberos=s.get("kerberos", False))

    def save(self) -> None:
        s = dict(version=self.version, nodes=self.nodes, base_port=self.base_port,
                 block=self.block, cluster_id=self.cluster_id, heap=self.heap,
                 kerberos=self.kerberos)
        _write_atomic(self.dir / "rig.json", json.dumps(s, indent=2) + "\n")

    def listeners(self) -> tuple:
        """The listeners of this rig: GSSAPI only with Kerberos."""
        return ALL_LISTENERS if self.kerberos else LISTENERS

    def port(self, node: int, listener: str) -> int:
        off = next(l.offset for l in ALL_LISTENERS if l.name == listener)
        return self.base_port + 10 * (node - 1) + off

    def host(self, listener: str) -> str:
        """The advertised host of a listener (Kerberos needs a host name)."""
        return "localhost" if listener == GSSAPI_LISTENER.name else "127.0.0.1"

    def kdc_dir(self) -> Path:
        return self.dir / "kdc"

    def kdc_port(self) -> int:
        return self.base_port + KDC_PORT_OFFSET

    def node_dir(self, node: int) -> Path:
        return self.dir / f"n{node}"

    def pid_file(self, node: int) -> Path:
        return self.node_dir(node) / "pid"

    def certs(self) -> Path:
        return self.dir / "certs"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.rename(path)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
def _proc_state(pid: int) -> str | None:
    """Return the /proc state letter of pid, or None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


def _is_our_broker(pid: int, rig_dir: Path, node: int) -> bool:
    """True if pid is alive and its command line is our kafka.Kafka for DIR/nN."""
    state = _proc_state(pid)
    if state is None or state in "ZX":
        return False
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    props = str(rig_dir / f"n{node}" / "server.properties").encode()
    return b"kafka.Kafka" in cmd and props in cmd


def read_pid(rig: Rig, node: int) -> int | None:
    """The pid recorded for node if it is still our running broker."""
    try:
        pid = int(rig.pid_file(node).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_our_broker(pid, rig.dir, node) else None


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, rig: Rig, node: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:   # reap if it happens to be our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not _is_our_broker(pid, rig.dir, node) and _threads_gone(pid):
            return True
        time.sleep(0.1)
    return not _is_our_broker(pid, rig.dir, node)


def _threads_gone(pid: int) -> bool:
    """True once no thread of pid is left but a zombie leader. A SIGKILLed JVM's leader
    turns zombie while its other threads still exit, and its sockets close only with the last
    of them: until then the kernel may still accept a connection on its listeners."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    if len(tasks) > 1:
        return False
    # The leader alone may still be exiting with its files open (its command line already
    # unreadable): gone only once it is a zombie, when its sockets are closed.
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        state = stat[stat.rindex(")") + 2]
    except (OSError, ValueError, IndexError):
        return True
    return state in ("Z", "X")


def terminate_node(rig: Rig, node: int, hard: bool = False, timeout: float = STOP_DEADLINE_S) -> bool:
    """SIGTERM (or SIGKILL) node's broker, escalate to SIGKILL after timeout."""
    pid = read_pid(rig, node)
    if pid is None:
        rig.pid_file(node).unlink(missing_ok=True)
        return False
    _signal(pid, signal.SIGKILL if hard else signal.SIGTERM)
    _signal(pid, signal.SIGCONT)   # a paused JVM must run to handle SIGTERM
    if not _wait_gone(pid, rig, node, 10.0 if hard else timeout):
        log(f"node {node} (pid {pid}) did not exit after {timeout:.0f}s; sending SIGKILL")
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, rig, node, 10.0)
    rig.pid_file(node).unlink(missing_ok=True)
    return True


def java_bin() -> str:
    jh = os.environ.get("JAVA_HOME")
    if jh and Path(jh, "bin", "java").exists():
        return str(Path(jh, "bin", "java"))
    j = shutil.which("java")
    if not j:
        raise RigError("java not found (set JAVA_HOME or put java on PATH)")
    return j


def _log_opts(rig: Rig, server: bool) -> list:
    """JVM option pointing the logging backend at the server or tools config."""
    flavour = KAFKA_VERSIONS[rig.version]["logging"]
    kind = "server" if server else "tools"
    if flavour == "log4j2":
        return [f"-Dlog4j2.configurationFile={rig.dir / f'{kind}-log4j2.properties'}"]
    return [f"-Dlog4j.configuration=file:{rig.dir / f'{kind}-log4j.properties'}"]


def launch_node(rig: Rig, node: int) -> subprocess.Popen:
    """Start node's JVM in its own session; output to DIR/nN/stdout.log."""
    nd = rig.node_dir(node)
    (nd / "logs").mkdir(parents=True, exist_ok=True)
    cmd = [java_bin(), f"-Xms{rig.heap}", f"-Xmx{rig.heap}",
           "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
           "-XX:+ExplicitGCInvokesConcurrent", "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData",
           # C1 only: much faster start-up on small machines, plenty fast for tests
           "-XX:TieredStopAtLevel=1",
           *os.environ.get("ASIOKAFKA_RIG_JVM_OPTS", "").split(),
           "-Djava.awt.headless=true", f"-Dkafka.logs.dir={nd / 'logs'}",
           *_log_opts(rig, server=True),
           *([f"-Djava.security.krb5.conf={rig.kdc_dir() / 'krb5.conf'}"] if rig.kerberos else []),
           "-cp", str(libs_dir(rig.version)) + "/*",
           "kafka.Kafka", str(nd / "server.properties")]
    with open(nd / "stdout.log", "ab") as out:
        out.write(f"==== {time.strftime('%Y-%m-%d %H:%M:%S')} kafkarig launching node {node}\n".encode())
        out.flush()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True, close_fds=True, cwd=str(nd))
    _write_atomic(rig.pid_file(node), f"{p.pid}\n")
    return p


def tail_node_log(rig: Rig, node: int, lines: int = 60) -> None:
    """Print the last lines of the node's broker log and stdout log."""
    nd = rig.node_dir(node)
    for f in (nd / "logs" / "server.log", nd / "stdout.log"):
        if f.exists() and f.stat().st_size:
            text = f.read_text(errors="replace").splitlines()[-lines:]
            print(f"----- last {len(text)} lines of {f} -----", file=sys.stderr)
            print("\n".join(text), file=sys.stderr)


# ---------------------------------------------------------------------------
# Port blocks
# ---------------------------------------------------------------------------
def _claim_path(k: int) -> Path:
    return PORT_CLAIM_DIR / f"block-{k}"


def _dir_has_running_broker(d: Path) -> bool:
    for pidf in d.glob("n*/pid"):
        try:
            pid = int(pidf.read_text().strip())
            node = int(pidf.parent.name[1:])
        except (OSError, ValueError):
            continue
        if _is_our_broker(pid, d, node):
            return True
    return False


def _claim_is_stale(path: Path) -> bool:
    try:
        st = path.stat()
        owner = Path(path.read_text().strip())
    except (OSError, ValueError):
        return False
    if time.time() - st.st_mtime < CLAIM_GRACE_S and owner.exists():
        return False
    return not _dir_has_running_broker(owner)


def _ports_bindable(base: int) -> bool:
    for port in range(base, base + BLOCK_SIZE):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def claim_ports(rig_dir: Path) -> int:
    """Atomically claim a free block of ports; return the block index."""
    if not PORT_CLAIM_DIR.exists():
        PORT_CLAIM_DIR.mkdir(parents=True, exist_ok=True)
        try:   # shared by all users of the machine
            os.chmod(PORT_CLAIM_DIR, 0o1777)
        except OSError:
            pass
    for k in range(BLOCK_COUNT):
        path = _claim_path(k)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if _claim_is_stale(path):
                    try:   # rename is atomic: only one reclaimer wins
                        path.rename(path.with_name(f"{path.name}.stale.{os.getpid()}"))
                        path.with_name(f"{path.name}.stale.{os.getpid()}").unlink()
                    except FileNotFoundError:
                        pass
                    continue
                break
            with os.fdopen(fd, "w") as f:
                f.write(f"{rig_dir}\n")
            if _ports_bindable(PORT_BASE + BLOCK_SIZE * k):
                return k
            path.unlink(missing_ok=True)
            break
    raise RigError(f"no free port block in {PORT_BASE}..{PORT_BASE + BLOCK_SIZE * BLOCK_COUNT}")


def release_ports(rig_dir: Path, k: int) -> None:
    """Delete claim k if it belongs to rig_dir."""
    path = _claim_path(k)
    try:
        if Path(path.read_text().strip()) == rig_dir:
            path.unlink()
    except OSError:
        pass


def touch_claim(rig: Rig) -> None:
    try:
        os.utime(_claim_path(rig.block))
    except OSError:
        pass


# ---------------------------------------------------------------------------
# Certificates (openssl CLI)
# ---------------------------------------------------------------------------
OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
authorityKeyIdentifier = keyid
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
"""


def _openssl(*args: str, cwd: Path) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RigError(f"openssl {' '.join(args)} failed:\n{r.stdout}")


def make_certs(certs: Path) -> None:
    """Create CA, broker keystore, client cert/keys and an unrelated CA (once per DIR)."""
    if (certs / ".complete").exists():
        return
    if shutil.which("openssl") is None:
        raise RigError("openssl not found on PATH")
    shutil.rmtree(certs, ignore_errors=True)
    certs.mkdir(parents=True)
    (certs / "openssl.cnf").write_text(OPENSSL_CNF)
    cnf, days = "openssl.cnf", "3650"

    def serial() -> str:
        return "0x" + os.urandom(8).hex()

    def ca(name: str, cn: str) -> None:
        _openssl("req", "-x509", "-new", "-newkey", "rsa:2048", "-noenc", "-config", cnf,
                 "-extensions", "v3_ca", "-subj", f"/CN={cn}", "-days", days, "-set_serial", serial(),
                 "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=certs)

    def leaf(name: str, cn: str, ext: str) -> None:
        _openssl("req", "-new", "-newkey", "rsa:2048", "-noenc", "-config", cnf,
                 "-subj", f"/CN={cn}", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=certs)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-set_serial", serial(), "-days", days, "-extfile", cnf, "-extensions", ext,
                 "-out", f"{name}.crt", cwd=certs)
        (certs / f"{name}.csr").unlink()

    ca("ca", "asiokafka test CA")
    ca("other-ca", "asiokafka unrelated CA")
    leaf("broker", "localhost", "v3_server")
    leaf("client", "asiokafka-client", "v3_client")
    # Kafka's PEM keystore wants an unencrypted PKCS#8 key followed by the chain.
    _openssl("pkcs8", "-topk8", "-nocrypt", "-in", "broker.key", "-out", "broker.pk8", cwd=certs)
    (certs / "broker-keystore.pem").write_text(
        (certs / "broker.pk8").read_text() + (certs / "broker.crt").read_text()
        + (certs / "ca.crt").read_text())
    (certs / "broker.pk8").unlink()
    _openssl("pkcs8", "-topk8", "-in", "client.key", "-out", "client-encrypted.key",
             "-v2", "aes-256-cbc", "-passout", f"pass:{CLIENT_KEY_PASSWORD}", cwd=certs)
    (certs / ".complete").write_text("ok\n")


# ---------------------------------------------------------------------------
# Kerberos KDC (opt-in): MIT krb5kdc with its own realm under DIR/kdc
# ---------------------------------------------------------------------------
KRB5_CONF = """\
# generated by kafkarig.py: the rig's own realm; /etc/krb5.conf is never used
[libdefaults]
    default_realm = {realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    ignore_acceptor_hostname = false
    udp_preference_limit = 1
    ticket_lifetime = 24h
    forwardable = false
    default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
    default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
    permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
[realms]
    {realm} = {{
        kdc = 127.0.0.1:{port}
    }}
[domain_realm]
    localhost = {realm}
"""
KDC_CONF = """\
# generated by kafkarig.py
[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}
[realms]
    {realm} = {{
        database_name = {kdc}/principal
        key_stash_file = {kdc}/stash
        acl_file = {kdc}/kadm5.acl
        kdc_listen = 127.0.0.1:{port}
        kdc_tcp_listen = 127.0.0.1:{port}
        kadmind_listen = 127.0.0.1:{port2}
        max_life = 24h
        max_renewable_life = 0
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}
[logging]
    kdc = FILE:{kdc}/krb5kdc.log
    admin_server = FILE:{kdc}/kadmin.log
    default = FILE:{kdc}/krb5lib.log
"""
KRB5_TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")


def _krb5_tool(name: str) -> str:
    for d in ("", "/usr/sbin/", "/usr/bin/"):
        p = shutil.which(name) if not d else (d + name if Path(d + name).exists() else None)
        if p:
            return p
    raise RigError(f"{name} not found: --kerberos needs MIT Kerberos "
                   "(Debian: krb5-kdc krb5-admin-server krb5-user; see rig/install-deps)")


def krb5_env(rig: Rig) -> dict:
    """Environment for the MIT tools: the rig's own config files, never /etc."""
    kdc = rig.kdc_dir()
    env = dict(os.environ)
    env.update(KRB5_CONFIG=str(kdc / "krb5.conf"), KRB5_KDC_PROFILE=str(kdc / "kdc.conf"),
               KRB5CCNAME=f"FILE:{kdc / 'probe.ccache'}", KRB5RCACHEDIR=str(kdc))
    env.pop("KRB5_CLIENT_KTNAME", None)
    env.pop("KRB5_KTNAME", None)
    return env


def _run_krb5(rig: Rig, *cmd: str) -> str:
    r = subprocess.run([_krb5_tool(cmd[0]), *cmd[1:]], env=krb5_env(rig), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    if r.returncode != 0:
        raise RigError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stdout}")
    return r.stdout


def _is_our_kdc(pid: int, rig_dir: Path) -> bool:
    """True if pid is alive and is the krb5kdc started for rig_dir."""
    state = _proc_state(pid)
    if state is None or state in "ZX":
        return False
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (bool(cmd) and os.path.basename(cmd[0]) == b"krb5kdc"
            and str(rig_dir / "kdc" / "krb5kdc.pid").encode() in cmd)


def kdc_pid(rig_dir: Path) -> int | None:
    try:
        pid = int((rig_dir / "kdc" / "krb5kdc.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_our_kdc(pid, rig_dir) else None


def stop_kdc(rig_dir: Path) -> None:
    """SIGTERM the rig's KDC (pid checked), SIGKILL after 5 s. Safe when none runs."""
    pidf = rig_dir / "kdc" / "krb5kdc.pid"
    pid = kdc_pid(rig_dir)
    if pid is not None:
        _signal(pid, signal.SIGTERM)
        end = time.monotonic() + 5.0
        while _is_our_kdc(pid, rig_dir) and time.monotonic() < end:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.05)
        if _is_our_kdc(pid, rig_dir):
            _signal(pid, signal.SIGKILL)
    pidf.unlink(missing_ok=True)


def start_kdc(rig: Rig) -> subprocess.Popen:
    """Create the realm, principals and keytabs in DIR/kdc, start krb5kdc, wait for a kinit."""
    for t in KRB5_TOOLS:
        _krb5_tool(t)
    kdc = rig.kdc_dir()
    stop_kdc(rig.dir)
    shutil.rmtree(kdc, ignore_errors=True)
    kdc.mkdir(parents=True)
    port = rig.kdc_port()
    (kdc / "krb5.conf").write_text(KRB5_CONF.format(realm=KRB5_REALM, port=port))
    (kdc / "kdc.conf").write_text(KDC_CONF.format(realm=KRB5_REALM, port=port, port2=port + 1, kdc=kdc))
    (kdc / "kadm5.acl").write_text("")
    _run_krb5(rig, "kdb5_util", "create", "-s", "-r", KRB5_REALM, "-P", os.urandom(18).hex())
    for princ, tab in ((KRB5_SERVICE_PRINCIPAL, "kafka.keytab"), (KRB5_CLIENT_PRINCIPAL, "client.keytab")):
        _run_krb5(rig, "kadmin.local", "-r", KRB5_REALM, "-q", f"addprinc -randkey {princ}")
        _run_krb5(rig, "kadmin.local", "-r", KRB5_REALM, "-q", f"ktadd -k {kdc / tab} {princ}")
    with open(kdc / "stdout.log", "ab") as out:
        p = subprocess.Popen([_krb5_tool("krb5kdc"), "-n", "-r", KRB5_REALM, "-P", str(kdc / "krb5kdc.pid")],
                             env=krb5_env(rig), stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True, close_fds=True, cwd=str(kdc))
    # krb5kdc writes its pid file itself once it listens; write it now so stop finds it anyway
    _write_atomic(kdc / "krb5kdc.pid", f"{p.pid}\n")
    end = time.monotonic() + KDC_DEADLINE_S
    last = ""
    while True:
        if p.poll() is not None:
            raise RigError(f"krb5kdc exited (code {p.returncode}); see {kdc}/krb5kdc.log and stdout.log:\n"
                           + (kdc / "stdout.log").read_text(errors="replace")[-2000:])
        r = subprocess.run([_krb5_tool("kinit"), "-kt", str(kdc / "client.keytab"), KRB5_CLIENT_PRINCIPAL],
                           env=krb5_env(rig), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        if r.returncode == 0:
            (kdc / "probe.ccache").unlink(missing_ok=True)
            return p
        last = r.stdout.strip()
        if time.monotonic() > end:
            stop_kdc(rig.dir)
            raise RigError(f"KDC on 127.0.0.1:{port} not answering after {KDC_DEADLINE_S:.0f}s: {last}")
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# Broker configuration
# ---------------------------------------------------------------------------
def _jaas(module: str, **opts: str) -> str:
    return f"{module} required " + " ".join(f'{k}="{v}"' for k, v in opts.items()) + ";"


def listener_settings(rig: Rig, l: Listener) -> dict:
    """Per-listener settings (listener.name.<l>.* prefix is added by the caller)."""
    certs = rig.certs()
    s: dict = {}
    if l.protocol in ("SSL", "SASL_SSL"):
        s["ssl.keystore.type"] = "PEM"
        s["ssl.keystore.location"] = certs / "broker-keystore.pem"
        s["ssl.client.auth"] = "none"
    if l.name == "MTLS":
        s["ssl.client.auth"] = "required"
        s["ssl.truststore.type"] = "PEM"
        s["ssl.truststore.location"] = certs / "ca.crt"
    if l.mechanisms:
        s["sasl.enabled.mechanisms"] = ",".join(l.mechanisms)
    for m in l.mechanisms:
        p = m.lower() + "."
        if (l.name, m) in REAUTH_PATHS:
            # listener.name.<listener>.<mechanism>.connections.max.reauth.ms (a per-mechanism
            # listener config): the broker announces min(this, token validity) as the session
            # lifetime and closes a connection that sends anything but SaslHandshake after it.
            s[p + "connections.max.reauth.ms"] = REAUTH_MS
        if m == "PLAIN":
            s[p + "sasl.jaas.config"] = _jaas(
                "org.apache.kafka.common.security.plain.PlainLoginModule",
                username=ADMIN_USER, password=ADMIN_PASSWORD,
                **{f"user_{ADMIN_USER}": ADMIN_PASSWORD, f"user_{SASL_USER}": SASL_PASSWORD})
        elif m.startswith("SCRAM-"):
            s[p + "sasl.jaas.config"] = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        elif m == "OAUTHBEARER":
            s[p + "sasl.jaas.config"] = _jaas(
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule",
                unsecuredLoginStringClaim_sub=ADMIN_USER)
            s[p + "sasl.server.callback.handler.class"] = (
                "org.apache.kafka.common.security.oauthbearer.internals.unsecured."
                "OAuthBearerUnsecuredValidatorCallbackHandler")
        elif m == "GSSAPI":
            s["sasl.kerberos.service.name"] = KRB5_SERVICE_NAME
            s[p + "sasl.jaas.config"] = (
                "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true "
                f'keyTab="{rig.kdc_dir() / "kafka.keytab"}" principal="{KRB5_SERVICE_PRINCIPAL}";')
    return s


def server_properties(rig: Rig, node: int) -> str:
    """Render server.properties for one node."""
    rf = 3 if rig.nodes >= 3 else 1
    isr = 2 if rig.nodes >= 3 else 1
    nd = rig.node_dir(node)
    voters = ",".join(f"{i}@127.0.0.1:{rig.port(i, CONTROLLER_LISTENER)}"
                      for i in range(1, rig.nodes + 1))
    ls = rig.listeners()
    listeners = ",".join(f"{l.name}://127.0.0.1:{rig.port(node, l.name)}" for l in ls)
    advertised = ",".join(f"{l.name}://{rig.host(l.name)}:{rig.port(node, l.name)}"
                          for l in ls if l.name != CONTROLLER_LISTENER)
    p = {
        "process.roles": "broker,controller",
        "node.id": node,
        "controller.quorum.voters": voters,
        "controller.listener.names": CONTROLLER_LISTENER,
        "inter.broker.listener.name": "PLAINTEXT",
        "listeners": listeners,
        "advertised.listeners": advertised,
        "listener.security.protocol.map": ",".join(f"{l.name}:{l.protocol}" for l in ls),
        "log.dirs": nd / "data",
        "num.partitions": 1,
        "auto.create.topics.enable": "true",
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": 10,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "transaction.state.log.num.partitions": 10,
        "group.initial.rebalance.delay.ms": 0,
        # a killed node's old registration expires sooner, so a restart is quick
        "broker.heartbeat.interval.ms": 500,
        "broker.session.timeout.ms": 3000,
        # few threads: tests are light and idle CPU stays low
        "num.network.threads": 2,
        "num.io.threads": 4,
        "background.threads": 4,
        "num.recovery.threads.per.data.dir": 1,
        "log.cleaner.threads": 1,
        # ACLs (the Admin's create/describe/delete_acls tests): KRaft's authorizer on every
        # node. A resource without ACLs stays open to everyone, so nothing else changes. The
        # brokers and controllers talk to each other on PLAINTEXT listeners (CONTROLLER and
        # the inter-broker PLAINTEXT), as User:ANONYMOUS: that principal is the only super
        # user, so an ACL can restrict the SASL users (SASL_USER, ADMIN_USER) like any other.
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "true",
        "super.users": "User:ANONYMOUS",
    }
    if rig.nodes >= 3:
        # racks rack-1..rack-N and the rack-aware replica selector, so that a consumer with
        # client_rack fetches from its rack's replica (KIP-392)
        p["broker.rack"] = f"rack-{node}"
        p["replica.selector.class"] = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
    if not rig.version.startswith("3."):
        # KIP-848 groups: the coordinator sets session and heartbeat times (the client's
        # settings do not apply). Kafka's defaults (45 s, 5 s) would make every test that
        # waits for a dead member or a heartbeat round slow; these match the classic
        # group tests' 6 s session (docs/consumer_groups.md).
        p["group.consumer.min.session.timeout.ms"] = 3000
        p["group.consumer.session.timeout.ms"] = 6000
        p["group.consumer.min.heartbeat.interval.ms"] = 500
        p["group.consumer.heartbeat.interval.ms"] = 1000
        p["share.coordinator.state.topic.replication.factor"] = rf
        p["share.coordinator.state.topic.min.isr"] = isr
    for l in ls:
        for k, v in listener_settings(rig, l).items():
            p[f"listener.name.{l.name.lower()}.{k}"] = v
    return ("# generated by kafkarig.py\n"
            + "".join(f"{k}={v}\n" for k, v in p.items()))


LOG4J2 = """\
status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.target = {target}
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {console_level}
rootLogger.appenderRef.out.ref = OUT
rootLogger.appenderRef.out.level = {console_level}
"""
LOG4J2_FILE = """\
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.appenderRef.file.ref = FILE
"""
LOG4J1 = """\
log4j.rootLogger={level}, out{extra}
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.Target={target}
log4j.appender.out.Threshold={console_level}
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
"""
LOG4J1_FILE = """\
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


def write_log_configs(rig: Rig) -> None:
    """Broker: INFO to DIR/nN/logs/server.log, WARN+ also to stdout.log. Tools: WARN to stderr."""
    if KAFKA_VERSIONS[rig.version]["logging"] == "log4j2":
        server = LOG4J2.format(target="SYSTEM_OUT", console_level="WARN").replace(
            "rootLogger.level = WARN", "rootLogger.level = INFO") + LOG4J2_FILE
        tools = LOG4J2.format(target="SYSTEM_ERR", console_level="WARN")
        (rig.dir / "server-log4j2.properties").write_text(server)
        (rig.dir / "tools-log4j2.properties").write_text(tools)
    else:
        server = LOG4J1.format(level="INFO", extra=", file", target="System.out",
                               console_level="WARN") + LOG4J1_FILE
        tools = LOG4J1.format(level="WARN", extra="", target="System.err", console_level="WARN")
        (rig.dir / "server-log4j.properties").write_text(server)
        (rig.dir / "tools-log4j.properties").write_text(tools)


def storage_tool(rig: Rig, *args: str) -> str:
    cmd = [java_bin(), "-Xmx256m", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1",
           *_log_opts(rig, server=False),
           "-cp", str(libs_dir(rig.version)) + "/*", "kafka.tools.StorageTool", *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RigError(f"StorageTool {args[0]} failed (exit {r.returncode}):\n{r.stdout}")
    return r.stdout


def format_storage(rig: Rig, node: int) -> None:
    scram = []
    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        for user, pw in ((SASL_USER, SASL_PASSWORD), (ADMIN_USER, ADMIN_PASSWORD)):
            scram += ["--add-scram", f"{mech}=[name={user},password={pw}]"]
    storage_tool(rig, "format", "-t", rig.cluster_id,
                 "-c", str(rig.node_dir(node) / "server.properties"), *scram)


# ---------------------------------------------------------------------------
# Minimal Kafka wire client (readiness probes)
# ---------------------------------------------------------------------------
class KafkaConn:
    """A blocking connection speaking request header v1 / response header v0."""

    def __init__(self, host: str, port: int, timeout: float = 2.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.corr = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by broker")
            buf += chunk
        return buf

    def request(self, api_key: int, api_version: int, body: bytes) -> bytes:
        """Send one request; return the response body after the correlation id."""
        self.corr += 1
        client = b"kafkarig"
        hdr = struct.pack(">hhih", api_key, api_version, self.corr, len(client)) + client
        msg = hdr + body
        self.sock.sendall(struct.pack(">i", len(msg)) + msg)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        resp = self._recv_exact(size)
        (corr,) = struct.unpack_from(">i", resp)
        if corr != self.corr:
            raise ConnectionError(f"correlation id mismatch {corr} != {self.corr}")
        return resp[4:]


class _Reader:
    """Big-endian decoder for the few response fields the probes need."""

    def __init__(self, data: bytes):
        self.d, self.o = data, 0

    def _take(self, fmt: str):
        (v,) = struct.unpack_from(fmt, self.d, self.o)
        self.o += struct.calcsize(fmt)
        return v

    def i16(self) -> int:
        return self._take(">h")

    def i32(self) -> int:
        return self._take(">i")

    def string(self) -> str | None:
        n = self.i16()
        if n < 0:
            return None
        s = self.d[self.o:self.o + n].decode()
        self.o += n
        return s


def api_versions_ok(conn: KafkaConn) -> bool:
    """ApiVersions v0: True if error_code == 0."""
    return _Reader(conn.request(18, 0, b"")).i16() == 0


def metadata_v4(conn: KafkaConn) -> tuple:
    """Metadata v4 for no topics; returns (broker ids, cluster_id, controller_id)."""
    r = _Reader(conn.request(3, 4, struct.pack(">ib", 0, 0)))
    r.i32()  # throttle_time_ms
    brokers = []
    for _ in range(r.i32()):
        brokers.append(r.i32())  # node_id
        r.string(), r.i32(), r.string()  # host, port, rack
    cluster_id = r.string()
    return brokers, cluster_id, r.i32()


def probe_node(rig: Rig, node: int, need_all: bool) -> str | None:
    """Return None if node is ready, else a short reason why not."""
    try:
        with KafkaConn("127.0.0.1", rig.port(node, "PLAINTEXT")) as c:
            if not api_versions_ok(c):
                return "ApiVersions returned an error"
            brokers, cid, controller = metadata_v4(c)
    except (OSError, struct.error, ConnectionError) as e:
        return f"PLAINTEXT request failed: {e}"
    if controller < 0:
        return "no active controller yet"
    if cid != rig.cluster_id:
        return f"unexpected cluster id {cid}"
    if need_all and len(brokers) != rig.nodes:
        return f"metadata lists {len(brokers)}/{rig.nodes} brokers"
    if node not in brokers:
        return "node not registered yet"
    for l in rig.listeners():
        try:
            socket.create_connection(("127.0.0.1", rig.port(node, l.name)), timeout=2).close()
        except OSError as e:
            return f"{l.name} port not accepting: {e}"
    try:
        ctx = ssl.create_default_context(cafile=str(rig.certs() / "ca.crt"))
        with socket.create_connection(("127.0.0.1", rig.port(node, "SSL")), timeout=2) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1"):
                pass
    except (OSError, ssl.SSLError) as e:
        return f"TLS handshake on SSL listener failed: {e}"
    return None


def wait_ready(rig: Rig, nodes: list, procs: dict, need_all: bool,
               deadline_s: float = START_DEADLINE_S) -> None:
    """Poll nodes until all are ready; raise RigError(node) if one dies or time runs out."""
    end = time.monotonic() + deadline_s
    pending = set(nodes)
    reason: dict = {}
    while pending:
        for n in sorted(pending):
            p = procs.get(n)
            dead = (p.poll() is not None) if p else (read_pid(rig, n) is None)
            if dead:
                raise NodeFailed(n, f"node {n} exited during start-up"
                                 + (f" (exit code {p.returncode})" if p else ""))
            why = probe_node(rig, n, need_all)
            if why is None:
                pending.discard(n)
            else:
                reason[n] = why
        if not pending:
            return
        if time.monotonic() > end:
            n = min(pending)
            raise NodeFailed(n, f"node {n} not ready after {deadline_s:.0f}s: {reason.get(n)}")
        time.sleep(POLL_S)


# ---------------------------------------------------------------------------
# rig.env
# ---------------------------------------------------------------------------
def rig_env(rig: Rig) -> str:
    certs = rig.certs()
    lines = [f"RIG_DIR={rig.dir}", f"RIG_TOOL={Path(__file__).resolve()}",
             f"KAFKA_VERSION={rig.version}", f"NODES={rig.nodes}", f"CLUSTER_ID={rig.cluster_id}"]
    for l in rig.listeners():
        if l.name != CONTROLLER_LISTENER:
            lines.append(f"BOOTSTRAP_{l.name}=" + ",".join(
                f"{rig.host(l.name)}:{rig.port(i, l.name)}" for i in range(1, rig.nodes + 1)))
    for i in range(1, rig.nodes + 1):
        for l in rig.listeners():
            lines.append(f"NODE{i}_{l.name}={rig.host(l.name)}:{rig.port(i, l.name)}")
        lines.append(f"NODE{i}_PID_FILE={rig.pid_file(i)}")
        lines.append(f"NODE{i}_LOG={rig.node_dir(i) / 'stdout.log'}")
    lines += [f"CA_FILE={certs / 'ca.crt'}", f"OTHER_CA_FILE={certs / 'other-ca.crt'}",
              f"CLIENT_CERT={certs / 'client.crt'}", f"CLIENT_KEY={certs / 'client.key'}",
              f"CLIENT_KEY_ENCRYPTED={certs / 'client-encrypted.key'}",
              f"CLIENT_KEY_PASSWORD={CLIENT_KEY_PASSWORD}",
              f"SASL_USER={SASL_USER}", f"SASL_PASSWORD={SASL_PASSWORD}",
              f"ADMIN_USER={ADMIN_USER}", f"ADMIN_PASSWORD={ADMIN_PASSWORD}",
              f"OAUTH_PRINCIPAL={OAUTH_PRINCIPAL}", f"REAUTH_MS={REAUTH_MS}",
              "REAUTH_PATHS=" + ",".join(f"{l}:{m}" for l, m in REAUTH_PATHS)]
    if rig.kerberos:
        kdc = rig.kdc_dir()
        lines += ["KERBEROS=1", f"KRB5_CONFIG={kdc / 'krb5.conf'}", f"KRB5_REALM={KRB5_REALM}",
                  f"KRB5_KDC=127.0.0.1:{rig.kdc_port()}",
                  f"KRB5_CLIENT_PRINCIPAL={KRB5_CLIENT_PRINCIPAL}",
                  f"KRB5_CLIENT_KEYTAB={kdc / 'client.keytab'}",
                  f"KRB5_SERVICE_PRINCIPAL={KRB5_SERVICE_PRINCIPAL}",
                  f"KRB5_SERVICE_NAME={KRB5_SERVICE_NAME}", f"KDC_PID_FILE={kdc / 'krb5kdc.pid'}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
def cmd_fetch(a) -> int:
    v = resolve_version(a.version)
    libs = fetch(v)
    log(f"Kafka {v} class path ready: {libs}")
    return 0


def _abs_dir(d: str) -> Path:
    return Path(os.path.abspath(os.path.expanduser(d)))


def stop_rig(rig: Rig) -> None:
    """Stop all nodes of rig, release its port block, delete data (keep logs)."""
    pids = {n: read_pid(rig, n) for n in range(1, rig.nodes + 1)}
    for n, pid in pids.items():
        if pid is not None:
            log(f"stopping node {n} (pid {pid})")
            _signal(pid, signal.SIGTERM)
            _signal(pid, signal.SIGCONT)
    end = time.monotonic() + STOP_DEADLINE_S
    for n, pid in pids.items():
        if pid is not None and not _wait_gone(pid, rig, n, max(0.0, end - time.monotonic())):
            log(f"node {n} (pid {pid}) still alive after {STOP_DEADLINE_S:.0f}s; sending SIGKILL")
            _signal(pid, signal.SIGKILL)
            _wait_gone(pid, rig, n, 10.0)
        rig.pid_file(n).unlink(missing_ok=True)
    stop_kdc(rig.dir)   # after the brokers: a broker never loses its KDC while running
    release_ports(rig.dir, rig.block)
    for n in range(1, rig.nodes + 1):
        shutil.rmtree(rig.node_dir(n) / "data", ignore_errors=True)
    (rig.dir / "rig.env").unlink(missing_ok=True)
    (rig.dir / "rig.json").unlink(missing_ok=True)


def cmd_start(a) -> int:
    d = _abs_dir(a.dir)
    version = resolve_version(a.version)
    if a.nodes not in (1, 3):
        raise RigError("--nodes must be 1 or 3")
    if d.exists() and _dir_has_running_broker(d):
        raise RigError(f"brokers of {d} are already running; run 'kafkarig.py stop --dir {d}' first")
    t0 = time.monotonic()
    fetch(version)
    d.mkdir(parents=True, exist_ok=True)
    # leftovers of an earlier run that was not stopped cleanly
    if (d / "rig.json").exists():
        try:
            stop_rig(Rig.load(d))
        except (RigError, KeyError, ValueError):
            pass
    (d / "rig.env").unlink(missing_ok=True)
    block = claim_ports(d)
    kerberos = a.kerberos or os.environ.get("ASIOKAFKA_RIG_KERBEROS") == "1"
    rig = Rig(dir=d, version=version, nodes=a.nodes, base_port=PORT_BASE + BLOCK_SIZE * block,
              block=block, cluster_id="", heap=a.heap, kerberos=kerberos)
    procs: dict = {}
    try:
        make_certs(rig.certs())
        if rig.kerberos:
            tk = time.monotonic()
            start_kdc(rig)
            log(f"KDC for realm {KRB5_REALM} ready on 127.0.0.1:{rig.kdc_port()} "
                f"in {time.monotonic() - tk:.1f}s")
        write_log_configs(rig)
        rig.cluster_id = storage_tool(rig, "random-uuid").strip().splitlines()[-1]
        rig.save()
        for n in range(1, rig.nodes + 1):
            nd = rig.node_dir(n)
            shutil.rmtree(nd / "data", ignore_errors=True)
            (nd / "logs").mkdir(parents=True, exist_ok=True)
            (nd / "server.properties").write_text(server_properties(rig, n))
        with ThreadPoolExecutor(rig.nodes) as pool:   # one JVM per node, in parallel
            list(pool.map(lambda n: format_storage(rig, n), range(1, rig.nodes + 1)))
        log(f"formatted {rig.nodes} node(s), cluster id {rig.cluster_id}; starting Kafka {version}")
        for n in range(1, rig.nodes + 1):
            procs[n] = launch_node(rig, n)
        wait_ready(rig, list(procs), procs, need_all=True)
    except BaseException as e:
        if isinstance(e, NodeFailed):
            tail_node_log(rig, e.node)
        log(f"start failed: {e}; cleaning up")
        for n, p in procs.items():
            if p.poll() is None:
                p.terminate()
        for n, p in procs.items():
            try:
                p.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                p.kill(); p.wait()
            rig.pid_file(n).unlink(missing_ok=True)
        for n in range(1, rig.nodes + 1):
            shutil.rmtree(rig.node_dir(n) / "data", ignore_errors=True)
        stop_kdc(d)
        release_ports(d, block)
        (d / "rig.json").unlink(missing_ok=True)
        raise
    _write_atomic(d / "rig.env", rig_env(rig))
    touch_claim(rig)
    log(f"READY in {time.monotonic() - t0:.1f}s: Kafka {version}, {rig.nodes} node(s), "
        f"cluster {rig.cluster_id}, ports {rig.base_port}-{rig.base_port + BLOCK_SIZE - 1}")
    for l in rig.listeners():
        addrs = ",".join(f"{rig.host(l.name)}:{rig.port(i, l.name)}" for i in range(1, rig.nodes + 1))
        print(f"  {l.name:<15} {l.protocol:<15} {addrs}")
    if rig.kerberos:
        print(f"  KDC             {KRB5_REALM:<15} 127.0.0.1:{rig.kdc_port()} (tcp+udp)")
    print(f"  env file: {d / 'rig.env'}")
    return 0


def cmd_stop(a) -> int:
    d = _abs_dir(a.dir)
    if not (d / "rig.json").exists():
        # nothing recorded; still kill any of our brokers that might be left
        for pidf in d.glob("n*/pid"):
            try:
                pid, node = int(pidf.read_text().strip()), int(pidf.parent.name[1:])
            except (OSError, ValueError):
                continue
            if _is_our_broker(pid, d, node):
                _signal(pid, signal.SIGKILL)
            pidf.unlink(missing_ok=True)
        stop_kdc(d)
        log(f"{d}: not running")
        return 0
    stop_rig(Rig.load(d))
    log(f"{d}: stopped (logs kept in {d}/n*/logs)")
    return 0


def cmd_node(a) -> int:
    rig = Rig.load(_abs_dir(a.dir))
    n = a.node
    if not 1 <= n <= rig.nodes:
        raise RigError(f"node must be 1..{rig.nodes}")
    pid = read_pid(rig, n)
    act = a.action
    if act == "start":
        if pid is not None:
            raise RigError(f"node {n} is already running (pid {pid})")
        touch_claim(rig)
        p = launch_node(rig, n)
        t0 = time.monotonic()
        try:
            wait_ready(rig, [n], {n: p}, need_all=False)
        except NodeFailed as e:
            tail_node_log(rig, n)
            if p.poll() is None:
                p.kill(); p.wait()
            rig.pid_file(n).unlink(missing_ok=True)
            raise
        log(f"node {n} ready (pid {p.pid}) in {time.monotonic() - t0:.1f}s")
    elif act in ("stop", "kill"):
        touch_claim(rig)
        if not terminate_node(rig, n, hard=(act == "kill")):
            log(f"node {n} was not running")
        else:
            log(f"node {n} {'killed' if act == 'kill' else 'stopped'}")
    elif act in ("pause", "resume"):
        if pid is None:
            raise RigError(f"node {n} is not running")
        _signal(pid, signal.SIGSTOP if act == "pause" else signal.SIGCONT)
        log(f"node {n} (pid {pid}) {act}d")
    elif act == "wait":
        if pid is None:
            raise RigError(f"node {n} is not running")
        wait_ready(rig, [n], {}, need_all=False, deadline_s=a.timeout)
        log(f"node {n} ready")
    return 0


def cmd_status(a) -> int:
    d = _abs_dir(a.dir)
    if not (d / "rig.json").exists():
        print(f"{d}: not started")
        return 1
    rig = Rig.load(d)
    print(f"{d}: Kafka {rig.version}, {rig.nodes} node(s), cluster {rig.cluster_id}, "
          f"ports {rig.base_port}-{rig.base_port + BLOCK_SIZE - 1}")
    rc = 0
    for n in range(1, rig.nodes + 1):
        pid = read_pid(rig, n)
        if pid is None:
            state, rc = "down", 1
        elif _proc_state(pid) == "T":
            state, rc = f"paused (pid {pid})", 1
        else:
            why = probe_node(rig, n, need_all=False)
            state = f"ready (pid {pid})" if why is None else f"running, not ready: {why} (pid {pid})"
            rc = rc or (0 if why is None else 1)
        print(f"  node {n}: {state}  PLAINTEXT 127.0.0.1:{rig.port(n, 'PLAINTEXT')}")
    if rig.kerberos:
        pid = kdc_pid(d)
        rc = rc or (0 if pid else 1)
        print(f"  KDC {KRB5_REALM}: {f'running (pid {pid})' if pid else 'down'}  127.0.0.1:{rig.kdc_port()}")
    return rc


def cmd_env(a) -> int:
    f = _abs_dir(a.dir) / "rig.env"
    if not f.exists():
        raise RigError(f"{f} does not exist (rig not started)")
    sys.stdout.write(f.read_text())
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="kafkarig.py", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fetch", help="download the broker jars into the cache")
    p.add_argument("--version")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("start", help="start a rig in DIR and wait until ready")
    p.add_argument("--dir", required=True)
    p.add_argument("--nodes", type=int, default=1, choices=(1, 3))
    p.add_argument("--version")
    p.add_argument("--heap", default="512m")
    p.add_argument("--kerberos", action="store_true",
                   help="also run a KDC and a GSSAPI listener (or ASIOKAFKA_RIG_KERBEROS=1)")
    p.set_defaults(func=cmd_start)
    p = sub.add_parser("stop", help="stop the rig in DIR, delete its data, keep logs")
    p.add_argument("--dir", required=True)
    p.set_defaults(func=cmd_stop)
    p = sub.add_parser("node", help="control one node")
    p.add_argument("--dir", required=True)
    p.add_argument("--node", type=int, required=True)
    p.add_argument("--timeout", type=float, default=START_DEADLINE_S, help="for 'wait'")
    p.add_argument("action", choices=("start", "stop", "kill", "pause", "resume", "wait"))
    p.set_defaults(func=cmd_node)
    p = sub.add_parser("status", help="show node states (exit 1 unless all ready)")
    p.add_argument("--dir", required=True)
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("env", help="print DIR/rig.env")
    p.add_argument("--dir", required=True)
    p.set_defaults(func=cmd_env)
    a = ap.parse_args(argv)
    try:
        return a.func(a)
    except RigError as e:
        print(f"kafkarig: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
