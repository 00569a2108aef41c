"""The PostgreSQL serving database under hostile conditions, against a real PostgreSQL server of its own that logs
every statement: readers that hold transactions open or keep the tables busy, readers that try to weaken their own
role, hostile role names, passwords that break URL parsing, and a failed role change. At the end, no password of any
role is in any file the server or the project wrote."""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.conftest import free_port, make_settings, running_postgres
from tests.reliability.conftest import scenario
from tests.serving.test_postgres_serving import build_marts
from tests.unit.test_alerts import ROWS, write_anomalies
from tradewatch import cli
from tradewatch.errors import TradewatchError
from tradewatch.serving import connection, publication, roles
from tradewatch.warehouse import connect

pytestmark = pytest.mark.slow  # the fault-injection suite: minutes, run by `make test` and CI

PASSWORDS: set[str] = set()  # every password of every role this module creates: no file may hold one
DATA_DIRS: list[Path] = []  # every data directory the project wrote in this module
FAST = {"TRADEWATCH_SERVING_LOCK_WAIT_SECONDS": "1", "TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS": "15"}
PROBE = ("SELECT (SELECT min(version) FROM marts.trade_monthly), (SELECT max(version) FROM marts.trade_monthly), "
         "(SELECT count(*) FROM marts.trade_monthly), (SELECT min(version) FROM marts.trade_balance_monthly), "
         "(SELECT count(*) FROM marts.publication)")


@pytest.fixture(scope="module")
def pg():
    """A server of this module's own that logs every statement (so a password sent in clear would be in its log)."""
    with running_postgres("log_statement=all", "log_min_error_statement=error") as server:
        PASSWORDS.add(server.password)
        yield server


@pytest.fixture(autouse=True)
def no_password_in_log_records(caplog):
    caplog.set_level(logging.INFO)
    yield
    leaked = [p for p in PASSWORDS if p in caplog.text]
    assert not leaked, f"a password reached a log record: {leaked}"


@dataclass
class Db:
    """A serving database owned by a role of its own (CREATEROLE, not a superuser), with unique role names."""

    server: object
    owner: str
    owner_password: str
    database: str
    reader: str
    group: str
    reader_password: str

    def url(self, user: str | None = None, password: str | None = None, database: str | None = None) -> str:
        user, password = user or self.owner, password or self.owner_password
        return (f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{self.server.host}:"
                f"{self.server.port}/{database or self.database}")

    def reader_url(self, user: str | None = None, password: str | None = None) -> str:
        return self.url(user or self.reader, password or self.reader_password)

    def env(self, **extra: str) -> dict[str, str]:
        return {"TRADEWATCH_SERVING_URL": self.url(), "TRADEWATCH_SERVING_READER": self.reader,
                "TRADEWATCH_SERVING_READER_GROUP": self.group,
                "TRADEWATCH_SERVING_READER_PASSWORD": self.reader_password, **extra}

    def settings(self, data_dir: Path, **extra: str):
        DATA_DIRS.append(data_dir)
        return make_settings(data_dir, **self.env(**extra))


def admin(pg):
    return psycopg.connect(pg.url(), autocommit=True)


def create_login(conn, name: str, password: str, *attributes: str) -> None:
    """A role made the way tradewatch makes them: the password sent as a SCRAM verifier."""
    PASSWORDS.add(password)
    conn.execute(f"CREATE ROLE {name} LOGIN {' '.join(attributes)}")
    roles.set_password(conn, name, password)


def new_db(pg, createrole: bool = True, owner_password: str | None = None) -> Db:
    suffix = uuid.uuid4().hex[:8]
    db = Db(pg, f"owner_{suffix}", owner_password or f"own-{suffix}-pw", f"serving_{suffix}", f"reader_{suffix}",
            f"readers_{suffix}", f"rd-{suffix}-pw")
    PASSWORDS.update((db.owner_password, db.reader_password))
    with admin(pg) as conn:
        create_login(conn, db.owner, db.owner_password, "CREATEROLE" if createrole else "")
        conn.execute(f"CREATE DATABASE {db.database} OWNER {db.owner}")
    return db


