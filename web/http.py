from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Seconds a client told "too many requests" is asked to wait: the limits count per minute.
RETRY_AFTER = 60


def wants_json(request: HttpRequest) -> bool:
    """The page's script asks for JSON (it says so in Accept); a plain form post gets a page or a redirect."""
    return "application/json" in request.headers.get("Accept", "")


def too_many_requests(request: HttpRequest, message: str) -> HttpResponse:
    """The site's 429 page (templates/429.html, as allauth's limits answer) saying ``message``."""
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(RETRY_AFTER)
    return response
