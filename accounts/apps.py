from django.apps import AppConfig
from django.conf import settings
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def apply_site_settings(*, using: str, **kwargs) -> None:
    """Give the sites framework's Site row the configured SITE_NAME and SITE_DOMAIN.

    allauth's e-mails greet with the Site's name and domain; without this they said
    "Hello from example.com!". Runs after every migrate, so `make run` and `make serve` apply
    a changed environment on start.
    """
    from django.contrib.sites.models import Site

    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID, defaults={"domain": settings.SITE_DOMAIN, "name": settings.SITE_NAME}
    )


def create_cache_table(*, using: str, **kwargs) -> None:
    """Create the database cache's table if it is missing (a no-op with Redis).

    The rate limits live in the cache; every path to a working database runs migrate, so the
    table exists wherever the site or the tests run.
    """
    call_command("createcachetable", database=using, verbosity=0)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in
        from django.tasks.signals import task_finished

        from accounts.services import remember_language_on_sign_in
        from accounts.tasks import retry_failed_email

        post_migrate.connect(apply_site_settings, sender=self)
        post_migrate.connect(create_cache_table, sender=self)
        task_finished.connect(retry_failed_email)
        user_logged_in.connect(remember_language_on_sign_in)
