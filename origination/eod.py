"""Origination's end-of-day step (core.eod): expire applications whose
validity ended before the business date. Runs first, one chunk, so a
stale offer cannot be accepted on the next day."""

from datetime import date

from core.eod import Chunk, register_step
from origination.services.applications import expire_stale


def expire_chunks(business_date: date) -> list[Chunk]:
    return [(None, None)]


def expire_applications(business_date: date, chunk: Chunk) -> dict:
    return {"expired": expire_stale(business_date)}


register_step("expire_applications", 5, chunks=expire_chunks, run=expire_applications)
