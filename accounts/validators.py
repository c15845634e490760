import unicodedata
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

# Letters that render as blank space although Unicode calls them letters.
BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
ZERO_WIDTH_JOINER = "\u200d"  # joins emoji sequences (👩‍💻): allowed
MAX_STACKED_MARKS = 3


def validate_display_name(name: str) -> None:
    """A display name shows who wrote what: it must be visible text that reads as it is written.

    Refused: names made only of blank or invisible characters; format characters (bidi controls that
    reverse what follows, zero-width spaces, soft hyphens) other than the emoji joiner; letters under a
    pile of combining marks; and e-mail addresses (someone else's would impersonate them, one's own
    would publish it).
    """
    if any(
        (unicodedata.category(char) in {"Cf", "Cc"} and char != ZERO_WIDTH_JOINER) or char in BLANK_LETTERS
        for char in name
    ):
        raise ValidationError(_("Remove the invisible or text-direction characters from the name."), code="invisible")
    if not any(unicodedata.category(char)[0] in "LNPS" for char in name):
        raise ValidationError(_("Use letters, digits or symbols that can be seen."), code="blank")
    marks = 0
    for char in name:
        marks = marks + 1 if unicodedata.category(char).startswith("M") else 0
        if marks > MAX_STACKED_MARKS:
            raise ValidationError(_("Too many accents are stacked on one letter."), code="stacked_marks")
    try:
        validate_email(name)
    except ValidationError:
        return
    raise ValidationError(_("A display name cannot be an e-mail address."), code="email")


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone the server knows, by name ("Asia/Seoul")."""
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones() or value in {"localtime", "Factory"}:
        raise ValidationError(_("Choose a time zone from the list."), code="invalid_time_zone")
