"""Checks of uploaded files by their content, shared by every feature that accepts documents."""

from __future__ import annotations

from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

PDF_MAGIC = b"%PDF-"


def pdf_problem(file: Any, *, max_bytes: int, what: str) -> str | None:
    """Why `file` is refused as a PDF (`what` names it, e.g. "a signed agreement"), or None.

    The content decides, not the name: a PNG renamed to .pdf is refused.
    """
    if file is None:
        return None
    name = getattr(file, "name", "") or _("the file")
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        return _("“%(name)s” is %(size)s; %(what)s may be at most %(limit)s.") % {
            "name": name, "size": filesizeformat(size), "what": what, "limit": filesizeformat(max_bytes)}
    if size == 0:
        return _("“%(name)s” is empty. Upload the PDF again.") % {"name": name}
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(len(PDF_MAGIC))
    file.seek(position)
    if head != PDF_MAGIC:
        return _("“%(name)s” is not a PDF document (its content is of another kind, whatever its name says). "
                 "Save or export it as PDF and upload that.") % {"name": name}
    return None
