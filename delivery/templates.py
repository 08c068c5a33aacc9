"""Email bodies from ``delivery/templates/<locale>/<category>.{txt,html}`` (string.Template), falling back to ``default`` and ``en``."""

from __future__ import annotations

import html
import importlib.resources
from functools import cache
from string import Template

import msgspec

_ROOT = importlib.resources.files("delivery") / "templates"
FALLBACK_LOCALE = "en"


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


def render_email(*, locale: str, template: str, subject: str, values: dict[str, str]) -> RenderedEmail:
    """Render the text and HTML parts of ``template`` in ``locale``; HTML values are escaped.

    >>> render_email(locale="en", template="task", subject="Hi", values={"title": "<b>", "body": "",
    ...     "link": "", "unsubscribe_url": "", "app_url": "", "category_name": ""}).html.count("&lt;b&gt;") > 0
    True
    """
    text = _find(locale, template, "txt").safe_substitute(values)
    markup = _find(locale, template, "html").safe_substitute({k: html.escape(v) for k, v in values.items()})
    return RenderedEmail(subject=subject, text=text, html=markup)
