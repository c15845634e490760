"""The highlighting colours in the committed CSS, checked against the backgrounds they are drawn on."""

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "static" / "css"
MINIMUM = 4.5  # WCAG 1.4.3, normal text: code is 14 px


def contrast(first: str, second: str) -> float:
    def luminance(color: str) -> float:
        digits = color.lstrip("#")
        if len(digits) == 3:
            digits = "".join(digit * 2 for digit in digits)
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def scheme_variables() -> dict[str, dict[str, str]]:
    """site.css's custom properties: the light ones in :root, the dark ones in the dark media query."""
    site = (CSS / "site.css").read_text()
    dark_start = site.index("@media (prefers-color-scheme: dark)")
    light_block = site[: site.index("}")]
    dark_block = site[dark_start : site.index("}", dark_start)]

    def variables(block: str) -> dict[str, str]:
        return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", block))

    return {"light": variables(light_block), "dark": variables(dark_block)}


def rules(css: str) -> list[tuple[str, dict[str, str]]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [
        (selector.strip(), dict(re.findall(r"([\w-]+)\s*:\s*([^;]+?)\s*(?:;|$)", body.strip())))
        for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css)
    ]


HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_code_colour_reaches_4_5_to_1_on_the_background_it_is_drawn_on(scheme):
    """Pins axe's colour-contrast failures on highlighted code (.go, .c1, .ow, .ne, .si at about 4.4:1)."""
    variables = scheme_variables()[scheme]
    code_background = variables["--code-bg"]
    parsed = rules((CSS / f"pygments-{scheme}.css").read_text())
    # Tokens without a colour of their own are drawn in the block's colour, else the page's text colour.
    base = next(
        (d["color"] for selector, d in parsed if selector == ".highlight" and "color" in d), variables["--text"]
    )
    pairs = [(".highlight (plain text)", base, code_background)]
    for selector, declarations in parsed:
        if HEX.fullmatch(declarations.get("color", "")):
            background = declarations.get("background-color", "")
            pairs.append(
                (selector, declarations["color"], background if HEX.fullmatch(background) else code_background)
            )
    failures = [
        f"{selector}: {color} on {background} is {contrast(color, background):.2f}:1"
        for selector, color, background in pairs
        if contrast(color, background) < MINIMUM
    ]
    assert len(pairs) > 50, "the stylesheet was not parsed"
    assert failures == []


def test_the_code_background_is_the_one_site_css_draws_behind_highlighted_code():
    """The check above is only true if the highlighter paints no background of its own over --code-bg."""
    site = (CSS / "site.css").read_text()
    assert re.search(r"\.code-block\s*\{[^}]*background:\s*var\(--code-bg\)", site)
    assert re.search(r"\.code-block \.highlight\s*\{[^}]*background:\s*transparent", site)
    for scheme in ("light", "dark"):
        for selector, declarations in rules((CSS / f"pygments-{scheme}.css").read_text()):
            if selector == ".highlight":
                assert "background" not in declarations and "background-color" not in declarations
