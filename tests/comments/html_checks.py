"""What the HTML of a comment may contain, checked with an HTML parser."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

from comments.sanitize import ALLOWED_ATTRIBUTE_VALUES, ALLOWED_ATTRIBUTES, ALLOWED_CLASSES, ALLOWED_TAGS

LINK_REL = "nofollow ugc noopener"


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def problems(html: str) -> list[str]:
    """Everything in ``html`` that the comment allowlist does not allow (empty when the HTML is safe)."""
    found = []
    for tag, attributes in elements(html):
        if tag not in ALLOWED_TAGS:
            found.append(f"element <{tag}>")
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | set(ALLOWED_ATTRIBUTE_VALUES.get(tag, {}))
        if tag in ALLOWED_CLASSES:
            allowed |= {"class"}
        if tag == "a":
            allowed |= {"rel"}
        for name, value in attributes.items():
            if name.startswith("on"):
                found.append(f"event handler {name} on <{tag}>")
            if name == "style":
                found.append(f"style on <{tag}>")
            if name not in allowed:
                found.append(f"attribute {name} on <{tag}>")
            if name == "class" and not set((value or "").split()) <= ALLOWED_CLASSES.get(tag, set()):
                found.append(f"class {value!r} on <{tag}>")
        if tag == "a":
            href = attributes.get("href")
            if href is not None and urlsplit(href.strip()).scheme.lower() not in {"http", "https", "mailto"}:
                found.append(f"link to {href!r}")
            if attributes.get("rel") != LINK_REL:
                found.append(f"link with rel={attributes.get('rel')!r}")
    return found