def published(pg, tmp_path, **extra: str):
    """A serving database after init and a first publication (version 1, 400 rows)."""
    db = new_db(pg)
    settings = db.settings(tmp_path / "data", **{**FAST, **extra})
    roles.init(connection.target(settings))
    build_marts(settings, 1, 400)
    publication.publish(settings)
    return db, settings


def run_cli(capsys, argv: list[str], env: dict[str, str], monkeypatch) -> tuple[int, str, str]:
    for name in [n for n in list(os.environ) if n.startswith("TRADEWATCH_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- publishing cannot be starved -----------------------------------------------------------------------------

def _idle_reader(db: Db, hostile: bool):
    """psycopg's default: a transaction opened by the first SELECT and left open (a notebook's connection)."""
    conn = psycopg.connect(db.reader_url(), application_name="notebook")
    if hostile:  # a reader may switch off, in its own session, the timeouts set on its role
        conn.execute("SET idle_in_transaction_session_timeout = 0")
        conn.execute("SET statement_timeout = 0")
    conn.execute("SELECT count(*) FROM marts.trade_monthly").fetchall()
    return conn


@scenario("Serving", "publish while a reader holds the live marts",
          "a reader idle in an open transaction (psycopg's default, or with its role's timeouts SET off in its "
          "session) is terminated and a long statement is cancelled once TRADEWATCH_SERVING_LOCK_WAIT_SECONDS has "
          "passed; publish succeeds within TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS and the log names who was cut")
@pytest.mark.parametrize("reader", ["idle in transaction", "idle in transaction, timeouts SET off",
                                    "a long statement"])
def test_publish_is_not_starved_by_a_reader(pg, tmp_path, caplog, reader):
    db, settings = published(pg, tmp_path)
    errors: list[BaseException] = []
    if reader == "a long statement":
        conn = psycopg.connect(db.reader_url(), autocommit=True, application_name="dashboard")
        conn.execute("SET statement_timeout = 0")

        def long_query() -> None:
            try:
                conn.execute("SELECT count(*), pg_sleep(60) FROM marts.trade_monthly").fetchall()
            except psycopg.Error as exc:
                errors.append(exc)

        worker = threading.Thread(target=long_query)
        worker.start()
        time.sleep(0.5)
    else:
        conn = _idle_reader(db, hostile="SET off" in reader)
    pid = conn.info.backend_pid
    build_marts(settings, 2, 900)
    started = time.monotonic()
    result = publication.publish(settings)
    elapsed = time.monotonic() - started
    assert elapsed < settings.serving.swap_timeout_seconds
    cut = [c for c in result["postgres"]["cut_sessions"] if c["pid"] == pid]
    assert cut and cut[0]["role"] == db.reader
    if reader == "a long statement":
        worker.join(timeout=10)
        assert cut[0]["action"] == "cancel" and isinstance(errors[0], psycopg.errors.QueryCanceled)
        assert "cancelled the statement of reader session" in caplog.text and "'dashboard'" in caplog.text
        assert conn.execute("SELECT 1").fetchall() == [(1,)]  # only its statement was cancelled
    else:
        assert cut[0]["action"] == "terminate" and cut[0]["state"] == "idle in transaction"
        assert f"terminated reader session pid {pid} (role {db.reader}, application 'notebook', idle in " \
               "transaction for" in caplog.text
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    conn.close()
    with psycopg.connect(db.reader_url()) as fresh:
        assert fresh.execute("SELECT count(*), min(version) FROM marts.trade_monthly").fetchall() == [(900, 2)]


@scenario("Serving", "publish after a staging longer than the swap's bound",
          "the readers' wait (TRADEWATCH_SERVING_LOCK_WAIT_SECONDS) and the swap's bound start at the swap, not when "
          "publishing starts: after a staging longer than the whole bound, a reader idle in a transaction on the "
          "live marts is waited for, then terminated, and publish succeeds")
def test_the_readers_wait_is_counted_from_the_swap_not_from_the_start_of_publishing(pg, tmp_path, monkeypatch):
    """Staging a large mart can take longer than the swap's whole time bound: the polite wait and the bound start
    when the swap does, so a reader holding the live marts still gets its wait, then is cut, and publish succeeds."""
    from tradewatch.serving import postgres

    db, settings = published(pg, tmp_path, TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS="3")
    stage = postgres._stage

    def slow_stage(*args, **kwargs):
        rows = stage(*args, **kwargs)
        time.sleep(4)  # longer than the 3 s bound
        return rows

    monkeypatch.setattr(postgres, "_stage", slow_stage)
    conn = _idle_reader(db, hostile=False)
    pid = conn.info.backend_pid
    build_marts(settings, 2, 900)
    result = publication.publish(settings)
    cut = [c for c in result["postgres"]["cut_sessions"] if c["pid"] == pid]
    assert cut and cut[0]["action"] == "terminate"
    conn.close()
    with psycopg.connect(db.reader_url()) as fresh:
        assert fresh.execute("SELECT count(*), min(version) FROM marts.trade_monthly").fetchall() == [(900, 2)]


@scenario("Serving", "another role's session is never cut",
          "a session of a role other than the readers that holds the live marts is never cancelled or terminated: "
          "publish fails within the bound with one line naming it (role, pid, application), readers keep the "
          "previous publication, and the next publish after it lets go succeeds")
def test_other_roles_sessions_are_never_cut(pg, tmp_path):
    db, settings = published(pg, tmp_path, TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS="4")
    with admin(pg) as conn:
        create_login(conn, f"analyst_{db.owner[6:]}", "an-" + db.owner_password)
    analyst = f"analyst_{db.owner[6:]}"
    with psycopg.connect(db.url()) as owner:
        owner.execute(f"GRANT USAGE ON SCHEMA marts TO {analyst}; GRANT SELECT ON ALL TABLES IN SCHEMA marts "
                      f"TO {analyst}; GRANT CONNECT ON DATABASE {db.database} TO {analyst}")
    holder = psycopg.connect(db.url(analyst, "an-" + db.owner_password), application_name="analyst-notebook")
    holder.execute("SELECT count(*) FROM marts.trade_monthly").fetchall()
    build_marts(settings, 2, 900)
    started = time.monotonic()
    with pytest.raises(TradewatchError) as caught:
        publication.publish(settings)
    assert time.monotonic() - started < 4 + 3
    message = str(caught.value)
    assert f"pid {holder.info.backend_pid} (role {analyst}, application 'analyst-notebook'" in message
    assert "never cut" in message and "\n" not in message
    assert holder.execute("SELECT count(*) FROM marts.trade_monthly").fetchall() == [(400,)]  # alive, untouched
    with psycopg.connect(db.reader_url()) as reader:
        assert reader.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'marts__%'").fetchall() == [(0,)]
        assert reader.execute("SELECT count(*), min(version) FROM marts.trade_monthly").fetchall() == [(400, 1)]
    holder.commit()
    publication.publish(settings)
    holder.close()


@dataclass
class ReaderLog:
    """What the busy readers saw: each statement's state (versions, counts), problems, and how often they were cut."""

    stop: threading.Event
    seen: set
    problems: list
    cut_off: int = 0
    statements: int = 0


def _one_statement(c, kind: str, log: ReaderLog) -> None:
    if kind == "autocommit":  # a dashboard: one statement after another
        log.seen.add(tuple(c.execute(PROBE).fetchall()[0]))
    elif kind == "notebook":  # two statements in one transaction, a pause between them
        first = tuple(c.execute(PROBE).fetchall()[0])
        time.sleep(0.2)
        if (second := tuple(c.execute(PROBE).fetchall()[0])) != first:
            log.problems.append(f"one transaction saw two publications: {first} then {second}")
        c.commit()
        log.seen.add(first)
    elif kind == "idle":  # psycopg's default: the transaction stays open
        log.seen.add(tuple(c.execute(PROBE).fetchall()[0]))
        log.stop.wait(30)
    else:  # a long query
        c.execute("SELECT count(*), pg_sleep(3) FROM marts.trade_monthly").fetchall()
        c.commit()
    log.statements += 1


def _busy_reader(db: Db, kind: str, log: ReaderLog) -> None:
    while not log.stop.is_set():
        try:
            with psycopg.connect(db.reader_url(), autocommit=kind == "autocommit", application_name=kind) as c:
                while not log.stop.is_set():
                    _one_statement(c, kind, log)
        except (psycopg.errors.QueryCanceled, psycopg.errors.AdminShutdown, psycopg.OperationalError):
            log.cut_off += 1  # cut by the publish: reconnect, as a BI tool does
        except psycopg.Error as exc:  # a missing table would land here
            log.problems.append(repr(exc))


@scenario("Serving", "six busy readers during repeated publishes",
          "with six reader connections (autocommit loops, notebook transactions, an idle transaction, long "
          "queries) every one of four publishes succeeds within the bound, and no reader statement ever sees a "
          "missing table or a mix of two publications (in one statement or across one transaction)")
def test_busy_readers_never_starve_publish_nor_see_a_mix(pg, tmp_path):
    db, settings = published(pg, tmp_path)
    sizes = {1: 400, 2: 900, 3: 250, 4: 700, 5: 300}
    log = ReaderLog(threading.Event(), set(), [])
    threads = [threading.Thread(target=_busy_reader, args=(db, kind, log)) for kind in
               ("autocommit", "autocommit", "notebook", "notebook", "idle", "long query")]
    for thread in threads:
        thread.start()
    time.sleep(1)
    took = []
    try:
        for version in (2, 3, 4, 5):
            build_marts(settings, version, sizes[version])
            started = time.monotonic()
            publication.publish(settings)
            took.append(time.monotonic() - started)
    finally:
        log.stop.set()
        for thread in threads:
            thread.join()
    assert all(t < settings.serving.swap_timeout_seconds for t in took), took
    assert log.problems == []
    assert log.statements > 50 and log.cut_off > 0
    valid = {(v, v, sizes[v], v, 1) for v in sizes}
    assert log.seen <= valid, log.seen - valid
    assert len(log.seen) >= 3  # the readers saw several publications come and go


@scenario("Serving", "other commands while publish waits for PostgreSQL",
          "while publish waits for a reader to let go of the live marts, the warehouse is not held: "
          "`tradewatch anomalies` answers and a writer opens it at once")
def test_the_warehouse_is_free_while_publish_waits(pg, tmp_path, monkeypatch, capsys):
    db, settings = published(pg, tmp_path, TRADEWATCH_SERVING_LOCK_WAIT_SECONDS="6")
    write_anomalies(settings, ROWS)
    reader = _idle_reader(db, hostile=False)
    build_marts(settings, 2, 900)
    outcome: list = []
    publisher = threading.Thread(target=lambda: outcome.append(publication.publish(settings)))
    publisher.start()
    with psycopg.connect(db.url(), autocommit=True) as owner:  # wait until the swap is waiting for its lock
        deadline = time.monotonic() + 30
        while not owner.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tradewatch publish' "
                                "AND query LIKE 'LOCK TABLE%%'").fetchall()[0][0]:
            assert time.monotonic() < deadline and publisher.is_alive()
            time.sleep(0.05)
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(settings.data_dir))
    assert cli.main(["anomalies", "--since", "2025-01"]) == 0
    assert "1 anomaly shown" in capsys.readouterr().out
    writer = connect(settings.duckdb_path, wait_seconds=0)  # a writer task: no waiting for the lock
    writer.execute("CREATE TABLE IF NOT EXISTS audit.touched AS SELECT 1 AS a")
    writer.close()
    assert publisher.is_alive()  # all this happened while publish was still waiting
    publisher.join(timeout=60)
    assert outcome and outcome[0]["postgres"]["cut_sessions"][0]["pid"] == reader.info.backend_pid
    reader.close()


