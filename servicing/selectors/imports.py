"""Import reads: the runs of the CSV imports. Nothing here writes."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from servicing.models import ImportRun


def recent_import_runs(kind: str, *, limit: int = 10) -> QuerySet[ImportRun]:
    """The latest runs of one kind of import, with who ran them."""
    return ImportRun.objects.filter(kind=kind).select_related("created_by")[:limit]


def get_import_run(pk: int) -> ImportRun:
    """Import run `pk`; NotFound if none."""
    run = ImportRun.objects.filter(pk=pk).first()
    if run is None:
        raise NotFound(f"No import run {pk}.")
    return run
