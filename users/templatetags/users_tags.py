"""Template helpers for the sign-in and two-factor pages."""

from base64 import b32encode
from datetime import timedelta

import qrcode
import qrcode.image.svg
from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def qr_svg(text: str) -> str:
    """`text` as an inline SVG QR code (no image request, nothing leaves the page)."""
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    svg = image.to_string(encoding="unicode")
    # qrcode escapes its input into the SVG; the markup itself is ours.
    return mark_safe(svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1))  # noqa: S308


@register.filter
def totp_secret(device) -> str:
    """The device's secret in base32, in groups of four, for typing into an app."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@register.filter
def duration(delta: timedelta | None) -> str:
    """A timedelta as words: "15 minutes", "1 hour 30 minutes", "45 seconds"."""
    if not delta:
        return ""
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs and not hours:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts) or "a moment"


@register.simple_tag
def time_after(delta: timedelta | None):
    """The moment `delta` from now (for "try again after ...")."""
    return timezone.now() + delta if delta else None
