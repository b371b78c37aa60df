"""The driver registry: one record per driver, what ``racecheck backends`` prints, where errors resolve."""

from __future__ import annotations

import dataclasses

import pytest

import racecheck
from racecheck import drivers, faults
from racecheck.cli import main
from racecheck.config import RunConfig
from racecheck.errors import ConfigError

MISSING = drivers.Driver("nosuchdb", "racecheck_no_such_client_lib", "psycopg_driver", "nosuchdb",
                         "db_error", ("racecheck_no_such_client_lib.errors",))


def test_every_registered_driver_has_its_module_and_extra():
    names = [d.name for d in drivers.REGISTRY]
    assert len(names) == len(set(names))
    assert {"psycopg", "psycopg2", "asyncpg", "redis", "valkey"} <= set(names)
    for d in drivers.REGISTRY:
        assert d.fault in faults.ACTIONS
        assert callable(d.install)


def test_defaults_are_every_importable_driver_and_runs_install_all_registered():
    assert drivers.default_drivers() == ("psycopg", "psycopg2", "asyncpg", "redis", "valkey")
    assert RunConfig(target=lambda: None).drivers == drivers.DRIVERS


def test_a_missing_driver_is_listed_with_its_pip_line(monkeypatch, capsys):
    monkeypatch.setattr(drivers, "REGISTRY", (*drivers.REGISTRY, MISSING))
    text = drivers.describe_drivers()
    assert "psycopg2  instrumented" in text
    assert "nosuchdb  not installed: pip install 'racecheck[nosuchdb]'" in text
    assert "nosuchdb" not in drivers.default_drivers()
    assert main(["backends"]) == 0
    assert "not installed: pip install 'racecheck[nosuchdb]'" in capsys.readouterr().out


def test_a_driver_that_is_not_importable_installs_nothing(monkeypatch):
    monkeypatch.setattr(drivers, "BY_NAME", {**drivers.BY_NAME, MISSING.name: MISSING})
    drivers.install_drivers(["nosuchdb"])()  # no ImportError: skipped


def test_an_unknown_driver_name_is_refused():
    with pytest.raises(ConfigError, match="unknown driver"):
        drivers.install_drivers(["mysqlclient"])


def test_short_error_names_resolve_in_the_calling_drivers_modules_first():
    assert faults.resolve_error("db_error", "UniqueViolation").__module__ == "psycopg.errors"
    with drivers.calling("psycopg2"):
        assert faults.resolve_error("db_error", "UniqueViolation").__module__ == "psycopg2.errors"
    with drivers.calling("asyncpg"):
        cls = faults.resolve_error("db_error", "UniqueViolation")
        assert (cls.__module__, cls.__name__) == ("asyncpg.exceptions", "UniqueViolationError")
    with drivers.calling("valkey"):
        assert faults.resolve_error("redis_error", "ConnectionError").__module__ == "valkey.exceptions"
    assert faults.resolve_error("redis_error", "ConnectionError").__module__ == "redis.exceptions"


def test_a_name_no_driver_knows_is_refused_with_the_modules_searched():
    with pytest.raises(ConfigError, match="psycopg2.errors"):
        racecheck.db_error(error="NoSuchViolation")


def test_error_modules_come_from_the_registry(monkeypatch):
    extra = dataclasses.replace(MISSING, error_modules=("json",))
    monkeypatch.setattr(drivers, "REGISTRY", (*drivers.REGISTRY, extra))
    import json

    assert faults.resolve_error("db_error", "JSONDecodeError") is json.JSONDecodeError
