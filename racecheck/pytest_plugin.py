"""The pytest plugin: a ``race`` fixture, a ``racecheck`` marker, options and a report section.

Thin by design: it only turns options into defaults for :func:`racecheck.run` and
shows the failing trial's timeline in the test report.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from .pytest_options import INCONCLUSIVE_MODES, OPTIONS, InconclusiveWarning, setting


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("racecheck", "racecheck: concurrency testing")
    for name, (ini, typ, default, help_) in OPTIONS.items():
        group.addoption(f"--racecheck-{name.replace('_', '-')}", dest=ini, type=typ, default=None, help=help_)
        parser.addini(ini, help=help_, default=None if default is None else str(default))
    try:
        from .backends.pytest_fixtures import add_backend_options
    except ImportError:
        return
    add_backend_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "racecheck(**options): defaults for race.run in this test (n, trials, strategy, mode, timeout, ...)",
    )
    try:
        from .backends.pytest_fixtures import backend_configure
    except ImportError:
        return
    backend_configure(config)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the backends the session actually used (which provider, emulated or real)."""
    from .pytest_backends import session_lines

    lines = session_lines(terminalreporter.config)
    if lines:
        terminalreporter.write_sep("-", "racecheck backends")
        from .redact import redact

        for line in lines:
            terminalreporter.write_line(redact(line))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    from .pytest_backends import junit_properties, send_to_controller

    send_to_controller(session)
    junit_properties(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from .pytest_backends import receive_from_worker

    receive_from_worker(node.config, node)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from . import __version__

    parts = [f"racecheck {__version__}"]
    for name in ("strategy", "trials", "seed"):
        v = setting(config, name)
        if v is not None:
            parts.append(f"{name}={v}")
    lines = [", ".join(parts)]
    try:
        from .backends.pytest_fixtures import backend_header_lines
    except ImportError:
        return lines
    from .redact import redact

    return lines + [redact(line) for line in backend_header_lines(config)]


class Race:
    """The ``race`` fixture: collects spies and faults, then runs races with the test's defaults."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request
        self.spies: list[Any] = []
        self.faults: list[Any] = []
        self.results: list[Any] = []
        self.replays: list[str] = []  # "reproduced k/K" per --racecheck-replay run
        self.owned: list[Any] = []  # results whose verdict this fixture judges at the end of the test
        marker = request.node.get_closest_marker("racecheck")
        self.marker_defaults: dict[str, Any] = dict(marker.kwargs) if marker else {}

    def spy(self, target: str, key: Any = None, name: str | None = None, section: bool = False) -> Race:
        """Spy on ``"pkg.mod:func"`` in every run of this test; each call becomes an effect.

        Args:
            target: ``"package.module:function"``.
            key: argument name(s) identifying one effect (``"session_id,sha"``) or a callable.
            name: the effect's name in invariants (default: the function's name).
            section: each call is also a critical section of that name (``mutual_exclusion``).
        """
        from .spy import spy

        self.spies.append(spy(target, key, name, section))
        return self

    def fault(self, *faults: Any) -> Race:
        """Inject these faults (``racecheck.crash(...)``, ``db_error(...)``, ...) in every run of this test."""
        self.faults.extend(faults)
        return self

    def _backends(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fixture, name in (("race_postgres", "postgres"), ("race_redis", "redis")):
            if fixture in self.request.fixturenames:
                out[name] = self.request.getfixturevalue(fixture)
        return out

    def options(self, **kwargs: Any) -> dict[str, Any]:
        # Precedence: race.run(...) arguments > command-line options > the marker > ini values.
        config = self.request.config
        opts: dict[str, Any] = {}
        for name in ("trials", "strategy", "seed", "timeout"):
            ini = OPTIONS[name][0]
            raw = config.getini(ini)
            if raw not in (None, "", []):
                opts[name] = OPTIONS[name][1](raw)
        opts.update(self.marker_defaults)
        for name in ("trials", "strategy", "seed", "timeout"):
            v = config.getoption(OPTIONS[name][0], default=None)
            if v is not None:
                opts[name] = v
        opts.update(kwargs)
        opts["spies"] = list(self.spies) + list(opts.get("spies", []))
        opts["faults"] = list(self.faults) + list(opts.get("faults", []))
        backends = self._backends()
        backends.update(opts.get("backends", {}))
        opts["backends"] = backends
        opts.setdefault("name", self.request.node.name)
        opts.setdefault("replay_hint", f"pytest '{self.request.node.nodeid}' --racecheck-replay='{{schedule}}'")
        return opts

    def run(self, target: Callable[..., Any] | str, **kwargs: Any) -> Any:
        """Run a race with this test's defaults; with --racecheck-replay, replay that schedule instead.

        Takes every option of [RunConfig][racecheck.config.RunConfig]; the ``racecheck``
        marker and the ``--racecheck-*`` options set defaults. Saved failing schedules of
        this test (the [example database](../example-database.md)) are replayed first.

        The fixture owns the verdict: a result whose violation, or whose inconclusive or error
        verdict, the test never looked at fails the test (docs/verdicts.md says what counts as
        looking); ``check=False`` (here or in the marker) opts this run out.
        """
        from .errors import DidNotReproduce
        from .runner import replay, run

        opts = self.options(**kwargs)
        check = bool(opts.pop("check", True))
        schedule = setting(self.request.config, "replay")
        if schedule:
            opts.pop("strategy", None)
            opts.pop("trials", None)
            opts.pop("seed", None)
            opts.pop("n", None)
            times = int(setting(self.request.config, "replays"))
            try:
                rep = replay(target, schedule, times=times, **opts)
            except DidNotReproduce:
                self.replays.append(f"reproduced 0/{times}: did not reproduce: fixed, or timing-dependent")
                raise
            self.replays.append(f"reproduced {rep.reproduced}/{rep.times}")
            assert rep.result is not None
            rep.result.looked.clear()  # replay() read it; the test has not yet
            self.results.append(rep.result)
            if check:
                self.owned.append(rep.result)
            return rep.result
        from .example_db import from_setting, run_examples_first

        db = from_setting(setting(self.request.config, "example_db"), self.request.config.rootpath)
        key = f"{self.request.node.nodeid}#{len(self.results)}"
        result = run_examples_first(db, key, target, opts, run, replay)
        result.looked.clear()  # the example database read it; the test has not yet
        self.results.append(result)
        if check:
            self.owned.append(result)
        return result

    def settle(self) -> None:
        """Fail (or, for inconclusive with --racecheck-inconclusive=warn, warn) on verdicts nobody read."""
        from .verdict import PASS, VIOLATION, verdict_of

        mode = setting(self.request.config, "inconclusive")
        if mode not in INCONCLUSIVE_MODES:
            raise pytest.UsageError(f"--racecheck-inconclusive must be one of {', '.join(INCONCLUSIVE_MODES)}, "
                                    f"got {mode!r}")
        problems = []
        for result in self.owned:
            verdict = verdict_of(result)
            if verdict == PASS or "verdict" in result.looked:
                continue
            if verdict == VIOLATION:
                if "violation" not in result.looked:
                    problems.append(f"race.run found a violation the test never asserted (call "
                                    f"result.assert_ok(), or pass check=False to opt out):\n{result.report()}")
                continue
            text = (f"{result.summary_reasons()}\nThe test never read this verdict: call result.assert_ok() "
                    "or read result.verdict, or pass check=False to opt out.")
            if verdict == "inconclusive" and mode == "warn":
                import warnings

                warnings.warn(InconclusiveWarning(text), stacklevel=1)
            else:
                problems.append(text)
        self.owned.clear()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def race(request: pytest.FixtureRequest) -> Generator[Race, None, None]:
    """Run N simultaneous triggers under racecheck: ``race.run(target, n=8, trials=100, ...)``."""
    r = Race(request)
    request.node._racecheck_race = r
    yield r


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> Generator[None, Any, None]:
    """Mask passwords in every report (terminal, --junitxml, captured output) before it is shown."""
    from .redact import redact_report

    redact_report(report)
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After a test body that passed, fail it for any race.run verdict it never looked at."""
    res = yield
    r = getattr(item, "_racecheck_race", None)
    if r is not None:
        r.settle()
    return res


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    r = getattr(item, "_racecheck_race", None)
    if call.when == "call" and r is not None and r.replays:
        report.sections.append(("racecheck replay", "\n".join(r.replays)))  # like the CLI's line
    if call.when != "call" or not report.failed:
        return
    if r is None:
        return
    from .verdict import PASS, verdict_of

    for result in r.results:
        if verdict_of(result) != PASS:
            text = result.report()
            if text.splitlines()[0] not in report.longreprtext:  # assert_ok() already printed it
                report.sections.append(("racecheck", text))
            _one_line_summary(report, text.splitlines()[0])
            break


def _one_line_summary(report: pytest.TestReport, report_head: str) -> None:
    """Keep the short test summary to one line when the failure message carries racecheck's report.

    pytest prints the whole crash message in its summary on CI (``CI`` set) or with ``-vv``; the
    report (timeline, schedule) is already in the failure section above, so a second copy there
    is noise. Only racecheck's own message is cut: any other multi-line message is left alone."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if not isinstance(message, str) or "\n" not in message or report_head not in message:
        return
    crash.message = message.split("\n", 1)[0]  # type: ignore[union-attr]


try:  # Backend fixtures live at the edge; they import their drivers lazily.
    from .backends.pytest_fixtures import *  # noqa: F403,E402
except ImportError:  # pragma: no cover - while the backends package is absent
    pass

try:  # *.race.yaml files are collected as tests; yaml and pydantic load only when one is found.
    from .scenario.pytest_collect import pytest_collect_file  # noqa: F401,E402
except ImportError:  # pragma: no cover - while the scenario package is absent
    pass
