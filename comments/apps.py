from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("Comments")

    def ready(self) -> None:
        from accounts import privacy as account_privacy
        from comments import privacy

        account_privacy.register("comments", export=privacy.export)
