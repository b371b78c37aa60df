"""PostgreSQL URL and identifier helpers shared by the server and database handles."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def replace_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(dbname), parts.query, parts.fragment))


def with_application_name(url: str, name: str) -> str:
    """``url`` whose connections report ``application_name=name`` (libpq, psycopg, asyncpg read it)."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("application_name="))
    query = (query + "&" if query else "") + "application_name=" + quote(name)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def url_dbname(url: str) -> str:
    path = urlsplit(url).path.lstrip("/")
    return path or "postgres"