# --- secrets never reach a log --------------------------------------------------------------------------------

@scenario("Security", "a failed role change leaves no password in the server log",
          "passwords go to PostgreSQL only as SCRAM-SHA-256 verifiers computed on the client: the server's log of a "
          "failed ALTER ROLE (owner without CREATEROLE) and of every statement holds none; `serving init` by that "
          "owner is one line; the reader logs in with its password")
def test_a_failed_role_change_leaves_no_password_in_the_server_log(pg, tmp_path, capsys, monkeypatch):
    weak = new_db(pg, createrole=False)
    code, out, err = run_cli(capsys, ["serving", "init"], weak.env(), monkeypatch)
    assert code == 2 and "may not create or change roles" in one_line(err) and "CREATEROLE" in err
    secret = f"victim-{uuid.uuid4().hex[:6]}-pw"
    PASSWORDS.add(secret)
    with admin(pg) as conn:
        conn.execute(f"CREATE ROLE victim_{weak.owner[6:]} LOGIN")
    with psycopg.connect(weak.url(), autocommit=True) as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        roles.set_password(conn, f"victim_{weak.owner[6:]}", secret)  # what init would send
    log = pg.log.read_text(errors="replace")
    failed = [line for line in log.splitlines() if f"ALTER ROLE \"victim_{weak.owner[6:]}\" PASSWORD" in line]
    assert any("STATEMENT:" in line for line in failed)  # the server did log the failed statement ...
    assert all("SCRAM-SHA-256$4096:" in line for line in failed)  # ... with a verifier in it
    assert secret not in log and weak.reader_password not in log

    db = new_db(pg)
    settings = db.settings(tmp_path / "ok")
    roles.init(connection.target(settings))
    with psycopg.connect(db.reader_url()) as reader:
        assert reader.execute("SELECT current_user").fetchall() == [(db.reader,)]


