"""The roles of the PostgreSQL serving database: who may read the marts, and nothing more.

`init` (`tradewatch serving init`: idempotent, one transaction):
- a NOLOGIN group role (TRADEWATCH_SERVING_READER_GROUP, default tradewatch_readers) holds every read grant:
  CONNECT on the serving database, USAGE on `marts`, SELECT on its tables. PUBLIC loses CONNECT and TEMPORARY on
  the serving database, and on the other databases the owner owns (unless the owner is a superuser, which owns the
  server's own databases: those are reported, not changed);
- the shared login TRADEWATCH_SERVING_READER (tradewatch_reader) and, optionally, one login per user (`add_reader`)
  are members of it, with default_transaction_read_only, idle_in_transaction_session_timeout and statement_timeout
  set on the role (a reader may change these for itself: every publish puts them back, and the publish does not
  rely on them, see tradewatch.serving.postgres);
- the owner (the role of TRADEWATCH_SERVING_URL) is made a member of each reader login: PostgreSQL lets a role
  cancel or terminate the sessions of the roles it is a member of, and this is all publishing needs to cut readers
  that block it (pg_signal_backend would reach every non-superuser session on the server).
Every role tradewatch creates carries a COMMENT saying so. A reader or group name that is the owner, a superuser or
an existing role without that comment is refused (except the reader an earlier version created, recognised by the
USAGE on `marts` the owner granted it, which is adopted). Passwords go to the server only as SCRAM-SHA-256 verifiers
computed here by libpq: the server logs a failed CREATE or ALTER ROLE whole, and such a log must hold no password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradewatch.errors import ConfigurationError, TradewatchError
from tradewatch.settings import ROLE_NAME_RULE, ServingSettings, is_role_name

if TYPE_CHECKING:
    from tradewatch.serving.connection import Target

log = logging.getLogger(__name__)

SCHEMA = "marts"
#: the COMMENT on every role tradewatch creates: MARK + kind + what manages it
MARK = "tradewatch serving: "
GROUP, SHARED, USER = "reader group", "shared reader login", "reader login of one user"
COMMENTS = {
    GROUP: f"{MARK}{GROUP} (holds the read grants on schema marts; managed by `tradewatch serving init`)",
    SHARED: f"{MARK}{SHARED} (read-only; managed by `tradewatch serving init`)",
    USER: f"{MARK}{USER} (read-only; managed by `tradewatch serving add-reader` and `remove-reader`)",
}


@dataclass(frozen=True)
class _Role:
    oid: int
    name: str
    superuser: bool
    createrole: bool
    comment: str | None

    @property
    def kind(self) -> str | None:
        """What tradewatch created this role as (from its COMMENT); None for a role tradewatch did not create."""
        rest = (self.comment or "").removeprefix(MARK)
        if rest == (self.comment or ""):
            return None
        return next((kind for kind in (GROUP, SHARED, USER) if rest.startswith(kind)), None)


_ROLE_QUERY = ("SELECT oid, rolname, rolsuper, rolcreaterole, shobj_description(oid, 'pg_authid') FROM pg_roles "
               "WHERE rolname = ")


def _role(conn, name: str) -> _Role | None:
    rows = conn.execute(_ROLE_QUERY + "%s", [name]).fetchall()
    return _Role(*rows[0]) if rows else None


def owner_role(conn) -> _Role:
    """The role this connection logged in as: the owner of the serving database."""
    return _Role(*conn.execute(_ROLE_QUERY + "current_user").fetchall()[0])


def _require_createrole(me: _Role) -> None:
    if not (me.superuser or me.createrole):
        raise ConfigurationError(f"the owner role {me.name} (TRADEWATCH_SERVING_URL) may not create or change roles: "
                                 f"as a superuser, run ALTER ROLE {me.name} CREATEROLE, then try again (nothing was "
                                 "changed)")


def _check_name(conn, me: _Role, name: str, kind: str, label: str, adopt_legacy: bool = False) -> _Role | None:
    """The existing role `name` if tradewatch created it as `kind` (None if there is none); refuses the owner, a
    superuser, a role of another kind and any role tradewatch did not create."""
    if not is_role_name(name):
        raise ConfigurationError(f"{label}: {ROLE_NAME_RULE}")
    if name == me.name:
        raise ConfigurationError(f"{label} names the owner of the serving database (the role of "
                                 "TRADEWATCH_SERVING_URL): a reader must be a role of its own; choose another name")
    role = _role(conn, name)
    if role is None:
        return None
    if role.superuser:
        raise ConfigurationError(f"{label} names a superuser: a reader must be a role that can only read; choose "
                                 "another name")
    if role.kind == kind:
        return role
    if role.kind is not None:
        raise ConfigurationError(f"{label} names tradewatch's {role.kind}, not a {kind}; choose another name")
    if adopt_legacy and _is_legacy_reader(conn, role):
        return role
    raise ConfigurationError(f"{label}: role {name} exists and tradewatch did not create it (it lacks tradewatch's "
                             "COMMENT), so it is left alone; choose another name, or drop that role")


def _is_legacy_reader(conn, role: _Role) -> bool:
    """The reader an earlier tradewatch created: a role the owner itself granted USAGE on schema marts."""
    return bool(conn.execute(
        "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = %s AND a.grantee = %s::oid "
        "AND a.grantor = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND a.privilege_type = 'USAGE'",
        [SCHEMA, role.oid]).fetchall()[0][0])


def _mark(conn, name: str, kind: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(sql.Identifier(name), sql.Literal(COMMENTS[kind])))


def scram_verifier(conn, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of `password` for `role`, computed here by libpq (PQencryptPasswordConn)."""
    return conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def set_password(conn, role: str, password: str) -> None:
    """The one place a password goes to the server: as a verifier, never in clear, so that the statement (logged
    whole by the server if it fails) cannot reveal it."""
    from psycopg import sql

    conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role),
                                                            sql.Literal(scram_verifier(conn, role, password))))


