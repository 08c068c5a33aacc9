"""The built-in report templates, by key: each builds one SQL statement whose rows are the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.errors import AppError
from api.reports.templates.base import Template
from api.reports.templates.operations import OPERATIONS_TEMPLATES
from api.reports.templates.people import PEOPLE_TEMPLATES

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["TEMPLATES", "Template", "template_named"]

TEMPLATES: Mapping[str, Template] = {template.key: template for template in (*PEOPLE_TEMPLATES, *OPERATIONS_TEMPLATES)}


def template_named(key: str) -> Template:
    """The template ``key``.

    Raises:
        AppError: ``unknown_report`` (404) for a key no template has.
    """
    template = TEMPLATES.get(key)
    if template is None:
        raise AppError("unknown_report", f"There is no report {key!r}.", status_code=404, details={"template": key})
    return template