# --- hostile names ----------------------------------------------------------------------------------------------

def _role_state(pg, name: str):
    with admin(pg) as conn:
        return conn.execute(
            "SELECT rolsuper, rolcanlogin, rolinherit, rolcreaterole, rolconfig, shobj_description(oid, 'pg_authid'), "
            "ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid "
            "ORDER BY 1), ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.member "
            "WHERE m.roleid = r.oid ORDER BY 1) FROM pg_roles r WHERE rolname = %s", [name]).fetchall()


HOSTILE_NAMES = {
    "reader = the owner": (["serving", "init"], "TRADEWATCH_SERVING_READER", "{owner}", "names the owner"),
    "reader = a superuser": (["serving", "init"], "TRADEWATCH_SERVING_READER", "postgres", "names a superuser"),
    "reader = a role tradewatch did not create": (["serving", "init"], "TRADEWATCH_SERVING_READER", "{stranger}",
                                                  "tradewatch did not create it"),
    "group = the owner": (["serving", "init"], "TRADEWATCH_SERVING_READER_GROUP", "{owner}", "names the owner"),
    "group = a role tradewatch did not create": (["serving", "init"], "TRADEWATCH_SERVING_READER_GROUP",
                                                 "{stranger}", "tradewatch did not create it"),
    "add-reader of the owner": (["serving", "add-reader", "{owner}", "--password-stdin"], None, None,
                                "names the owner"),
    "add-reader of a superuser": (["serving", "add-reader", "postgres", "--password-stdin"], None, None,
                                  "names a superuser"),
    "add-reader of a role tradewatch did not create": (["serving", "add-reader", "{stranger}", "--password-stdin"],
                                                       None, None, "tradewatch did not create it"),
    "remove-reader of the owner": (["serving", "remove-reader", "{owner}"], None, None, "is not a reader login"),
    "remove-reader of the shared reader": (["serving", "remove-reader", "{reader}"], None, None,
                                           "is not a reader login"),
}


