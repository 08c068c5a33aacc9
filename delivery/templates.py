"""Email bodies from ``delivery/templates/<locale>/<category>.{txt,html}`` (string.Template), falling back to ``default`` and ``en``."""

from __future__ import annotations

import html
import importlib.resources
from collections.abc import Sequence
from functools import cache
from string import Template

import msgspec

_ROOT = importlib.resources.files("delivery") / "templates"
FALLBACK_LOCALE = "en"
_BUTTON = "background: #2356d8; color: #fff; padding: 8px 14px; border-radius: 4px; text-decoration: none"


class RenderedEmail(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    text: str
    html: str


@cache
def _template(locale: str, name: str, extension: str) -> Template | None:
    resource = _ROOT / locale / f"{name}.{extension}"
    return Template(resource.read_text(encoding="utf-8")) if resource.is_file() else None


def _find(locale: str, name: str, extension: str) -> Template:
    language = locale.replace("_", "-").split("-")[0].lower()
    for candidate_locale in dict.fromkeys((locale, language, FALLBACK_LOCALE)):
        for candidate in (name, "default"):
            template = _template(candidate_locale, candidate, extension)
            if template is not None:
                return template
    raise LookupError(f"no {extension} email template for {name!r}")


def render_email(
    *, locale: str, template: str, subject: str, values: dict[str, str], actions: Sequence[tuple[str, str]] = ()
) -> RenderedEmail:
    """Render the text and HTML parts of ``template`` in ``locale``; HTML values are escaped.

    ``actions`` (label, absolute URL) fill ``$actions``: a line each in text, a button each in HTML.

    >>> render_email(locale="en", template="task", subject="Hi", values={"title": "<b>", "body": "",
    ...     "link": "", "unsubscribe_url": "", "app_url": "", "category_name": ""}).html.count("&lt;b&gt;") > 0
    True
    """
    text = _find(locale, template, "txt").safe_substitute(
        {**values, "actions": "".join(f"{label}: {url}\n" for label, url in actions)}
    )
    buttons = "".join(
        f'<a href="{html.escape(url)}" style="{_BUTTON}">{html.escape(label)}</a> ' for label, url in actions
    )
    markup = _find(locale, template, "html").safe_substitute(
        {**{k: html.escape(v) for k, v in values.items()}, "actions": f"<p>{buttons}</p>" if actions else ""}
    )
    return RenderedEmail(subject=subject, text=text, html=markup)
