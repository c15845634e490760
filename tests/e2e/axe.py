"""axe-core in the page: the serious and critical violations it finds, as (rule, impact, how many elements)."""

import json

from axe_playwright_python.base import AXE_SCRIPT


def serious_axe_violations(page, *, include: list[str] | None = None) -> list:
    """What axe-core finds serious or critical on the page, or only in the elements matching ``include``."""
    page.evaluate(AXE_SCRIPT)
    context = json.dumps({"include": [[selector] for selector in include]}) if include else "document"
    found = page.evaluate(
        f"axe.run({context}).then(result => result.violations.map(v => [v.id, v.impact, v.nodes.length]))"
    )
    return [violation for violation in found if violation[1] in {"serious", "critical"}]
