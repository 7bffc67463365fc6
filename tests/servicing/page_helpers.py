"""Helpers of the servicing staff page tests."""

from django.urls import reverse


def url(name, *args):
    return reverse(f"servicing:{name}", args=args)
