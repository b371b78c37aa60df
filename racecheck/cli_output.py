"""Terminal output of ``racecheck run``: rich progress and tables on a terminal, plain text otherwise.

Plain (no escape codes at all) when the stream is not a terminal: CI logs and pipes stay
greppable. ``NO_COLOR`` (https://no-color.org) turns colour off on a terminal too; rich reads it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TextIO

LABEL_STYLE = {"PASS": "green", "CAUGHT": "green", "FAIL": "bold red", "ERROR": "yellow", "INFRA": "yellow",
               "INCONCLUSIVE": "magenta"}


def use_rich(stream: TextIO) -> bool:
    """Rich output only on a terminal (and only when rich is installed)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def rich_console(stream: TextIO) -> Any:
    from rich.console import Console as RichConsole

    # no_color: rich also reads NO_COLOR itself; passed explicitly so an empty NO_COLOR= counts too
    return RichConsole(file=stream, no_color="NO_COLOR" in os.environ, highlight=False, soft_wrap=True)


class LiveConsole:
    """Result lines on stdout, a rich progress bar on stderr (a terminal) that result lines go above."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        from rich.live import Live

        self.out, self.err = out, err
        self.err_console = rich_console(err)
        self.out_console = rich_console(out) if use_rich(out) else None
        self.lock = threading.Lock()
        self.status: Callable[[], str] | None = None
        self.counts: Callable[[], tuple[int, int]] = lambda: (0, 0)
        self._live = Live(self, console=self.err_console, refresh_per_second=4, transient=True,
                          redirect_stdout=False, redirect_stderr=False)
        self._started = False

    def __rich__(self) -> Any:
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        done, total = self.counts()
        grid = Table.grid(padding=(0, 1))
        grid.add_row(ProgressBar(total=max(total, 1), completed=done, width=30),
                     self.status() if self.status else "")
        return grid

    def print(self, text: str = "") -> None:
        with self.lock:
            if self.out_console is not None and self._started and self.out.isatty():
                # the same terminal: print above the live bar
                self._live.console.print(_styled(text), highlight=False)
            elif self.out_console is not None:
                self.out_console.print(_styled(text), highlight=False)
            else:
                print(text, file=self.out, flush=True)

    def print_renderable(self, renderable: Any) -> None:
        with self.lock:
            console = self._live.console if self._started else (self.out_console or self.err_console)
            console.print(renderable)

    def start(self, status: Callable[[], str], counts: Callable[[], tuple[int, int]] | None = None) -> None:
        self.status = status
        if counts is not None:
            self.counts = counts
        self._live.start()
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._live.stop()
            self._started = False


def _styled(text: str) -> Any:
    """A result line with its leading label (PASS, FAIL, ...) coloured."""
    from rich.text import Text

    t = Text(text)
    word = text.split(" ", 1)[0]
    if word in LABEL_STYLE:
        t.stylize(LABEL_STYLE[word], 0, len(word))
    return t


def rich_summary(outcomes: Sequence[Any], footer: list[str]) -> Any:
    """The summary as a rich Table (same columns as the plain one) followed by its footer lines."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    has_verdict = any(getattr(o, "verdict", None) for o in outcomes)
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for col in ("scenario", "expect", "status", *(("verdict",) if has_verdict else ()), "trials", "time",
                "where"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        status = o.status if o.status != "error" else f"error ({o.error_kind})"
        style = "green" if o.ok else ("yellow" if o.status == "error" else "bold red")
        trials = f"{o.trials_run}/{o.trials_requested}" if o.trials_requested else "-"
        verdict = (str(getattr(o, "verdict", "") or ""),) if has_verdict else ()
        table.add_row(o.scenario, o.expect, Text(status, style=style), *verdict, trials, f"{o.elapsed:.1f}s",
                      o.where)
    return Group(table, *(Text(line) for line in footer))


def summary_footer(plain_summary: str) -> list[str]:
    """The lines after the plain table's rows (counts, backends, time): they read the same in both."""
    lines = plain_summary.splitlines()
    for i, line in enumerate(lines):
        if " scenario(s): " in line:
            return lines[i:]
    return []


def make_console(out: TextIO, err: TextIO, progress: bool, plain_factory: Callable[[], Any]) -> Any:
    """The live rich console when progress goes to a terminal, else the plain one."""
    if progress and use_rich(err):
        return LiveConsole(out, err)
    return plain_factory()


def is_rich(console: Any) -> bool:
    return isinstance(console, LiveConsole)


def stdout_is_rich() -> bool:
    return use_rich(sys.stdout)


class Console:
    """The plain console: result lines on stdout; a progress line on stderr that result lines erase first."""

    def __init__(self, out: TextIO, err: TextIO, progress: bool) -> None:
        self.out, self.err, self.progress = out, err, progress
        self.lock = threading.Lock()
        self.status: Callable[[], str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    def print(self, text: str = "") -> None:
        with self.lock:
            self._clear()
            try:
                print(text, file=self.out, flush=True)
            except BrokenPipeError:  # `racecheck run ... | head`: keep running, stop printing
                self.out = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the console
            self._draw()

    def _clear(self) -> None:
        if self._shown:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._shown = False

    def _draw(self) -> None:
        if self.progress and self.status is not None and not self._stop.is_set():
            self.err.write("\r" + self.status()[:150])
            self.err.flush()
            self._shown = True

    def start(self, status: Callable[[], str], counts: Callable[[], tuple[int, int]] | None = None) -> None:
        self.status = status
        if not self.progress:
            return

        def tick() -> None:
            while not self._stop.wait(1.0):
                with self.lock:
                    self._clear()
                    self._draw()

        self._thread = threading.Thread(target=tick, name="racecheck-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            self._clear()