@scenario("Security", "hostile reader and group names",
          "`serving init`, `add-reader` and `remove-reader` refuse, with one line and exit 2, a reader or group "
          "name that is the owner, a superuser or any role tradewatch did not create (or the shared reader for "
          "remove-reader); the role is left exactly as it was and the owner still logs in and publishes")
@pytest.mark.parametrize("case", list(HOSTILE_NAMES))
def test_hostile_role_names_are_refused(pg, tmp_path, capsys, monkeypatch, case):
    db, settings = published(pg, tmp_path)
    stranger = f"bi_team_{db.owner[6:]}"
    with admin(pg) as conn:
        create_login(conn, stranger, f"bi-{db.owner_password}")
    argv, variable, value, expected = HOSTILE_NAMES[case]
    names = {"owner": db.owner, "stranger": stranger, "reader": db.reader}
    argv = [a.format(**names) for a in argv]
    env = db.env(**({variable: value.format(**names)} if variable else {}))
    target_name = (value.format(**names) if variable else argv[2])
    before = _role_state(pg, target_name)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-new-password-for-it\n"))
    code, out, err = run_cli(capsys, argv, env, monkeypatch)
    assert code == 2 and expected in one_line(err), err
    assert _role_state(pg, target_name) == before
    build_marts(settings, 2, 50)
    publication.publish(settings)  # the owner is untouched: it still logs in and publishes
    with psycopg.connect(db.reader_url()) as reader:
        assert reader.execute("SELECT count(*) FROM marts.trade_monthly").fetchall() == [(50,)]


