from django.http import HttpRequest


def wants_json(request: HttpRequest) -> bool:
    """The page's script asks for JSON (it says so in Accept); a plain form post gets a page or a redirect."""
    return "application/json" in request.headers.get("Accept", "")
