"""What a Django project's code does (views/tasks), with no racecheck in it but an effect."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F

import racecheck

from .models import Counter, Job, Row


def _done() -> None:
    connection.close()  # what request_finished does: a worker thread's connection is not kept


def increment(_url: str) -> None:
    """Buggy lost update: load, add one, save."""
    try:
        c = Counter.objects.get(pk=1)
        c.v += 1
        c.save(update_fields=["v"])
    finally:
        _done()


def increment_fixed(_url: str) -> None:
    try:
        Counter.objects.filter(pk=1).update(v=F("v") + 1)
    finally:
        _done()


def _claim(lock: bool) -> int | None:
    try:
        with transaction.atomic():
            q = Job.objects.filter(status="queued").order_by("id")
            if lock:
                q = q.select_for_update(skip_locked=True)
            job = q.first()
            if job is None:
                return None
            job.status = "taken"
            job.save(update_fields=["status"])
        racecheck.effect("claimed", key=job.pk)
        return int(job.pk)
    finally:
        _done()


def claim(_url: str) -> int | None:
    return _claim(lock=False)


def claim_fixed(_url: str) -> int | None:
    return _claim(lock=True)


def insert_atomic(_url: str) -> None:
    try:
        with transaction.atomic():
            Row.objects.create(v="atomic")
    finally:
        _done()


def insert_autocommit(_url: str) -> None:
    try:
        Row.objects.create(v="autocommit")
    finally:
        _done()




class Refused(Exception):
    """The view gives up on its optional inner step."""


def insert_nested(_url: str) -> None:
    """An outer atomic() with a nested one (a savepoint) that fails and is rolled back."""
    try:
        with transaction.atomic():
            Row.objects.create(v="outer")
            try:
                with transaction.atomic():
                    Row.objects.create(v="inner")
                    raise Refused("inner step")
            except Refused:
                pass
    finally:
        _done()
