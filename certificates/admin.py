"""Certificates in the admin: a read-only list, and the staff actions that revoke or reinstate them.

Certificates are issued by ``progress.services`` as learners complete courses; staff never add or edit
one by hand. Revoking asks for a reason, kept with who revoked it and when.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from certificates import services
from certificates.models import Certificate
from web.admin import ReadOnlyAdminMixin, StreamModelAdmin


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=Certificate._meta.get_field("revocation_reason").max_length,
        help_text=_("Kept with the certificate for staff; its page says only that it was revoked, and when."),
    )


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdminMixin, StreamModelAdmin):
    list_display = ["issued_at", "learner_email", "course", "lesson_count", "hidden", "revoked_at"]
    list_select_related = ["learner", "course"]
    list_filter = ["course", "hidden", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["learner__email", "public_id"]
    search_help_text = _("Find certificates by the learner's e-mail address or the certificate number.")
    date_hierarchy = "issued_at"
    ordering = ["-issued_at"]
    fields = [
        "public_id",
        "learner",
        "course",
        "issued_at",
        "lesson_count",
        "hidden",
        "revoked_at",
        "revoked_by",
        "revocation_reason",
    ]
    actions = ["revoke", "reinstate"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("certificates.change_certificate")

    @admin.display(description=_("learner"), ordering="learner__email")
    def learner_email(self, certificate: Certificate) -> str:
        return certificate.learner.email

    @admin.action(description=_("Revoke the selected certificates"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset):
        """First a page that asks why, then the revocation: the page posts the same selection back."""
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            count = services.revoke(queryset, by=request.user, reason=form.cleaned_data["reason"])
            message = ngettext("%(count)d certificate revoked.", "%(count)d certificates revoked.", count)
            self.message_user(request, message % {"count": count}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Revoke certificates"),
            "subtitle": None,
            "opts": self.model._meta,
            "queryset": queryset.select_related("learner", "course"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/certificates/certificate/revoke.html", context)

    @admin.action(description=_("Reinstate the selected certificates"), permissions=["revoke"])
    def reinstate(self, request: HttpRequest, queryset) -> None:
        count = services.reinstate(queryset)
        self.message_user(
            request,
            ngettext("%(count)d certificate reinstated.", "%(count)d certificates reinstated.", count)
            % {"count": count},
            messages.SUCCESS,
        )
