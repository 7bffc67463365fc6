"""The error pages (400, 403, 404, 500): the product's own pages, and under /api/
JSON `{code, message, fields}`."""

from django.http import JsonResponse
from django.shortcuts import render

from core.api.errors import error_body


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def error_404(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return render(request, "errors/404.html", status=404)


def error_403(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            error_body("permission_denied", "You do not have permission to do this."), status=403
        )
    return render(request, "errors/403.html", status=403)


def error_400(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    return render(request, "errors/400.html", status=400)


def error_500(request):
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side. It has been logged."),
            status=500,
        )
    return render(request, "errors/500.html", status=500)
