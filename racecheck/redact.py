"""The one redaction function every racecheck output goes through: no password is ever printed.

:func:`redact` masks passwords in URLs (``scheme://user:PASS@host``), ``password=...`` in
libpq DSNs and ``*PASSWORD*=...`` assignments, and every secret racecheck has seen (the
password of a URL it was given or of a server it started, registered with
:func:`register_url` / :func:`register_secret`) wherever it appears, plain, URL-quoted or
HTML-escaped. Values of ``RACECHECK_*_URL``, ``*PASSWORD*`` and ``REDIS/PG/DATABASE*_URL``
environment variables are registered on first use, so a worker process knows the
secrets its parent was handed.
"""

from __future__ import annotations

import html
import os
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
MIN_SECRET = 4  # shorter literal secrets would mask ordinary words; the patterns still catch them

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"<>]*:)(?P<pw>[^\s@/?#'\"<>]*)(?=@)")
_DSN_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s'\"&<>]+)",
                           re.IGNORECASE)
_ENV_PASSWORD = re.compile(r"(?P<head>\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN)[A-Z0-9_]*"
                           r"(?:['\"]?\s*[:=]\s*['\"]?))(?P<pw>[^\s'\",}&<>]+)")
_SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|(^|_)(URL|DSN|URI)$)", re.IGNORECASE)

_secrets: set[str] = set()
_lock = threading.Lock()
_env_seen: dict[str, str] = {}


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` in every later output (a password racecheck generated or was given)."""
    if not secret or len(secret) < MIN_SECRET:
        return
    forms = {secret, quote(secret, safe=""), unquote(secret), html.escape(secret)}
    with _lock:
        _secrets.update(f for f in forms if len(f) >= MIN_SECRET)


def register_url(url: str | None) -> None:
    """Register the password of ``url`` (a URL or a libpq DSN), if it has one."""
    if not url:
        return
    try:
        register_secret(urlsplit(url).password)
    except ValueError:
        pass
    for m in _DSN_PASSWORD.finditer(url):
        register_secret(m.group("pw").strip("'"))


def _register_environ(environ: Mapping[str, str]) -> None:
    for name, value in list(environ.items()):
        if _env_seen.get(name) == value or not _SECRET_ENV.search(name):
            continue
        _env_seen[name] = value
        if re.search(r"PASSWORD|PASSWD|SECRET|TOKEN", name, re.IGNORECASE):
            register_secret(value)
        else:
            register_url(value)


def redact(text: str) -> str:
    """``text`` with every password replaced by ``***``."""
    if not text:
        return text
    _register_environ(os.environ)
    out = _URL_PASSWORD.sub(lambda m: m.group("head") + (MASK if m.group("pw") else ""), text)
    out = _DSN_PASSWORD.sub(lambda m: m.group("head") + MASK, out)
    out = _ENV_PASSWORD.sub(lambda m: m.group("head") + MASK, out)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in out:
            out = out.replace(secret, MASK)
    return out


def redact_url(url: str) -> str:
    """A URL with its password masked (for manifests, reprs and provider reports)."""
    return redact(url)


def redact_obj(obj: Any) -> Any:
    """A copy of a JSON-like object (dicts, lists, strings) with every string redacted."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, Mapping):
        return {redact_obj(k): redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact_obj(v) for v in obj]
    return obj


class RedactingStream:
    """A text stream wrapper that redacts every write (the CLI's stdout and stderr)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def redact_report(report: Any) -> None:
    """Mask passwords in a pytest TestReport in place: its failure text and its sections."""
    longrepr = getattr(report, "longrepr", None)
    if longrepr is not None:
        text = str(longrepr)
        masked = redact(text)
        if masked != text:
            report.longrepr = masked
    sections = getattr(report, "sections", None)
    if sections:
        report.sections[:] = [(title, redact(content)) for title, content in sections]
