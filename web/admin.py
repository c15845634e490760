from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ValidatedActionsMixin:
    """Admin actions refuse a tampered selection with a message instead of a server error.

    The changelist posts the primary keys of the selected rows; a value that is not a key of this model
    (a word, a NUL) would otherwise reach the database and fail there.
    """

    def response_action(self, request, queryset, **kwargs):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except ValidationError:
            self.message_user(request, _("The selection was not valid. Select the items again."), messages.ERROR)
            return None
        return super().response_action(request, queryset, **kwargs)


class StreamModelAdmin(ValidatedActionsMixin, admin.ModelAdmin):
    def view_on_site(self, obj) -> str | None:
        """The page on the host the admin is using (Django's shortcut would use the Site's domain, port-less)."""
        return obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else None


class ReadOnlyAdminMixin:
    """Rows for reading only: the services write them as learners act, never an admin by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
