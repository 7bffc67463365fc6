"""Checks on an uploaded application document, from its bytes (pure).

Accepted: PDF, JPEG and PNG, recognised by their leading bytes ("magic
numbers") with no libmagic dependency:

- PDF: starts with "%PDF-" and has "%%EOF" in its last 1,024 bytes (a
  truncated upload is refused);
- JPEG: starts with FF D8 FF;
- PNG: the 8-byte signature 89 50 4E 47 0D 0A 1A 0A followed by the IHDR
  chunk.

Everything else is refused, and a few dangerous kinds are named in the
message (a Windows executable "MZ", an ELF binary, a script "#!", a ZIP
archive, which is also what Office files are).

The content decides, not the name: a PNG named "scan.jpg" is accepted as a
PNG, and the caller stores it with the returned extension ".png";
`UploadCheck.extension_mismatch` tells that the name said otherwise (worth
showing the uploader, never a reason to trust the name). A file whose
content is not one of the three kinds is refused whatever it is called, so
an executable renamed "statement.pdf" never gets in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from core.exceptions import ValidationFailed

PDF = ("application/pdf", ".pdf")
JPEG = ("image/jpeg", ".jpg")
PNG = ("image/png", ".png")

# Extensions a person may reasonably give each kind.
_ALIASES = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".jpe": JPEG, ".png": PNG}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KNOWN_BAD = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (b"\xfe\xed\xfa\xcf", "a macOS executable"),
)


@dataclass(frozen=True)
class UploadCheck:
    """The detected kind of an accepted upload.

    Unpacks as (content_type, extension): `ct, ext = validate_upload(...)`.
    `declared_extension` is the lower-cased extension of the given name
    ("" if none)."""

    content_type: str
    extension: str
    declared_extension: str

    def __iter__(self):
        return iter((self.content_type, self.extension))

    @property
    def extension_mismatch(self) -> bool:
        """The name's extension does not match the content (e.g. a PNG named .jpg)."""
        return _ALIASES.get(self.declared_extension) != (self.content_type, self.extension)


def detect(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of PDF/JPEG/PNG bytes, or None."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return PNG
    return None


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_upload", fields={"file": message})


def validate_upload(file_name: str, data: bytes, max_bytes: int) -> UploadCheck:
    """Check an upload; return its kind, or raise ValidationFailed (code
    "invalid_upload", message also under fields["file"]) for an empty,
    oversize or unsupported file."""
    declared = PurePosixPath((file_name or "").replace("\\", "/")).suffix.lower()
    size = len(data)
    if size == 0:
        raise _refuse("The file is empty.")
    if size > max_bytes:
        raise _refuse(
            f"The file is {_human(size)}; the largest file accepted is {_human(max_bytes)}."
        )
    kind = detect(data)
    if kind is None:
        named = next((label for magic, label in _KNOWN_BAD if data.startswith(magic)), None)
        what = f"This file is {named}" if named else "This file's content is not a PDF, JPEG or PNG"
        if data.startswith(b"%PDF-"):
            what = "This PDF is incomplete (no end-of-file marker)"
        raise _refuse(f"{what}; upload a PDF, JPEG or PNG document.")
    return UploadCheck(content_type=kind[0], extension=kind[1], declared_extension=declared)


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"
