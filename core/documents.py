"""PDF documents from Django templates with WeasyPrint.

Templates live in templates/documents/ and extend documents/base.html, which
carries the print stylesheet. Static files (fonts, images) resolve through
the staticfiles finders, so rendering needs no web server and no network.
"""

import hashlib
from dataclasses import dataclass

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes
    sha256: str


def _static_fetcher(url: str):
    """Serve /static/... from the finders; refuse anything else (no network)."""
    from weasyprint import default_url_fetcher

    if url.startswith("file://"):
        return default_url_fetcher(url)
    marker = "/static/"
    if marker in url:
        path = finders.find(url.split(marker, 1)[1])
        if path:
            return default_url_fetcher(f"file://{path}")
    raise ValueError(f"documents may not fetch {url}")


def render_pdf(template_name: str, context: dict) -> RenderedDocument:
    """Render `template_name` to PDF bytes and their SHA-256."""
    from weasyprint import HTML

    html = render_to_string(template_name, context)
    pdf = HTML(
        string=html, base_url="http://documents.invalid/", url_fetcher=_static_fetcher
    ).write_pdf()
    return RenderedDocument(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest())
