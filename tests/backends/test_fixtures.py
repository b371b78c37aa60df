"""The pytest fixtures, options and header, run in a child pytest (pytester)."""

from __future__ import annotations

import textwrap

INNER = textwrap.dedent('''
    import pytest

    def test_plain(race_redis, race_postgres):
        assert race_redis.emulated
        race_redis.client().set("k", "v")
        assert race_postgres.execute("select 1") == [(1,)]

    @pytest.mark.racecheck_real_redis
    def test_needs_real(race_redis):
        pass

    def test_needs_real_fixture(race_redis_real):
        pass
''')


def test_real_redis_marker_refuses_fakeredis(pytester):
    """On fakeredis a test marked racecheck_real_redis (or using race_redis_real) fails loudly; others run, labelled."""
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("--racecheck-providers=fakeredis,local", "-p", "no:xdist",
                                           "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=1, errors=2)
    out = result.stdout.str()
    assert "EMULATION" in out and "racecheck_real_redis" in out and "race_redis_real" in out
    assert "racecheck redis: not started; provider fakeredis [EMULATED]" in out


def test_header_names_provider_without_starting(pytester):
    """The header names the provider per kind and says "not started" when no backend fixture ran."""
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--racecheck-providers=embedded", "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "racecheck postgres: not started; provider embedded" in out
    assert "racecheck redis: not started; provider embedded" in out


def test_url_options_reach_the_fixtures(pytester):
    """--racecheck-postgres-url makes race_postgres use that server (racecheck-made database on it)."""
    from ._shared import SHARED_PG_URL

    pytester.makepyfile(test_u=textwrap.dedent('''
        def test_u(race_postgres):
            assert race_postgres.server.provider == "url"
            assert race_postgres.dbname.startswith("racecheck_")
    '''))
    result = pytester.runpytest_subprocess(f"--racecheck-postgres-url={SHARED_PG_URL}", "-p", "no:xdist")
    result.assert_outcomes(passed=1)
