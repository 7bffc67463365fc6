from django.shortcuts import redirect, render

from users.access import borrower_required, staff_required
from users.roles import areas_for


def landing(request):
    user = request.user
    if user.is_authenticated and user.is_staff_member:
        return redirect("staff-home")
    if user.is_authenticated and user.is_borrower:
        return redirect("portal:home")
    return render(request, "landing.html")


@staff_required()
def staff_home(request):
    return render(request, "staff/home.html", {"areas": areas_for(request.user)})


@borrower_required
def portal_home(request):
    return render(request, "portal/home.html")
