"""Render a notification template: templates/notifications/<template>/subject.txt,
body.txt and (for email) body.html. Text parts are rendered without HTML escaping."""

from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template


class UnknownTemplateError(ValueError):
    pass


def _path(template, part):
    return f"notifications/{template}/{part}"


def _render(template, part, variables, *, autoescape):
    try:
        compiled = get_template(_path(template, part))
    except TemplateDoesNotExist:
        return None
    # The backend wrapper always autoescapes; the raw template lets text parts opt out.
    return compiled.template.render(Context(variables, autoescape=autoescape))


def template_exists(template):
    try:
        get_template(_path(template, "body.txt"))
    except TemplateDoesNotExist:
        return False
    return True


def template_render(template, variables, *, html=False):
    """Return (subject, body_text, body_html); raises UnknownTemplateError."""
    if not template or "/" in template or ".." in template or not template_exists(template):
        raise UnknownTemplateError(f"unknown notification template {template!r}")
    variables = dict(variables or {})
    subject = _render(template, "subject.txt", variables, autoescape=False) or ""
    subject = " ".join(subject.split())[:255]
    body_text = (_render(template, "body.txt", variables, autoescape=False) or "").strip()
    body_html = ""
    if html:
        body_html = (_render(template, "body.html", variables, autoescape=True) or "").strip()
    return subject, body_text, body_html
