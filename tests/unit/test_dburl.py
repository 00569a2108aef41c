"""Serving database URLs are read as libpq reads them (it ends the password at the first '@', and finds none when a
'/' comes first), refused with a message that shows no part of the password when a person would read them
differently, and masked wherever text is shown; the serving settings are checked."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from tradewatch import dburl
from tradewatch.errors import ConfigurationError
from tradewatch.redact import redact
from tradewatch.serving import connection
from tradewatch.settings import get_settings

HOST = "@db.example.org:5432/serving"


@pytest.mark.parametrize("written, password", [
    ("p%40ss", "p@ss"), ("p%25ss", "p%ss"), ("pa%2Fss", "pa/ss"), ("p%20ss", "p ss"), ("pa:ss", "pa:ss"),
    ("pa%3Ass", "pa:ss"), ("%25%40%3A%2F%20", "%@:/ ")])
def test_percent_encoded_passwords_are_read_as_written(written, password):
    parsed = dburl.check(f"postgresql://owner:{written}{HOST}", "X")
    assert parsed["password"] == password and parsed["user"] == "owner" and parsed["host"] == "db.example.org"


@pytest.mark.parametrize("password", ["Qx9@Zk7", "Qx9/Zk7", "Qx9%Zk7", "Qx9 Zk7", "Qx%@Zk/Ty W8"])
def test_unencoded_special_characters_are_refused_without_showing_them(password):
    url = f"postgresql://owner:{password}{HOST}"
    with pytest.raises(ConfigurationError, match="percent-encode") as caught:
        dburl.check(url, "TRADEWATCH_SERVING_URL")
    message = str(caught.value)
    assert "TRADEWATCH_SERVING_URL" in message
    for piece in {password, *password.replace("%", " ").replace("@", " ").replace("/", " ").split()}:
        assert piece not in message, piece


def test_libpq_and_python_disagree_where_the_check_says():
    assert dburl.libpq_parse("postgresql://u:p@ss@h/db")["host"] == "ss@h"  # libpq: the first '@'
    assert "password" not in dburl.libpq_parse("postgresql://u:pa/ss@h/db")  # '/' before '@': no user info at all


def test_every_form_of_the_password_is_masked_longest_first():
    url = "postgresql://owner:s3%40cret@h/db?sslpassword=k3y"
    secrets = dburl.secrets(url)
    assert {url, "s3@cret", "s3%40cret", "k3y"} <= set(secrets)
    assert secrets == sorted(secrets, key=len, reverse=True)
    assert redact(f"cannot connect to {url} as s3@cret", secrets) == "cannot connect to *** as ***"
    assert redact("invalid percent-encoded token: \"p%ss\"", dburl.secrets("postgresql://u:p%ss@h/db")) \
        == "invalid percent-encoded token: \"***\""


def test_the_serving_settings_are_checked(tmp_path):
    with pytest.raises(ConfigurationError, match="must be a postgresql://"):
        make_settings(tmp_path, TRADEWATCH_SERVING_URL="mysql://u:p@h/db")
    with pytest.raises(ConfigurationError, match="TRADEWATCH_SERVING_URL: libpq would read"):
        make_settings(tmp_path, TRADEWATCH_SERVING_URL="postgresql://u:p@ss@h/db")
    for variable in ("TRADEWATCH_SERVING_READER", "TRADEWATCH_SERVING_READER_GROUP"):
        for bad in ("Reader", "pg_reader", "x; drop role y"):
            with pytest.raises(ConfigurationError, match=variable):
                make_settings(tmp_path, **{variable: bad})
    with pytest.raises(ConfigurationError, match="is the reader login's own name"):
        make_settings(tmp_path, TRADEWATCH_SERVING_READER="same", TRADEWATCH_SERVING_READER_GROUP="same")
    with pytest.raises(ConfigurationError, match="less than TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS"):
        make_settings(tmp_path, TRADEWATCH_SERVING_LOCK_WAIT_SECONDS="60", TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS="30")
    with pytest.raises(ConfigurationError, match="0 for none"):
        make_settings(tmp_path, TRADEWATCH_SERVING_READER_IDLE_TIMEOUT_SECONDS="-1")
    serving = make_settings(tmp_path).serving
    assert (serving.reader_group, serving.lock_wait_seconds, serving.swap_timeout_seconds,
            serving.reader_idle_timeout_seconds, serving.reader_statement_timeout_seconds) == (
        "tradewatch_readers", 10.0, 60.0, 300, 600)


def test_an_airflow_connection_becomes_a_libpq_string_whose_password_is_masked(tmp_path):
    password = "a@b/c d%e:f'g"
    conn = {"host": "db.example.org", "port": 6432, "schema": "serving", "login": "owner", "password": password}
    settings = get_settings({"TRADEWATCH_DATA_DIR": str(tmp_path), "TRADEWATCH_SERVING_URL": "postgresql://x@h/d"},
                            connections=lambda conn_id: conn if conn_id == "tradewatch_serving" else None)
    target = connection.target(settings)
    parsed = dburl.libpq_parse(target.url.reveal())
    assert (parsed["password"], parsed["user"], parsed["host"], parsed["port"], parsed["dbname"]) == (
        password, "owner", "db.example.org", "6432", "serving")
    assert password in target.secrets
    assert password not in target.clean(RuntimeError(f"FATAL: password {password} for {target.url.reveal()}"))