# --- a reader cannot weaken itself -------------------------------------------------------------------------------

@scenario("Security", "readers cannot weaken their roles",
          "a reader that changes its own password or role settings is put back by the next publish; readers cannot "
          "connect to the owner's other databases or make temporary tables; per-user logins (add-reader, password "
          "on stdin) read but cannot write, and remove-reader ends their sessions")
def test_readers_cannot_weaken_their_roles(pg, tmp_path, capsys, monkeypatch):
    db = new_db(pg)
    other = f"other_{db.owner[6:]}"
    with admin(pg) as conn:
        conn.execute(f"CREATE DATABASE {other} OWNER {db.owner}")
    settings = db.settings(tmp_path / "data", **FAST)
    code, out, err = run_cli(capsys, ["serving", "init"], settings_env(db), monkeypatch)
    assert code == 0, err
    assert f"database {other} (yours): CONNECT and TEMPORARY revoked from PUBLIC" in out
    assert "WARNING database postgres: readers can still connect there" in out  # the superuser's: reported
    build_marts(settings, 1, 100)
    publication.publish(settings)

    hijacked = "hijacked-" + db.reader_password
    PASSWORDS.add(hijacked)
    with psycopg.connect(db.reader_url(), autocommit=True) as reader:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # read-only by default: ALTER ROLE too ...
            reader.execute(f"ALTER ROLE {db.reader} SET default_transaction_read_only = off")
        reader.execute("SET default_transaction_read_only = off")  # ... until the session says otherwise
        reader.execute(f"ALTER ROLE {db.reader} SET default_transaction_read_only = off")
        reader.execute(f"ALTER ROLE {db.reader} IN DATABASE {db.database} SET statement_timeout = 0")
        roles.set_password(reader, db.reader, hijacked)  # PostgreSQL lets a role change its own password
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("CREATE TEMP TABLE mine (a int)")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(db.reader_url())  # every BI user of the shared login is locked out ...
    publication.publish(settings)  # ... until the next publish puts the password and the settings back
    with psycopg.connect(db.reader_url()) as reader:
        assert reader.execute("SHOW default_transaction_read_only").fetchall() == [("on",)]
        assert reader.execute("SHOW statement_timeout").fetchall() == [("10min",)]
        assert reader.execute("SHOW idle_in_transaction_session_timeout").fetchall() == [("5min",)]
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(db.url(db.reader, db.reader_password, other))

    alice = f"alice_{db.owner[6:]}"
    alice_password = "Al1ce %@:/ pw-" + db.owner[6:]
    PASSWORDS.add(alice_password)
    monkeypatch.setattr("sys.stdin", io.StringIO(alice_password + "\n"))
    code, out, err = run_cli(capsys, ["serving", "add-reader", alice, "--password-stdin"], settings_env(db),
                             monkeypatch)
    assert code == 0 and f"created reader login {alice}" in out, err
    session = psycopg.connect(db.reader_url(alice, alice_password), autocommit=True)
    assert session.execute("SELECT count(*) FROM marts.trade_monthly").fetchall() == [(100,)]
    for statement in ("DELETE FROM marts.trade_monthly", "CREATE TABLE marts.x (a int)", "CREATE TEMP TABLE x (a int)"):
        session.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            session.execute(statement)
    code, out, err = run_cli(capsys, ["serving", "remove-reader", alice], settings_env(db), monkeypatch)
    assert code == 0 and f"dropped reader login {alice} (ended 1 session(s))" in out, err
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(db.reader_url(alice, alice_password))


def settings_env(db: Db) -> dict[str, str]:
    return db.env(**FAST)


