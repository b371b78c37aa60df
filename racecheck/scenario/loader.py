"""Load scenario files: YAML with line numbers, validated by the schema, errors as ``file:line: field: message``.

The YAML is composed into nodes first so every key and list item keeps its line; a
pydantic error's ``loc`` path is mapped back to the nearest line. One bad scenario
never stops the others: :func:`load_paths` returns loaded scenarios and errors side by side.

Hostile input is bounded before anything is expanded: the file size, the nesting depth,
the number of aliases and the size of the document with every alias expanded (an alias
bomb) are limited, and a recursive alias is refused; values echoed in messages are
truncated and control characters (ANSI escapes) are shown escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import RacecheckError
from .messages import MAX_ECHO, Loc, echo, explain_error
from .schema import Scenario

PATTERNS = ("*.race.yaml", "*.race.yml")

MAX_FILE_BYTES = 1 << 20   # 1 MiB: a scenario file is a few KB
MAX_DEPTH = 40             # nesting levels, aliases expanded
MAX_ALIASES = 100          # alias uses (*name) per file
MAX_NODES = 20_000         # nodes with every alias expanded
MAX_RUN = 120              # characters of one unbroken run (a path, a value) in a message
MAX_MESSAGE = 400          # characters of a whole message


def _escape(text: str) -> str:
    """Control characters (ANSI escapes, NUL, newlines...) shown as ``\\x1b``-style escapes."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _truncate_runs(text: str, limit: int = MAX_RUN) -> str:
    """Shorten every run of non-space characters longer than ``limit`` (an echoed value)."""
    return re.sub(r"\S{" + str(limit + 1) + ",}", lambda m: m.group(0)[:limit - 3] + "...", text)


