"""Every HTML page the site serves carries a Content-Security-Policy that forbids inline
script, and no template puts script inline (the browser side is in
tests/admin/test_admin_script_injection_browser.py).

The pages are found, not listed: every URL pattern without parameters (the admin's index,
changelists and add forms, the dashboard, the docs, the front door ...), every admin change
form of the demo data, and the pages that take a token or miss."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.template import engines
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.fixtures.demo import login

pytestmark = pytest.mark.django_db


def plain_paths(resolver=None, prefix=""):
    """Every URL path of the project whose pattern takes no parameter."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = str(entry.pattern)
        if re.search(r"[<(\[]", route.lstrip("^").rstrip("$").replace("\\", "")):
            continue  # converters, regex groups: a parameter
        route = route.lstrip("^").rstrip("$").replace("\\", "")
        if isinstance(entry, URLResolver):
            yield from plain_paths(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route


def script_sources(policy):
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    return directives.get("script-src") or directives.get("default-src")


@pytest.fixture
def admin_client(client):
    call_command("seed_demo", verbosity=0)
    login(client, "admin")
    return client


def html_pages(client):
    paths = [*plain_paths(), "/no/such/page/", "/accounts/reset/MQ/bad-token/"]
    for model in admin.site._registry:
        obj = model._default_manager.first()
        if obj is not None:
            info = model._meta.app_label, model._meta.model_name
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    for path in paths:
        response = client.get(path)
        if response.get("Content-Type", "").startswith("text/html"):
            yield path, response


def test_every_html_page_carries_a_policy_without_inline_script(admin_client):
    pages = dict(html_pages(admin_client))
    assert len(pages) > 60, sorted(pages)  # the admin's pages and the site's
    for expected in ("/", "/admin/", "/admin/reports/dashboard/", "/api/v1/docs/"):
        assert expected in pages
    for path, response in pages.items():
        policy = response.get("Content-Security-Policy")
        assert policy, f"{path} ({response.status_code}) has no Content-Security-Policy"
        sources = script_sources(policy)
        assert sources == ["'self'"], (path, policy)
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_anonymous_pages_carry_the_policy_too(client):
    for path in ("/", "/admin/login/", "/api/v1/docs/", "/accounts/confirm/?token=x", "/nope/"):
        assert client.get(path).get("Content-Security-Policy"), path


def test_no_template_has_inline_script_or_event_handlers():
    """Inline script would be refused by the policy; request data in it is an injection."""
    # Our own templates only: the project's template dirs and its apps', not installed
    # packages (the virtualenv lives inside the checkout).
    ours = [Path(d) for engine in engines.all() for d in engine.template_dirs]
    ours += [Path(c.path) / "templates" for c in apps.get_app_configs()]
    directories = [
        d for d in ours if d.is_relative_to(settings.BASE_DIR) and "site-packages" not in d.parts
    ]
    templates = [p for d in directories if d.is_dir() for p in d.rglob("*.html")]
    assert len(templates) > 10
    for template in templates:
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {template}"
        assert not re.search(r"javascript:", text, re.I), f"javascript: URL in {template}"
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{tag} in {template}"
