"""The OpenAPI schema generates without warnings and validates; the docs page is served."""

import pytest
from django.core.management import call_command
from django.test import Client


def test_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    schema = (tmp_path / "schema.yml").read_text()
    for path in (
        "/api/v1/repairs/",
        "/api/v1/complaints/",
        "/api/v1/visitors/",
        "/api/v1/assets/",
        "/api/v1/parcels/",
    ):
        assert path in schema


@pytest.mark.django_db
def test_swagger_ui_is_served_with_local_assets():
    page = Client().get("/api/v1/docs/")
    assert page.status_code == 200
    assert "drf_spectacular_sidecar" in page.content.decode()


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_no_operation_is_described_by_a_developer_docstring(tmp_path):
    """drf-spectacular describes an operation without a description of its own by its
    view's docstring, the first in the view's classes: an API reader must get words
    written for them, never a developer's note on our code (its calls, `name(...)`, its
    files and docs)."""
    import re

    import yaml

    call_command("spectacular", "--file", str(tmp_path / "schema.yml"))
    schema = yaml.safe_load((tmp_path / "schema.yml").read_text())
    described = {
        f"{method.upper()} {path}": operation.get("description", "")
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
    }
    assert len(described) > 100
    code = re.compile(r"`[\w.]+\(|docs/\w|\w\.py\b")
    leaked = sorted(name for name, text in described.items() if code.search(text))
    assert not leaked, f"described by notes on the code: {leaked}"