def clean_text(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` safe to print on one line: escaped, values truncated, bounded in length."""
    out = _truncate_runs(_escape(str(text)))
    return out if len(out) <= limit else out[:limit - 3] + "..."


class ScenarioError(RacecheckError):
    """A scenario file is wrong: one sentence naming the file, the line and the field."""

    def __init__(self, file: str | Path, line: int | None, field: str | None, message: str,
                 name: str | None = None) -> None:
        self.file = _escape(str(file))
        self.line = line
        self.field = clean_text(field, MAX_ECHO * 2) if field else field
        self.message = clean_text(message)
        self.name = clean_text(name, MAX_ECHO) if name else name
        super().__init__(str(self))

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass
class LoadedScenario:
    """A validated scenario plus where it came from (for error lines and relative paths)."""

    spec: Scenario
    file: Path
    prefix: Loc
    lines: dict[Loc, int] = field(repr=False)
    index: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def directory(self) -> Path:
        return self.file.parent

    @property
    def line(self) -> int:
        return line_of(self.lines, self.prefix)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def line_of(self, loc: Loc) -> int:
        return line_of(self.lines, self.prefix + tuple(loc))

    def error(self, loc: Loc, message: str) -> ScenarioError:
        return ScenarioError(self.file, self.line_of(loc), format_loc(self.prefix + tuple(loc)) or None,
                             message, self.name)


LoadResult = LoadedScenario | ScenarioError


# -- YAML with lines ------------------------------------------------------------------------
def _yaml_loader() -> Any:
    import yaml

    class Refused(yaml.MarkedYAMLError):
        """A limit or an unreadable value at a mark: its message is the whole sentence."""

        def __init__(self, message: str, mark: Any) -> None:
            super().__init__(None, None, message, mark)

    class LineLoader(yaml.SafeLoader):
        """SafeLoader; nodes keep their start marks, which the walk below records.

        Composing counts depth and alias uses and refuses a recursive alias, so nothing
        recursive or exponential reaches the constructor; a value the constructor cannot
        build (a 4,301-digit int, ``!!float abc``) becomes an error at its line.
        """

        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._depth = 0
            self._aliases = 0
            self._open: set[str] = set()

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise Refused(f"more than {MAX_ALIASES} aliases (*name) in one file; "
                                  "write the values out", event.start_mark)
                if event.anchor in self._open:
                    raise Refused(f"alias *{event.anchor} is used inside the node it names (a "
                                  "recursive alias); remove the cycle", event.start_mark)
                return super().compose_node(parent, index)
            anchor = getattr(event, "anchor", None)
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise Refused(f"nested more than {MAX_DEPTH} levels deep; flatten the scenario",
                              event.start_mark)
            if anchor:
                self._open.add(anchor)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
                if anchor:
                    self._open.discard(anchor)

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except yaml.YAMLError:
                raise
            except Exception as exc:  # noqa: BLE001 - a value the YAML types cannot hold
                kind = str(node.tag).rsplit(":", 1)[-1]
                if kind == "int" and "digits" in str(exc):
                    why = "an integer this long cannot be a scenario value; use a smaller number"
                else:
                    why = (f"{echo(getattr(node, 'value', ''))} is not a valid {kind} "
                           f"({type(exc).__name__}); fix the value or drop its !!{kind} tag")
                raise Refused(why, node.start_mark) from None

    return LineLoader


def _check_expanded(node: Any, file: str | Path) -> None:
    """Refuse a document whose alias-expanded size or depth is over the limits (an alias bomb).

    Sizes are computed once per distinct node (aliases share nodes), iteratively: bounded
    time and memory whatever the expansion would be.
    """
    import yaml

    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        cur, done = stack.pop()
        key = id(cur)
        if key in size and not done:
            continue
        kids: list[Any] = []
        if isinstance(cur, yaml.MappingNode):
            kids = [n for pair in cur.value for n in pair]
        elif isinstance(cur, yaml.SequenceNode):
            kids = list(cur.value)
        if not done:
            stack.append((cur, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
            continue
        size[key] = min(MAX_NODES + 1, 1 + sum(size.get(id(k), 0) for k in kids))
        depth[key] = 1 + max((depth.get(id(k), 0) for k in kids), default=0)
        if size[key] > MAX_NODES:
            raise ScenarioError(file, cur.start_mark.line + 1, None,
                                f"the YAML expands (aliases included) to more than {MAX_NODES} values; "
                                "an alias bomb? write the values out once")
        if depth[key] > MAX_DEPTH:
            raise ScenarioError(file, cur.start_mark.line + 1, None,
                                f"nested more than {MAX_DEPTH} levels deep (aliases included); "
                                "flatten the scenario")


def parse_yaml(text: str, file: str | Path) -> tuple[Any, dict[Loc, int]]:
    """Parse one YAML document; returns the data and a map from key/item paths to 1-based lines."""
    import yaml

    try:
        loader = _yaml_loader()(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    try:
        try:
            node = loader.get_single_node()
            lines: dict[Loc, int] = {}
            if node is not None:
                _check_expanded(node, file)
                lines[()] = node.start_mark.line + 1
                _walk(node, (), lines, file)
            data = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = " ".join(p for p in (exc.context, exc.problem) if p)
            if type(exc).__name__ != "Refused":
                what = f"YAML syntax error: {what}; fix the YAML at this line"
            raise ScenarioError(file, mark.line + 1 if mark else 1, None, what) from None
        except yaml.reader.ReaderError as exc:
            raise _reader_error(exc, text, file) from None
        except yaml.YAMLError as exc:
            raise ScenarioError(file, 1, None, f"YAML error: {exc}; fix the YAML") from None
        except RecursionError:
            raise ScenarioError(file, 1, None, "the YAML nests too deeply to read; flatten it") from None
    finally:
        loader.dispose()
    return data, lines


def _reader_error(exc: Any, text: str, file: str | Path) -> ScenarioError:
    """A character YAML does not allow (NUL, most control characters), at its line."""
    pos = int(getattr(exc, "position", 0) or 0)
    line = text.count("\n", 0, pos) + 1
    char = getattr(exc, "character", "")
    code = f"#x{ord(char):04x}" if isinstance(char, str) and len(char) == 1 else repr(char)
    return ScenarioError(file, line, None, f"character {code} is not allowed in YAML; remove it "
                                           "(or write it as an escape in a double-quoted string)")


def _walk(node: Any, path: Loc, lines: dict[Loc, int], file: str | Path) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                raise ScenarioError(file, line, format_loc(path + (key,)),
                                    f"duplicate key {key!r} (first at line {seen[key]}); keep only one")
            seen[key] = line
            lines[path + (key,)] = line
            _walk(value_node, path + (key,), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines, file)


def line_of(lines: dict[Loc, int], loc: Loc) -> int:
    """The line of ``loc``, or of its nearest ancestor that is in the file."""
    loc = tuple(loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def format_loc(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_error(exc: ValidationError, file: Path, prefix: Loc, lines: dict[Loc, int],
                     name: str | None) -> ScenarioError:
    seen: dict[Loc, str] = {}
    for err in exc.errors(include_url=False):
        loc, message = explain_error(dict(err))
        seen.setdefault(loc, message)
    loc, message = next(iter(seen.items()))
    if len(seen) > 1:
        message += f" ({len(seen) - 1} more problem{'s' if len(seen) > 2 else ''} in this scenario)"
    full = prefix + loc
    return ScenarioError(file, line_of(lines, full), format_loc(full) or None, message, name)


# -- files and folders ------------------------------------------------------------------------
def load_file(path: str | Path) -> list[LoadResult]:
    """Every scenario in one file (a mapping, or ``scenarios: [...]``), each loaded or an error."""
    try:
        return _load_file(Path(path))
    except ScenarioError as exc:
        return [exc]
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - one bad file never stops the run
        return [ScenarioError(path, 1, None, f"could not load the file ({type(exc).__name__}: {exc}); "
                                             "this is a racecheck bug: please report it with the file")]


def _load_file(file: Path) -> list[LoadResult]:
    try:
        text = read_text_bounded(file)
        data, lines = parse_yaml(text, file)
    except ScenarioError as exc:
        return [exc]
    if data is None:
        return [ScenarioError(file, 1, None, "the file is empty; write a scenario mapping (name, target, ...)")]
    if not isinstance(data, dict):
        return [ScenarioError(file, line_of(lines, ()), None,
                              f"the top level must be a mapping (name: ..., target: ...), got {type(data).__name__}")]
    if "scenarios" in data:
        extra = sorted(set(data) - {"scenarios"})
        if extra:
            return [ScenarioError(file, line_of(lines, (extra[0],)), extra[0],
                                  "a file with 'scenarios:' holds only that list; move this key into a scenario")]
        items = data["scenarios"]
        if not isinstance(items, list) or not items:
            return [ScenarioError(file, line_of(lines, ("scenarios",)), "scenarios",
                                  "must be a non-empty list of scenario mappings")]
        entries: list[tuple[Loc, Any]] = [(("scenarios", i), item) for i, item in enumerate(items)]
    else:
        entries = [((), data)]
    out: list[LoadResult] = []
    for i, (prefix, raw) in enumerate(entries):
        name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
        if not isinstance(raw, dict):
            out.append(ScenarioError(file, line_of(lines, prefix), format_loc(prefix) or None,
                                     f"a scenario must be a mapping, got {type(raw).__name__}"))
            continue
        try:
            spec = Scenario.model_validate(raw)
        except ValidationError as exc:
            out.append(validation_error(exc, file, prefix, lines, name))
            continue
        out.append(LoadedScenario(spec, file, prefix, lines, i))
    return out


def read_text_bounded(file: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The file's UTF-8 text; a ScenarioError (with the line) if it is too big, unreadable or not UTF-8."""
    try:
        with open(file, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(file, 1, None, f"cannot read the file: {exc.strerror or exc}; "
                                           "check the path and its permissions") from None
    if len(data) > limit:
        raise ScenarioError(file, 1, None, f"the file is over {limit // 1024} KiB; a scenario file "
                                           "is a few KB: split it or move data into a schema file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScenarioError(file, line, None, f"byte {data[exc.start]:#04x} at offset {exc.start} is not "
                                              "UTF-8; save the file as UTF-8") from None


def discover(paths: Iterable[str | Path]) -> Iterator[Path | ScenarioError]:
    """Scenario files under ``paths`` (files as given; folders searched for *.race.yaml)."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted({f for pat in PATTERNS for f in path.rglob(pat) if f.is_file()})
            if not found:
                yield ScenarioError(path, None, None, f"no scenario files ({', '.join(PATTERNS)}) in this folder")
            yield from found
        elif path.is_file():
            yield path
        else:
            yield ScenarioError(path, None, None, "no such file or folder; check the path")


def load_paths(paths: Iterable[str | Path]) -> list[LoadResult]:
    """Load every scenario under ``paths``; a second scenario with a taken name becomes an error."""
    out: list[LoadResult] = []
    for item in discover(paths):
        if isinstance(item, ScenarioError):
            out.append(item)
        else:
            out.extend(load_file(item))
    return check_unique(out)


def check_unique(results: list[LoadResult]) -> list[LoadResult]:
    first: dict[str, LoadedScenario] = {}
    out: list[LoadResult] = []
    for r in results:
        if isinstance(r, LoadedScenario):
            prev = first.get(r.name)
            if prev is not None:
                out.append(r.error(("name",), f"duplicate scenario name {r.name!r} (already used at "
                                              f"{prev.where}); names must be unique in a run"))
                continue
            first[r.name] = r
        out.append(r)
    return out
