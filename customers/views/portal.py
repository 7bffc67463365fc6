"""Borrower portal pages: account home, sign-up and profile. A borrower's
data is reached only through customers.selectors.customers.get_customer_for_user,
so one borrower can never load another's."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from core.exceptions import DomainError, NotFound
from customers import services
from customers.forms.fields import apply_domain_error
from customers.forms.portal import ProfileForm, SignupForm
from customers.selectors.consents import consent_statuses
from customers.selectors.customers import get_customer_for_user, primary_address, primary_phone
from users.access import borrower_required

# Sign-up has just checked the password itself; Axes' backend needs a
# request to authenticate, which login() after sign-up does not go through.
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _my_customer(request):
    try:
        return get_customer_for_user(request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@never_cache
@borrower_required
def home(request):
    customer = _my_customer(request)
    context = {
        "customer": customer,
        "primary_phone": primary_phone(customer),
        "primary_address": primary_address(customer),
        "consents": consent_statuses(customer),
    }
    return render(request, "portal/home.html", context)


@never_cache
def signup(request):
    if request.user.is_authenticated:
        return redirect("portal:home" if request.user.is_borrower else "landing")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.register_borrower(
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                email=form.cleaned_data["email"],
                date_of_birth=form.cleaned_data["date_of_birth"],
                password=form.cleaned_data["password"],
                accept_electronic_records=form.cleaned_data["accept_electronic_records"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            login(request, customer.user, backend=LOGIN_BACKEND)
            messages.success(request, f"Welcome, {customer.first_name}. Your account is ready.")
            return redirect("portal:home")
    return render(request, "portal/signup.html", {"form": form})


@never_cache
@borrower_required
def profile(request):
    customer = _my_customer(request)
    statuses = consent_statuses(customer)
    form = ProfileForm(
        request.POST or None,
        customer=customer,
        consent_states={status.topic.key: status.granted for status in statuses},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_borrower_profile(
                customer=customer,
                changes=form.changes(),
                primary_phone=form.primary_phone(),
                primary_address=form.primary_address(),
                consents=form.consent_decisions(),
                acting_user=request.user,
            )
        except DomainError as exc:
            apply_domain_error(form, exc, ProfileForm.field_map)
        else:
            messages.success(request, "Your profile has been saved.")
            return redirect("portal:profile")
    return render(
        request,
        "portal/profile.html",
        {"customer": customer, "form": form, "statuses": statuses},
    )
