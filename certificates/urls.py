from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("certificates/<slug:public_id>/", views.detail, name="detail"),
    path("certificates/<slug:public_id>/hide/", views.set_visibility, {"hidden": True}, name="hide"),
    path("certificates/<slug:public_id>/show/", views.set_visibility, {"hidden": False}, name="show"),
]
