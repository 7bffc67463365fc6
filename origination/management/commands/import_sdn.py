"""`manage.py import_sdn <dir-or-files>...`: import an OFAC SDN list.

Takes a directory holding the legacy CSV files, or the files themselves:
SDN.CSV (required), ALT.CSV and ADD.CSV (aliases and addresses) and
SDN_COMMENTS.CSV (overflow remarks), file names in any case. The files are
published by the U.S. Treasury at

    https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV
    (and .../ALT.CSV, .../ADD.CSV, .../SDN_COMMENTS.CSV; formerly
    https://www.treasury.gov/ofac/downloads/sdn.csv etc.)

Download them yourself (this command never touches the network) and point
it at the directory. `--sample` imports the small synthetic list bundled in
origination/data/sdn_sample/ for development and demos. Importing the same
files again changes nothing.
"""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from origination.services import kyc

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sdn_sample"


class Command(BaseCommand):
    help = (
        "Import an OFAC SDN list (legacy CSV: SDN.CSV, ALT.CSV, ADD.CSV) from a directory or "
        "files. Download from https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/"
        "exports/SDN.CSV (and ALT.CSV, ADD.CSV). --sample imports the bundled synthetic list."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="*", help="A directory with the SDN files, or the files."
        )
        parser.add_argument("--sample", action="store_true", help="Import the bundled sample list.")
        parser.add_argument("--source", default=kyc.DEFAULT_SOURCE, help="Label of the list.")
        parser.add_argument(
            "--publish-date", type=date.fromisoformat, help="The list's publish date (YYYY-MM-DD)."
        )

    def handle(self, *args, paths, sample, source, publish_date, **options):
        if sample:
            paths = [*paths, str(SAMPLE_DIR)]
        if not paths:
            raise CommandError("Give a directory or the SDN files (or --sample).")
        files: dict[str, bytes] = {}
        for raw in paths:
            path = Path(raw)
            if not path.exists():
                raise CommandError(f"{raw}: no such file or directory")
            files.update(kyc.read_files(path))
        try:
            report = kyc.import_sdn(files=files, source=source, publish_date=publish_date)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        verb = "Imported" if report.created else "Already imported, nothing changed:"
        self.stdout.write(
            f"{verb} list {report.sanctions_list_id} (sha256 {report.sha256[:16]}): "
            f"{report.entries} entries, {report.aliases} aliases, {report.addresses} addresses, "
            f"{report.dates_of_birth} dates of birth"
        )
