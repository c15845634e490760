"""Hostile comments: what a learner might type to run script in other readers' browsers.

Each payload that would work sets ``window.__pwned``, opens a dialog, or creates an element whose id
starts with ``pwned`` (the browser test looks for all three). Shared by the tests of the stored HTML
(tests/comments/test_hostile_input.py) and the browser test (tests/e2e/test_comment_payloads.py).
"""

JS = "window.__pwned=1"
SVG_SCRIPT_BASE64 = (
    "PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnIG9ubG9hZD0nYWxlcnQoMSknLz4="  # <svg onload=alert(1)>
)
HTML_SCRIPT_BASE64 = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>

PAYLOADS: dict[str, str] = {
    # Raw HTML: shown as text, never as elements.
    "script tag": f"<script>{JS}</script>",
    "script tag with src": "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "img onerror": f'<img id="pwned-img" src=x onerror="{JS}">',
    "body onload": "<body onload=alert(1)>",
    "div event handler": f'<div id="pwned-div" onmouseover="{JS}">hover me</div>',
    "html link to javascript": f'<a id="pwned-a" href="javascript:{JS}">click</a>',
    "iframe javascript": f'<iframe id="pwned-iframe" src="javascript:{JS}"></iframe>',
    "iframe srcdoc": '<iframe id="pwned-srcdoc" srcdoc="<script>parent.alert(1)</script>"></iframe>',
    "style tag and attribute": '<style>body{display:none}</style><p id="pwned-style" style="position:fixed">x</p>',
    "svg onload": f'<svg id="pwned-svg" onload="{JS}"><circle r="10"/></svg>',
    "svg script": f"<svg><script>{JS}</script></svg>",
    "svg xlink href": '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">click</text></a></svg>',
    "svg animate": f'<svg><animate id="pwned-animate" onbegin="{JS}" attributeName="x" dur="1s"/></svg>',
    "mathml mutation": f"<math><mtext><table><mglyph><style><img id=pwned-math src=x onerror={JS}>",
    "mathml href": '<math href="javascript:alert(1)" id="pwned-mathml">click</math>',
    "object data": f'<object id="pwned-object" data="javascript:{JS}"></object>',
    "embed": '<embed id="pwned-embed" src="data:text/html,<script>parent.alert(1)</script>">',
    "form action": '<form id="pwned-form" action="javascript:alert(1)"><button>go</button></form>',
    "autofocus input": f'<input id="pwned-input" autofocus onfocus="{JS}">',
    "details ontoggle": f'<details id="pwned-details" open ontoggle="{JS}">x</details>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base href": '<base href="javascript:alert(1)//">',
    "comment breakout": f'<!--<img src="--><img id=pwned-comment src=x onerror={JS}//">',
    "split script tag": f"<scr<script>ipt>{JS}</scr</script>ipt>",
    "unclosed img": f"<img id=pwned-unclosed src=x onerror={JS}",
    "unclosed anchor": '<a id="pwned-open" href="https://evil.example/" onclick="alert(1)"',
    "noscript title": f'<noscript><p title="</noscript><img id=pwned-noscript src=x onerror={JS}>">',
    "template": f"<template><script>{JS}</script></template>",
    "video source": f'<video><source id="pwned-video" onerror="{JS}"></video>',
    # Markdown links to addresses that run script.
    "link javascript": f"[click](javascript:{JS})",
    "link mixed case": f"[click](JaVaScRiPt:{JS})",
    "link decimal entities": f"[click](&#106;&#97;&#118;&#97;script:{JS})",
    "link hex entities": f"[click](&#x6A;avascript&#x3A;{JS})",
    "link tab entity": f"[click](java&#x09;script:{JS})",
    "link control character": f"[click](\x01javascript:{JS})",
    "link leading spaces": f"[click](   javascript:{JS} )",
    "link angle brackets": f"[click](<javascript:{JS}>)",
    "link data html": f"[click](data:text/html;base64,{HTML_SCRIPT_BASE64})",
    "link data svg": f"[click](data:image/svg+xml;base64,{SVG_SCRIPT_BASE64})",
    "link vbscript": '[click](vbscript:MsgBox("pwned"))',
    "link vbscript mixed case": '[click](VbScRiPt:MsgBox("pwned"))',
    "link protocol relative": "[click](//evil.example/)",
    "link file": "[click](file:///etc/passwd)",
    # Autolinks.
    "autolink javascript": f"<javascript:{JS}>",
    "autolink upper case": "<JAVASCRIPT:alert(1)>",
    "autolink data": "<data:text/html,<script>alert(1)</script>>",
    "autolink vbscript": '<vbscript:MsgBox("pwned")>',
    "autolink quote breakout": f'<https://ok.example/"onmouseover="{JS}>',
    # Images (not rendered in comments at all).
    "image javascript": f"![x](javascript:{JS})",
    "image onerror breakout": f'![x](https://evil.example/x.png" onerror="{JS})',
    "image data svg": f"![x](data:image/svg+xml;base64,{SVG_SCRIPT_BASE64})",
    # Reference-style links.
    "reference javascript": f"[click][r]\n\n[r]: javascript:{JS}",
    "reference data with title": '[click][r]\n\n[r]: <data:text/html,x> "title"',
    "reference vbscript shortcut": '[r]\n\n[r]: vbscript:MsgBox("pwned")',
    # Attribute breakouts in link titles.
    "title double quote": f'[x](https://ok.example "\\"><script>{JS}</script>")',
    "title single quote": f"[x](https://ok.example '\\' onmouseover=\\'{JS}')",
    "title parentheses": f'[x](https://ok.example (" autofocus onfocus="{JS}))',
    # Code fences and their info strings.
    "fence info attribute breakout": f'```python" onmouseover="{JS}\nprint(1)\n```',
    "fence info script": f"```<script>{JS}</script>\nx\n```",
    "fence title": f'```python title="<img id=pwned-fence src=x onerror={JS}>"\nprint(1)\n```',
    "fence html body": f"~~~html\n<script>{JS}</script>\n~~~",
    "inline code": f"`<script>{JS}</script>`",
    # Entity and Unicode tricks.
    "fullwidth brackets": f"\uff1cscript\uff1e{JS}\uff1c/script\uff1e",  # ＜script＞ # noqa: RUF003
    "escaped entities": f"&lt;script&gt;{JS}&lt;/script&gt;",
    "numeric entities": f"&#60;img id=pwned-entity src=x onerror={JS}&#62;",
    "zero-width space": f"<scr\u200bipt>{JS}</script>",
    "right-to-left override": f"\u202e[click](https://ok.example)\u202d <img id=pwned-rtl src=x onerror={JS}>",
    "byte order mark": f"\ufeff<script>{JS}</script>",
    # Very large input within the length limit.
    "emphasis bomb": "*a **a " * 700,
    "bracket bomb": "[" * 4900 + f"](javascript:{JS})",
    "very long line": "a" * 4999,
    "deep quotes": "> " * 1000 + f"<script>{JS}</script>",
    "deep lists": "".join("  " * depth + "- x\n" for depth in range(60)) + f"<script>{JS}</script>",
}

# Refused before anything is rendered: PostgreSQL cannot store a NUL character.
NUL_PAYLOADS = {
    "nul in a script tag": f"<scr\x00ipt>{JS}</script>",
    "nul in a link": f"[click](java\x00script:{JS})",
}
