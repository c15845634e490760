from django.urls import path

from accounts import views

# Included under /accounts/ before allauth's own URLs, so the verification page here wins.
urlpatterns = [
    path("settings/", views.account_settings, name="account_settings"),
    path("confirm-email/", views.VerificationSentView.as_view(), name="account_email_verification_sent"),
    path("settings/export/", views.export_data, name="account_export_data"),
    path("delete/", views.delete_account, name="account_delete"),
    path("delete/confirm/<str:token>/", views.confirm_delete_account, name="account_delete_confirm"),
    path("deleted/", views.account_deleted, name="account_deleted"),
    path("resend-confirmation/", views.resend_confirmation, name="account_resend_confirmation"),
    path(
        "reminders/unsubscribe/<str:token>/",
        views.unsubscribe_streak_reminders,
        name="account_unsubscribe_streak_reminders",
    ),
]
