"""Upload checks: the content decides the type; executables never get in."""

import struct
import zlib

import pytest

from core.exceptions import ValidationFailed
from origination.uploads import validate_upload

LIMIT = 5 * 1024 * 1024


def tiny_png() -> bytes:
    """A real 1x1 RGB PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def tiny_jpeg() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (2, 2), (200, 10, 10)).save(out, format="JPEG")
    return out.getvalue()


def tiny_pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


WINDOWS_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("payslip.pdf", tiny_pdf, ("application/pdf", ".pdf")),
        ("id-front.jpg", tiny_jpeg, ("image/jpeg", ".jpg")),
        ("ID-FRONT.JPEG", tiny_jpeg, ("image/jpeg", ".jpg")),
        ("bank-statement.png", tiny_png, ("image/png", ".png")),
    ],
)
def test_pdf_jpeg_and_png_are_accepted(name, make, expected):
    check = validate_upload(name, make(), LIMIT)
    content_type, extension = check
    assert (content_type, extension) == expected
    assert check.extension_mismatch is False


def test_a_png_named_jpg_is_accepted_as_png_and_the_mismatch_reported():
    check = validate_upload("scan.jpg", tiny_png(), LIMIT)
    assert (check.content_type, check.extension) == ("image/png", ".png")
    assert check.declared_extension == ".jpg"
    assert check.extension_mismatch is True


def test_a_windows_executable_renamed_pdf_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        validate_upload("statement.pdf", WINDOWS_EXE, LIMIT)
    assert exc.value.status_code == 400
    assert exc.value.code == "invalid_upload"
    assert exc.value.message == (
        "This file is a Windows executable; upload a PDF, JPEG or PNG document."
    )
    assert exc.value.fields == {"file": exc.value.message}


def test_an_elf_binary_is_refused_whatever_its_name():
    with pytest.raises(ValidationFailed, match="an ELF executable"):
        validate_upload("photo.png", ELF, LIMIT)


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is plain text",
        b"PK\x03\x04" + b"\x00" * 26,  # a .docx is a ZIP
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 8,  # PNG signature with no IHDR
        b"GIF89a\x01\x00\x01\x00",
    ],
)
def test_other_content_is_refused(data):
    with pytest.raises(ValidationFailed, match="upload a PDF, JPEG or PNG document"):
        validate_upload("document.pdf", data, LIMIT)


def test_a_truncated_pdf_is_refused():
    pdf = tiny_pdf()
    with pytest.raises(ValidationFailed, match="This PDF is incomplete"):
        validate_upload("payslip.pdf", pdf[: len(pdf) // 2], LIMIT)


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        validate_upload("payslip.pdf", b"", LIMIT)
    assert exc.value.message == "The file is empty."


def test_the_size_limit_is_inclusive_and_oversize_is_refused():
    pdf = tiny_pdf()
    assert validate_upload("a.pdf", pdf, len(pdf)).content_type == "application/pdf"
    with pytest.raises(ValidationFailed) as exc:
        validate_upload("a.pdf", pdf, len(pdf) - 1)
    assert "the largest file accepted is" in exc.value.message
    big = b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024) + b"\n%%EOF\n"
    with pytest.raises(ValidationFailed) as exc:
        validate_upload("big.pdf", big, 1024 * 1024)
    assert exc.value.message == "The file is 2.0 MB; the largest file accepted is 1.0 MB."
