# SPDX-License-Identifier: MIT
"""A private PostgreSQL cluster for the team-mode tests.

initdb and pg_ctl (the server binaries of Debian's postgresql package, found
through `pg_config --bindir`) run as an unprivileged user: PostgreSQL refuses
to run as root, and CI runs as root, so there the cluster belongs to `nobody`
(runuser). The cluster lives in a temporary folder, listens on no TCP port at
all (listen_addresses is empty) but on a unix socket in that folder, with a
private port number naming the socket, and trusts local connections. It is
always stopped and removed: at exit, on SIGTERM (meson's timeout) and when
the test fails.
"""
import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

USER = "skillmeat"  # the database superuser initdb creates


def _bindir():
    try:
        return subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"FAIL: pg_config (libpq-dev) is missing: {e}; run tools/deps.sh")


def _free_port():
    # a number no other cluster on this machine uses for its socket name
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        self.bindir = _bindir()
        for prog in ("initdb", "pg_ctl", "postgres", "psql"):
            if not os.access(os.path.join(self.bindir, prog), os.X_OK):
                sys.exit(f"FAIL: {prog} not in {self.bindir}: run tools/deps.sh (postgresql)")
        self.dir = tempfile.mkdtemp(prefix="sm-pg-")
        os.chmod(self.dir, 0o700)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.port = _free_port()
        self.running = False
        self.as_user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "nobody", "--"]
        atexit.register(self.stop)
        prev = signal.getsignal(signal.SIGTERM)

        def on_term(signum, frame):
            self.stop()
            if callable(prev):
                prev(signum, frame)
            sys.exit(1)

        signal.signal(signal.SIGTERM, on_term)
        self._run("initdb", "-D", self.data, "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self.start()

    def _run(self, prog, *args):
        p = subprocess.run(self.as_user + [os.path.join(self.bindir, prog), *args],
                           capture_output=True, text=True, timeout=120, cwd=self.dir)
        if p.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log, errors="replace") as f:
                    log = f.read()[-2000:]
            raise RuntimeError(f"{prog} {' '.join(args)} -> {p.returncode}: "
                               f"{p.stdout}{p.stderr}{log}")
        return p.stdout

    def start(self):
        opts = f"-k {self.dir} -p {self.port} -c listen_addresses=''"
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "60",
                  "start")
        self.running = True

    def stop(self, remove=True):
        if self.running:
            self.running = False
            try:
                self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")
            except Exception:
                subprocess.run(self.as_user + [os.path.join(self.bindir, "pg_ctl"), "-D",
                                               self.data, "-m", "immediate", "stop"],
                               capture_output=True, timeout=60)
        if remove and self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def restart(self):
        self.stop(remove=False)
        self.start()

    def url(self, db):
        return f"postgresql:///{db}?host={self.dir}&port={self.port}&user={USER}"

    def psql(self, sql, db="postgres"):
        p = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port),
                            "-U", USER, "-d", db],
                           input=sql, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"psql: {p.stderr}")
        return p.stdout

    def createdb(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)
