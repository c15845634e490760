import re
import unicodedata
import zoneinfo
from functools import cache

from confusable_homoglyphs import confusables
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

# Letters that render as blank space although Unicode calls them letters; marks that render as nothing at all
# (the combining grapheme joiner, Khmer's inherent vowels, Mongolian's variation selectors: default-ignorable).
BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
INVISIBLE_MARKS = {"\u034f", "\u17b4", "\u17b5", "\u180b", "\u180c", "\u180d", "\u180f"}
# Control, format, and line or paragraph separator characters.
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
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
        (unicodedata.category(char) in INVISIBLE_CATEGORIES and char != ZERO_WIDTH_JOINER)
        or char in BLANK_LETTERS
        or char in INVISIBLE_MARKS
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
        validate_email(normalize_name(name))  # an address written with a full-width at sign (U+FF20) too
    except ValidationError:
        return
    raise ValidationError(_("A display name cannot be an e-mail address."), code="email")


def normalize_name(name: str) -> str:
    """A name as it is kept: NFKC (full-width letters, ligatures and the like as their plain forms), single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


# Words a name may not contain, however it is spelled (in capitals, in look-alike letters of other scripts): a
# learner's name must not pass for the site or its staff, whom a badge names instead (comments/comment.html).
RESERVED_WORDS = {"admin", "administrator", "moderator", "staff", "stream"}
# Korean has no spaces between a word and its particles ("관리자님"): these are refused anywhere in a name.
RESERVED_KOREAN = ("관리자", "운영자", "운영진", "모더레이터", "스태프", "스트림")


def skeleton(name: str) -> str:
    """What ``name`` looks like (Unicode TR39's idea of a skeleton, toward Latin): NFKC, each character that can
    pass for a Latin one replaced by it (Cyrillic A, U+0410, by A), then case-folded. For comparing, not showing."""
    shown = []
    for char in unicodedata.normalize("NFKC", name):
        found = confusables.is_confusable(char, preferred_aliases=["latin"], greedy=True) if not char.isascii() else []
        latin = [glyph["c"] for item in found or [] for glyph in item["homoglyphs"] if glyph["n"].startswith("LATIN")]
        shown.append(latin[0] if latin else char)
    return "".join(shown).casefold()


def validate_not_impersonating(name: str, *, staff_names: list[str]) -> None:
    """Refuse a name that reads as the site's or its staff's: a reserved word, or a staff member's name, in any
    spelling that looks the same."""
    looks = skeleton(name)
    if set(re.findall(r"[^\W_]+", looks)) & RESERVED_WORDS or any(word in looks for word in RESERVED_KOREAN):
        raise ValidationError(
            _("This name could pass for the site or its staff; choose another. Staff are shown with a badge."),
            code="reserved",
        )
    if any(looks == skeleton(staff_name) for staff_name in staff_names if staff_name.strip()):
        raise ValidationError(_("This name looks like a staff member's; choose another."), code="staff_name")


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone the server knows, by name ("Asia/Seoul")."""
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones() or value in {"localtime", "Factory"}:
        raise ValidationError(_("Choose a time zone from the list."), code="invalid_time_zone")
