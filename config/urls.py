from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from config.views import favicon, healthz, live, media, robots_txt
from courses.views import sitemap, sitemap_section

# A database that cannot be reached gets the 503 page, wherever the error came from.
handler500 = "config.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/live", live, name="live"),
    path("favicon.ico", favicon),
    path("media/<path:path>", media, name="media"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemap_section, name="sitemap_section"),
    # Before admin.site.urls: staff sign in through allauth, with its rate limits.
    path("admin/login/", accounts_views.admin_login),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("dev/mail/", accounts_views.development_mailbox, name="development_mailbox"),
    path("dev/mail/<slug:name>/", accounts_views.development_mail, name="development_mail"),
    # Django's language switch, which also keeps a signed-in learner's language on the account.
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    # The course pages first: they are most of the traffic, and each pattern tried before costs time.
    path("", include("courses.urls")),
    path("", include("comments.urls")),
    path("", include("progress.urls")),
    path("", include("certificates.urls")),
]
