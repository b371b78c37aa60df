"""A small SQLAlchemy 2 app (Core and ORM) on psycopg2 or psycopg 3, written as its authors would."""

from __future__ import annotations

from sqlalchemy import Engine, String, create_engine, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import racecheck

_engines: dict[tuple[str, str], Engine] = {}


class Base(DeclarativeBase):
    pass


class Counter(Base):
    __tablename__ = "counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    v: Mapped[int]


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String, default="queued")
    owner: Mapped[int | None]


class Row(Base):
    __tablename__ = "t"
    v: Mapped[str] = mapped_column(primary_key=True)


def engine(url: str, dbapi: str) -> Engine:
    key = (url, dbapi)
    if key not in _engines:
        _engines[key] = create_engine(url.replace("postgresql://", f"postgresql+{dbapi}://", 1),
                                      pool_size=4)
    return _engines[key]


def dispose() -> None:
    for e in _engines.values():
        e.dispose()
    _engines.clear()


def increment_core(url: str, dbapi: str) -> None:
    """Buggy lost update in Core: SELECT, then UPDATE to the value read plus one."""
    with engine(url, dbapi).begin() as conn:
        v = conn.execute(text("SELECT v FROM counter WHERE id = 1")).scalar_one()
        conn.execute(text("UPDATE counter SET v = :v WHERE id = 1"), {"v": v + 1})


def increment_orm(url: str, dbapi: str) -> None:
    """Buggy lost update through an ORM Session: load, modify, commit."""
    with Session(engine(url, dbapi)) as session:
        counter = session.get(Counter, 1)
        assert counter is not None
        counter.v += 1
        session.commit()


def increment_fixed(url: str, dbapi: str) -> None:
    with Session(engine(url, dbapi)) as session:
        session.execute(update(Counter).where(Counter.id == 1).values(v=Counter.v + 1))
        session.commit()


def claim_orm(url: str, dbapi: str, lock: bool) -> int | None:
    with Session(engine(url, dbapi)) as session:
        q = select(Job).where(Job.status == "queued").order_by(Job.id).limit(1)
        if lock:
            q = q.with_for_update(skip_locked=True)
        job = session.scalars(q).first()
        if job is None:
            return None
        job.status = "taken"
        session.commit()
        racecheck.effect("claimed", key=job.id)
        return job.id


def claim(url: str, dbapi: str) -> int | None:
    return claim_orm(url, dbapi, lock=False)


def claim_fixed(url: str, dbapi: str) -> int | None:
    return claim_orm(url, dbapi, lock=True)


def insert_orm(url: str, dbapi: str) -> None:
    with Session(engine(url, dbapi)) as session:
        session.add(Row(v="orm"))
        session.commit()


def insert_rollback(url: str, dbapi: str) -> None:
    with Session(engine(url, dbapi)) as session:
        session.add(Row(v="rolled back"))
        session.flush()
        session.rollback()
