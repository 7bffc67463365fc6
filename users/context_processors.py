from users.roles import areas_for


def navigation(request):
    """Staff navigation: the areas this user may open, grouped by section.
    Lazy, so pages that do not render navigation do not pay for it."""

    def sections():
        grouped: dict[str, list] = {}
        for area in areas_for(request.user):
            grouped.setdefault(area.section, []).append(area)
        return list(grouped.items())

    return {"nav_sections": sections}