def _create_login(conn, name: str, kind: str, password: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("CREATE ROLE {} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE").format(
        sql.Identifier(name)))
    _mark(conn, name, kind)
    set_password(conn, name, password)


def _setup_login(conn, me: _Role, name: str, serving: ServingSettings) -> None:
    """A reader login as it must be: LOGIN INHERIT, none of CREATEDB/CREATEROLE, a member of the group, the owner a
    member of it (to cancel its sessions), the read-only default and the timeouts, no per-database settings."""
    from psycopg import sql

    role = sql.Identifier(name)
    inherit, login, createdb, createrole = conn.execute(
        "SELECT rolinherit, rolcanlogin, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s",
        [name]).fetchall()[0]
    fixes = [word for wrong, word in ((not inherit, "INHERIT"), (not login, "LOGIN"), (createdb, "NOCREATEDB"),
                                      (createrole, "NOCREATEROLE")) if wrong]
    if fixes:
        conn.execute(sql.SQL("ALTER ROLE {} " + " ".join(fixes)).format(role))
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(serving.reader_group), role))
    if not me.superuser:
        with_options = " WITH INHERIT TRUE, SET FALSE" if conn.info.server_version >= 160000 else ""
        conn.execute(sql.SQL("GRANT {} TO {}" + with_options).format(role, sql.Identifier(me.name)))
    for parameter, value in (("default_transaction_read_only", "on"),
                             ("idle_in_transaction_session_timeout", f"{serving.reader_idle_timeout_seconds}s"),
                             ("statement_timeout", f"{serving.reader_statement_timeout_seconds}s")):
        conn.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(role, sql.Identifier(parameter),
                                                                sql.Literal(value)))
    for (database,) in conn.execute(  # a reader may have set its own defaults for one database: they would win
            "SELECT d.datname FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
            "JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = %s", [name]).fetchall():
        conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} RESET ALL").format(role, sql.Identifier(database)))


