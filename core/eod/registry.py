"""The registry of end-of-day steps and the chunk helpers steps use."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

CHUNK_SIZE = 500


class IdRange(tuple):
    """An inclusive id range `(first, last)`: a plain 2-tuple to every caller
    (it unpacks and compares as one), which also knows how many ids it holds
    (`size`, or None when unknown) so progress can count items."""

    def __new__(cls, first: int | None, last: int | None, size: int | None = None):
        self = super().__new__(cls, (first, last))
        self.size = size
        return self


Chunk = tuple[int | None, int | None] | list[int]


@dataclass(frozen=True)
class Step:
    """A registered step. `items`, when given, makes its failures per item:
    see core.eod.register_step."""

    name: str
    order: int
    chunks: Callable[[date], Sequence[Chunk]]
    run: Callable[[date, Chunk], dict]
    unit: str = ""
    items: Callable[[date, Chunk], list[int]] | None = None


_STEPS: dict[str, Step] = {}


def register_step(
    name: str,
    order: int,
    *,
    chunks: Callable[[date], Sequence[Chunk]],
    run: Callable[[date, Chunk], dict],
    unit: str = "",
    items: Callable[[date, Chunk], list[int]] | None = None,
) -> Step:
    """Register (or replace) the step `name`; steps run by ascending `order`.

    `chunks(business_date)` splits the day's work into chunks (id ranges or
    id lists); `run(business_date, chunk)` does one chunk inside the
    transaction the runner opens for it and returns a dict of counts.
    `unit` names a chunk's items in progress ("loans"); leave it empty for a
    step whose chunks have no countable size.

    `items(business_date, chunk)`, if given, returns the ids of the items
    (loans) the step would process in `chunk`; it makes one failing item
    cost only itself. When `run` raises on a chunk, the runner calls `run`
    again, each time in a savepoint, on halves of those ids given as a list
    chunk (bisection), down to single ids: the halves that succeed keep
    their writes and counts, and each id that still raises alone is
    recorded as an EodFailure (its error and traceback) and skipped. The
    contract for such a step: `run(d, ids)` on a list of ids processes
    exactly those of its items (ignoring ids outside its scope), and the
    items are independent, so processing a chunk in parts writes what the
    whole would. Database errors that are not the item's fault (a lost
    connection, a deadlock) are not isolated: they fail the chunk, and so
    does a chunk of several items that all fail alone (the step is broken,
    not its items). Without `items`, an exception fails the chunk and stops
    the run."""
    step = Step(name=name, order=order, chunks=chunks, run=run, unit=unit, items=items)
    _STEPS[name] = step
    return step


def unregister_step(name: str) -> None:
    _STEPS.pop(name, None)


def steps() -> list[Step]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def get_step(name: str) -> Step | None:
    return _STEPS.get(name)


def id_ranges(ids: Sequence[int], size: int = CHUNK_SIZE) -> list[IdRange]:
    """Inclusive (first, last) ranges of `ids` (ascending), `size` ids each."""
    ids = list(ids)
    return [
        IdRange(ids[i], ids[min(i + size, len(ids)) - 1], len(ids[i : i + size]))
        for i in range(0, len(ids), size)
    ]


def in_chunk(queryset, chunk: Chunk, field_name: str = "pk"):
    """`queryset` narrowed to the chunk's ids."""
    if isinstance(chunk, list):
        return queryset.filter(**{f"{field_name}__in": chunk})
    first, last = chunk
    if first is not None:
        queryset = queryset.filter(**{f"{field_name}__gte": first})
    if last is not None:
        queryset = queryset.filter(**{f"{field_name}__lte": last})
    return queryset
