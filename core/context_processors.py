from django.conf import settings

from core.businessdate import get_business_date


def platform(request):
    """Platform name, and the business date for staff pages' header (read
    lazily so pages that do not show it do not query it)."""
    return {
        "PLATFORM_NAME": settings.PLATFORM_NAME,
        "business_date": get_business_date,
    }
