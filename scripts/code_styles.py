"""Write the code highlighting styles, static/css/pygments-light.css and pygments-dark.css.

    .venv/bin/python scripts/code_styles.py [--light default] [--dark monokai]

Each file comes from a Pygments style. Every token colour that falls short of 4.5:1
(WCAG 1.4.3, normal text) against the background it is drawn on — the token's own
background if the style gives it one, else the site's `--code-bg` for that colour scheme,
read from static/css/site.css — is made darker (light scheme) or lighter (dark scheme),
keeping its hue and saturation, just enough to reach 4.5:1. The file's header says which
colours changed. tests/courses/test_code_styles.py checks the files that are committed.
"""

import argparse
import colorsys
import re
from pathlib import Path

from pygments.formatters import HtmlFormatter
from pygments.style import ansicolors
from pygments.styles import get_style_by_name
from pygments.token import Token

ROOT = Path(__file__).resolve().parent.parent
SITE_CSS = ROOT / "static" / "css" / "site.css"
MINIMUM_CONTRAST = 4.5


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of a #rgb or #rrggbb colour."""
    hex_digits = color.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(digit * 2 for digit in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in (red, green, blue))


def raise_contrast(color: str, background: str) -> str:
    """The colour of the same hue and saturation, nearest in lightness, that reaches the minimum."""
    hex_digits = color.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(digit * 2 for digit in hex_digits)
    hue, lightness, saturation = colorsys.rgb_to_hls(*(int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)))
    # Towards black on a light background, towards white on a dark one.
    target = 0.0 if luminance(background) > 0.18 else 1.0
    near, far = lightness, target
    for _ in range(40):
        middle = (near + far) / 2
        if contrast(_hex(*colorsys.hls_to_rgb(hue, middle, saturation)), background) >= MINIMUM_CONTRAST:
            far = middle
        else:
            near = middle
    adjusted = _hex(*colorsys.hls_to_rgb(hue, far, saturation))
    if contrast(adjusted, background) < MINIMUM_CONTRAST:
        raise ValueError(f"{color} cannot reach {MINIMUM_CONTRAST}:1 on {background}")
    return adjusted


def code_backgrounds() -> tuple[str, str]:
    """`--code-bg` of the light and the dark scheme, in the order site.css defines them."""
    found = re.findall(r"--code-bg:\s*(#[0-9a-fA-F]{3,6})\s*;", SITE_CSS.read_text())
    if len(found) != 2:
        raise SystemExit(f"expected --code-bg twice (light, then dark) in {SITE_CSS}, found {found}")
    return found[0], found[1]


def _with_color(style: str, color: str) -> str:
    """A Pygments style string with its own text colour replaced (bg: and border: kept)."""
    kept = [part for part in style.split() if not (part.startswith("#") or part in ansicolors)]
    return " ".join([*kept, color])


def accessible_css(style_name: str, background: str) -> str:
    base = get_style_by_name(style_name)
    styles = dict(base.styles)
    changes: dict[tuple[str, str], str] = {}
    for token, resolved in base:
        if not resolved["color"]:
            continue
        color = "#" + resolved["color"].lower()
        ground = "#" + resolved["bgcolor"] if resolved["bgcolor"] else background
        if contrast(color, ground) < MINIMUM_CONTRAST:
            adjusted = changes.setdefault((color, ground), raise_contrast(color, ground))
            styles[token] = _with_color(styles.get(token, ""), adjusted)
    style = type(f"Accessible{base.__name__}", (base,), {"styles": styles})

    lines = [
        f"/* Pygments '{style_name}' style on --code-bg {background}, written by scripts/code_styles.py:",
        "   do not edit, run `.venv/bin/python scripts/code_styles.py` instead.",
    ]
    if changes:
        lines.append(f"   Raised to {MINIMUM_CONTRAST}:1 contrast:")
        lines += [f"   {color} → {adjusted} (on {ground})" for (color, ground), adjusted in sorted(changes.items())]
    lines[-1] += " */"
    text_color = style.style_for_token(Token)["color"]
    if text_color:
        lines.append(f".highlight {{ color: #{text_color} }}")
    lines += HtmlFormatter(style=style).get_token_style_defs(".highlight")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--light", default="default", help="Pygments style for the light scheme")
    parser.add_argument("--dark", default="monokai", help="Pygments style for the dark scheme")
    arguments = parser.parse_args()
    light_background, dark_background = code_backgrounds()
    for name, style_name, background in (
        ("pygments-light.css", arguments.light, light_background),
        ("pygments-dark.css", arguments.dark, dark_background),
    ):
        path = ROOT / "static" / "css" / name
        path.write_text(accessible_css(style_name, background))
        print(f"wrote {path.relative_to(ROOT)} from '{style_name}'")


if __name__ == "__main__":
    main()
