"""Shared fixtures. Nothing here reaches any address but 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tradewatch.settings import Settings, get_settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Real publisher answers (public documents), each with a `.txt` note beside it saying where it came from.
REAL_SAMPLES = REPO_ROOT / "tests" / "fixtures" / "real"

SMALL_START, SMALL_END = date(2023, 1, 1), date(2025, 6, 1)


def make_settings(data_dir: Path, **overrides: str) -> Settings:
    env = {
        "TRADEWATCH_DATA_DIR": str(data_dir),
        "TRADEWATCH_START_MONTH": "2024-01",
        "TRADEWATCH_HTTP_BACKOFF_SECONDS": "0.01",
        "TRADEWATCH_HTTP_MIN_INTERVAL_SECONDS": "0",
        **overrides,
    }
    return get_settings(env)


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> Path:
    """The sample archive for 2023-01 .. 2025-06, written once per test session (read-only by convention)."""
    from tradewatch.sample import write_sample_archive

    root = tmp_path_factory.mktemp("archive")
    write_sample_archive(root, SMALL_START, SMALL_END)
    return root


@pytest.fixture
def archive_copy(small_archive: Path, tmp_path: Path) -> Path:
    """A private copy of the small archive that a test may change."""
    target = tmp_path / "archive"
    shutil.copytree(small_archive, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, small_archive: Path) -> Settings:
    return make_settings(tmp_path / "data", TRADEWATCH_ARCHIVE_DIR=str(small_archive))


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke read timeouts)
    truncate: bool = False  # promise more bytes than are sent, then close


@dataclass
class FakePublisher:
    """A local HTTP server that answers with a scripted sequence of replies and records every request."""

    replies: list[Reply]
    requests: list[str] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    base_url: str = ""

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def fake_publisher() -> Iterator[callable]:
    servers: list[ThreadingHTTPServer] = []

    def start(*replies: Reply) -> FakePublisher:
        publisher = FakePublisher(list(replies))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                publisher.bodies.append(self.rfile.read(length))
                self.do_GET()

            def do_GET(self) -> None:  # noqa: N802
                publisher.requests.append(self.path)
                publisher.headers_seen.append(dict(self.headers))
                reply = publisher.next_reply()
                if reply.delay:
                    threading.Event().wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                length = len(reply.body) + (100 if reply.truncate else 0)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if reply.truncate:
                    self.close_connection = True

        publisher.base_url = f"http://127.0.0.1:{serve_in_thread(Handler, servers)}"
        return publisher

    yield start
    stop_servers(servers)


def serve_in_thread(handler: type[BaseHTTPRequestHandler], registry: list[ThreadingHTTPServer]) -> int:
    """Serve `handler` on 127.0.0.1 and a free port in a daemon thread; returns the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    registry.append(server)
    return server.server_address[1]


def stop_servers(registry: list[ThreadingHTTPServer]) -> None:
    for server in registry:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpInbox:
    """What a local SMTP server received: (sender, recipients, raw message) per mail."""

    host: str = "127.0.0.1"
    port: int = 0
    mails: list[tuple[str, list[str], bytes]] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[SmtpInbox]:
    """A minimal SMTP server on 127.0.0.1 (EHLO, MAIL, RCPT, DATA, QUIT; no TLS, no auth) that keeps every mail."""
    import socketserver

    inbox = SmtpInbox()

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self) -> None:
            sender, recipients = "", []
            self.reply("220 localhost test SMTP")
            while line := self.rfile.readline():
                command = line.decode().strip()
                verb = command.split(" ")[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 localhost")
                elif verb == "MAIL":
                    sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[1].strip(" <>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk
                    inbox.mails.append((sender, recipients, data))
                    self.reply("250 OK queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    inbox.port = server.server_address[1]
    yield inbox
    server.shutdown()
    server.server_close()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for a receiver that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def system_tool_missing(what: str) -> None:
    """Skip on a developer machine without a Debian package a test needs; fail in CI, which installs them."""
    if os.environ.get("TRADEWATCH_CI"):
        pytest.fail(f"{what} is not installed; .ci/run installs it with apt-get")
    pytest.skip(f"{what} is not installed (apt-get install it, or run .ci/run)")


@dataclass
class PostgresServer:
    host: str
    port: int
    superuser: str
    password: str
    root: Path | None = None  # the server's directory: data/ and server.log (everything the server writes)

    def url(self, user: str | None = None, password: str | None = None, dbname: str = "postgres") -> str:
        return f"postgresql://{user or self.superuser}:{password or self.password}@{self.host}:{self.port}/{dbname}"

    @property
    def log(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"


def _postgres_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


@contextmanager
def running_postgres(*settings: str) -> Iterator[PostgresServer]:
    """A real PostgreSQL server (the Debian package's binaries) on 127.0.0.1 and a free port, password auth;
    `settings` are extra `name=value` server settings (e.g. log_statement=all)."""
    import subprocess
    import tempfile

    bindir = _postgres_bin()
    if bindir is None:
        system_tool_missing("PostgreSQL (postgresql)")
    root = Path(tempfile.mkdtemp(prefix="tw-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the package's postgres user
        shutil.chown(root, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    password = "super-secret-pg"
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if run_as:
        shutil.chown(pwfile, "postgres", "postgres")
    port = free_port()
    try:
        subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres",
                        f"--pwfile={pwfile}", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
                        "--no-instructions"], check=True, capture_output=True)
    finally:
        pwfile.unlink()  # the server keeps a SCRAM verifier; no file of the server's directory holds the password
    options = " ".join([f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off",
                        *(f"-c {setting}" for setting in settings)])
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", options, "-l",
                    str(root / "server.log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield PostgresServer("127.0.0.1", port, "postgres", password, root)
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (see running_postgres)."""
    with running_postgres() as server:
        yield server


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    system_tool_missing("Chromium (chromium)")
    return ""
