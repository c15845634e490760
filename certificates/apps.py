from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self) -> None:
        from accounts import privacy as account_privacy
        from certificates import privacy

        account_privacy.register("certificates", export=privacy.export)
        from certificates import receivers  # noqa: F401  (connects them)