# --- connection URLs ----------------------------------------------------------------------------------------------

SPECIAL = {"percent": "Zq%Xv-7", "at": "Zq@Xv-7", "colon": "Zq:Xv-7", "slash": "Zq/Xv-7", "space": "Zq Xv-7",
           "all of them": "Zq%@:/ Xv-7"}


@scenario("Security", "database URLs with special characters and broken connections",
          "TRADEWATCH_SERVING_URL is read the way libpq reads it: a password with %, @, :, / or a space works when "
          "percent-encoded; written unencoded it is refused before any connection, and no message shows it or any "
          "part of it; a refused port, a wrong password, an unknown host or a bad option give one line, exit 2")
@pytest.mark.parametrize("case", [*(f"password with {k}" for k in SPECIAL), "refused port", "wrong password",
                                  "unknown host", "bad option", "not a postgresql URL"])
def test_connection_urls_and_problems(pg, tmp_path, capsys, monkeypatch, case):
    if case.startswith("password with"):
        password = SPECIAL[case.removeprefix("password with ")] + uuid.uuid4().hex[:4]
        db = new_db(pg, owner_password=password)
        env = {**db.env(), "TRADEWATCH_DATA_DIR": str(tmp_path)}
        code, out, err = run_cli(capsys, ["serving", "init"], env, monkeypatch)
        assert code == 0 and "created role" in out, err
        raw = f"postgresql://{db.owner}:{password}@{pg.host}:{pg.port}/{db.database}"
        code, out, err = run_cli(capsys, ["serving", "init"], {**env, "TRADEWATCH_SERVING_URL": raw}, monkeypatch)
        if case == "password with colon":  # libpq reads "user:pa:ss@" as a person does: nothing to refuse
            assert code == 0, err
        else:
            assert code == 2 and "TRADEWATCH_SERVING_URL" in one_line(err)
            assert "percent-encode" in err
        for piece in (password, *password.replace("%", " ").replace("@", " ").replace(":", " ").replace(
                "/", " ").split()):
            assert piece not in out + err, piece
        return
    db = new_db(pg)
    env = {**db.env(), "TRADEWATCH_DATA_DIR": str(tmp_path)}
    url = {"refused port": db.url().replace(f":{pg.port}/", f":{free_port()}/"),
           "wrong password": db.url(password="not-" + db.owner_password),
           "unknown host": db.url().replace(pg.host, "serving-db.invalid"),
           "bad option": db.url() + "?sslmode=sometimes",
           "not a postgresql URL": "mysql://" + db.url().split("://", 1)[1]}[case]
    if case == "unknown host":  # no DNS query leaves the machine: the resolver answers "unknown" itself
        real = socket.getaddrinfo

        def resolve(host, *args, **kwargs):
            if host == "serving-db.invalid":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
    code, out, err = run_cli(capsys, ["serving", "init"], {**env, "TRADEWATCH_SERVING_URL": url}, monkeypatch)
    line = one_line(err)
    assert code == 2 and line.startswith("tradewatch:")
    assert db.owner_password not in out + err
    expected = {"refused port": "Connection refused", "wrong password": "password authentication failed",
                "unknown host": "serving-db.invalid", "bad option": "sslmode",
                "not a postgresql URL": "must be a postgresql://"}[case]
    assert expected in line


# --- the sweep ----------------------------------------------------------------------------------------------------

@scenario("Security", "no password in any file written",
          "after every scenario of this module (with the server logging every statement), no password of any role "
          "appears in any file the PostgreSQL server wrote (its log, its data directory) or the project wrote")
def test_no_password_in_any_file_written(pg, tmp_path):
    db, settings = published(pg, tmp_path)  # at least one full init + publish, even when run alone
    files = [p for root in (pg.root, *DATA_DIRS) if root.exists() for p in root.rglob("*") if p.is_file()]
    assert pg.log in files and len(files) > 100
    assert "LOG:  statement:" in pg.log.read_text(errors="replace")  # statements were logged
    leaks = [(str(path), secret) for path in files for secret in PASSWORDS if secret.encode() in _bytes(path)]
    assert leaks == []


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:  # a file the running server replaced meanwhile (pg_internal.init, a temp file)
        return b""
