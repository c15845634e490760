"""Signing out empties the browser's storage of this site, so the next person at a shared computer starts afresh."""

from django.urls import reverse

# Local storage holds the learner's progress kept while signed out, their edited code and exercise drafts.
# Cookies are the session's business and the HTTP cache keeps Python's files, so neither is cleared.
CLEAR_STORAGE = '"storage"'


class ClearStorageOnSignOutMiddleware:
    """A successful sign-out (allauth's logout view, posted) answers with ``Clear-Site-Data: "storage"``.

    The page's script empties the same storage as the form is sent (static/js/site.js); the header also covers
    a browser without the script, and the browser honours it only over HTTPS or on localhost.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        signed_out = request.method == "POST" and request.path == reverse("account_logout")
        if signed_out and response.status_code < 400 and not request.user.is_authenticated:
            response["Clear-Site-Data"] = CLEAR_STORAGE
        return response
