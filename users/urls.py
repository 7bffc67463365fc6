from django.urls import path

from users import views

staff_patterns: list = []
portal_patterns: list = [
    path("", views.portal_home, name="home"),
]