def reader_logins(conn, group: str) -> list[tuple[int, str]]:
    """(oid, name) of every login tradewatch created as a reader and made a member of `group`."""
    return [tuple(row) for row in conn.execute(
        "SELECT r.oid, r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
        "JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = %s AND NOT r.rolsuper AND r.rolname <> current_user "
        "AND (starts_with(shobj_description(r.oid, 'pg_authid'), %s) "
        "OR starts_with(shobj_description(r.oid, 'pg_authid'), %s)) ORDER BY r.rolname",
        [group, MARK + SHARED, MARK + USER]).fetchall()]


def require_group(conn, serving: ServingSettings) -> None:
    group = _role(conn, serving.reader_group)
    if group is None or group.kind != GROUP:
        raise TradewatchError(f"the serving database has no reader group {serving.reader_group} (and so no reader "
                              "role): run `tradewatch serving init` once (it creates the schema and the read-only "
                              "roles)")


def _database_access(conn, me: _Role, group: str) -> list[str]:
    """CONNECT on the serving database for the group only, no temporary tables; PUBLIC's CONNECT and TEMPORARY
    revoked on the other databases the owner owns; the databases where readers can still connect, reported."""
    from psycopg import sql

    database = conn.execute("SELECT current_database()").fetchall()[0][0]
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database),
                                                                     sql.Identifier(group)))
    conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
    done = [f"database {database}: CONNECT for {group} only (revoked from PUBLIC), no temporary tables"]
    for name, owner, mine in conn.execute(
            "SELECT datname, pg_get_userbyid(datdba), datdba = %s::oid FROM pg_database WHERE datallowconn AND "
            "datname <> current_database() AND has_database_privilege(%s, datname, 'CONNECT') ORDER BY 1",
            [me.oid, group]).fetchall():
        if mine and not me.superuser:
            conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
            done.append(f"database {name} (yours): CONNECT and TEMPORARY revoked from PUBLIC, so readers cannot "
                        "connect to it; grant CONNECT to any other role that needs it")
        else:
            done.append(f"WARNING database {name}: readers can still connect there (CONNECT is granted to PUBLIC "
                        f"and only its owner {owner} may revoke it): see 'Other databases' in docs/serving.md")
    return done


def grant(conn, schema: str, group: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(group)))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema),
                                                                               sql.Identifier(group)))


def init(target: Target) -> list[str]:
    """Create the marts schema, the reader group and the shared reader login (idempotent). Returns what was done."""
    from psycopg import sql

    serving = target.serving
    done: list[str] = []
    with target.errors("serving init"), target.connect() as conn:
        me = owner_role(conn)
        _require_createrole(me)
        group = _check_name(conn, me, serving.reader_group, GROUP,
                            f"TRADEWATCH_SERVING_READER_GROUP={serving.reader_group}")
        reader = _check_name(conn, me, serving.reader_role, SHARED, f"TRADEWATCH_SERVING_READER={serving.reader_role}",
                             adopt_legacy=True)
        password = serving.reader_password.reveal()
        if reader is None and not password:
            raise ConfigurationError("TRADEWATCH_SERVING_READER_PASSWORD is not set: the read-only role "
                                     f"{serving.reader_role} needs a password to log in (nothing was changed)")
        if group is None:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOINHERIT").format(sql.Identifier(serving.reader_group)))
            done.append(f"created role {serving.reader_group} (NOLOGIN: holds the read grants)")
        _mark(conn, serving.reader_group, GROUP)
        if reader is None:
            _create_login(conn, serving.reader_role, SHARED, password or "")
            done.insert(0, f"created role {serving.reader_role}")
        else:
            if reader.kind is None:
                done.append(f"adopted role {serving.reader_role}, the reader an earlier tradewatch created")
                _mark(conn, serving.reader_role, SHARED)
                _revoke_direct_grants(conn, serving.reader_role)
            if password:
                set_password(conn, serving.reader_role, password)
                done.insert(0, f"set the password of role {serving.reader_role}")
        logins = sorted({name for _, name in reader_logins(conn, serving.reader_group)} | {serving.reader_role})
        for name in logins:
            _setup_login(conn, me, name, serving)
        done += _database_access(conn, me, serving.reader_group)
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(sql.Identifier(serving.reader_group)))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
        grant(conn, SCHEMA, serving.reader_group)
        conn.commit()
    done.append(f"schema {SCHEMA}: USAGE and SELECT for {serving.reader_group}; reader logins "
                f"({', '.join(logins)}): read-only by default, idle "
                f"transactions ended after {serving.reader_idle_timeout_seconds} s, statements after "
                f"{serving.reader_statement_timeout_seconds} s (0: never), nothing on public")
    return done


def _revoke_direct_grants(conn, name: str) -> None:
    """An earlier tradewatch granted the reader itself; the group holds the grants now."""
    from psycopg import sql

    role = sql.Identifier(name)
    database = sql.Identifier(conn.execute("SELECT current_database()").fetchall()[0][0])
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(database, role))
    conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(sql.Identifier(SCHEMA), role))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(sql.Identifier(SCHEMA), role))


def add_reader(target: Target, name: str, password: str) -> list[str]:
    """A read-only login for one user, in the reader group; run again to give it a new password."""
    serving = target.serving
    if not password:
        raise ConfigurationError(f"reader {name}: the password is empty")
    if name in (serving.reader_role, serving.reader_group):
        raise ConfigurationError(f"{name} is the shared reader login or the reader group (TRADEWATCH_SERVING_READER"
                                 "/_GROUP), managed by `tradewatch serving init`; choose another name")
    with target.errors("serving add-reader"), target.connect() as conn:
        me = owner_role(conn)
        _require_createrole(me)
        require_group(conn, serving)
        existing = _check_name(conn, me, name, USER, f"reader {name}")
        if existing is None:
            _create_login(conn, name, USER, password)
        else:
            set_password(conn, name, password)
        _setup_login(conn, me, name, serving)
        conn.commit()
    return [f"{'created reader login' if existing is None else 'set a new password for reader'} {name} "
            f"(a member of {serving.reader_group}: SELECT on schema {SCHEMA}, read-only)"]


def remove_reader(target: Target, name: str) -> list[str]:
    """Drop a login made by `add_reader`, ending its sessions first. Any other role is refused."""
    from psycopg import sql

    with target.errors("serving remove-reader"), target.connect() as conn:
        me = owner_role(conn)
        _require_createrole(me)
        role = _role(conn, name)
        if role is None or role.kind != USER:
            raise ConfigurationError(f"{name} is not a reader login made by `tradewatch serving add-reader`"
                                     f"{'' if role else ' (no such role)'}; nothing was changed")
        ended = conn.execute("SELECT pid, application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE usesysid = %s::oid", [role.oid]).fetchall()
        for pid, application, _ in ended:
            log.warning("remove-reader: terminated session pid %d of %s (application %r)", pid, name, application)
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
        conn.commit()
    return [f"dropped reader login {name}" + (f" (ended {len(ended)} session(s))" if ended else "")]


def enforce(conn, me: _Role, serving: ServingSettings) -> None:
    """At each publish, put every reader login back as `init` left it (a reader may ALTER its own role: settings,
    password) and the shared login's password back to TRADEWATCH_SERVING_READER_PASSWORD when it is set."""
    if not (me.superuser or me.createrole):
        log.warning("the owner role %s lacks CREATEROLE: the reader roles' settings were not checked", me.name)
        return
    with conn.transaction():
        for _oid, name in reader_logins(conn, serving.reader_group):
            _setup_login(conn, me, name, serving)
        password = serving.reader_password.reveal()
        shared = _role(conn, serving.reader_role)
        if password and shared is not None and shared.kind == SHARED:
            set_password(conn, serving.reader_role, password)
