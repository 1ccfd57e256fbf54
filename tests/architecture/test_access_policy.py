"""One access policy, errors answered once at the API edge, and apps that stand on their
own (docs/ARCHITECTURE.md, "Apps and imports"). Read from the source with ast, like
test_app_imports.py, so a lazy import or a local helper cannot hide."""

import ast
import importlib
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError

from apps.core.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
ROLES = "apps/core/roles.py"
POLICY = "apps/core/api.py"

# The only `propmgmt` imports an app may make, each with why it cannot do without.
PROPMGMT_IMPORTS = {
    # The relay builds task messages with the configured Celery app's amqp (its task
    # protocol, serializer and routes); `celery.current_app` may be the default app there.
    ("apps/messaging/publisher.py", "propmgmt.celery"),
    # The demo drives the running workers through the app's remote control.
    ("apps/ops/management/commands/demo.py", "propmgmt.celery"),
}

# HTML pages render a refusal into their template (status 400), which no API handler can.
PAGES_THAT_CATCH = {("apps/registration/views.py", "ConfirmationError")}


def modules(*roots):
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def imported_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_no_app_imports_propmgmt():
    found = {
        (path, name)
        for path, tree in modules("apps")
        for name in imported_names(tree)
        if name == "propmgmt" or name.startswith("propmgmt.")
    }
    assert found <= PROPMGMT_IMPORTS, sorted(found - PROPMGMT_IMPORTS)


def view_modules():
    """The modules that answer requests: every app's api/ views and its HTML views."""
    for path, tree in modules("apps"):
        parts = Path(path).parts
        if parts[-1] == "views.py" or (len(parts) > 3 and parts[2] == "api" and "views" in path):
            yield path, tree


def caught_names(handler):
    types = handler.type
    nodes = types.elts if isinstance(types, ast.Tuple) else [types] if types else []
    return [ast.unparse(node) for node in nodes]


def error_mapped_by_hand(module, name):
    """Whether `name` (as written in an except clause of `module`) is an error the API's
    one exception handler answers."""
    value = module
    for part in name.split("."):
        value = getattr(value, part, None)
    return isinstance(value, type) and issubclass(
        value, (DomainError, DjangoValidationError, PermissionDenied)
    )


def test_views_map_no_domain_error_by_hand():
    paths = [path for path, _ in view_modules()]
    assert "apps/registration/api/views.py" in paths and "apps/messaging/api/views.py" in paths
    offenders = []
    for path, tree in view_modules():
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler):
                offenders += [
                    f"{path}:{node.lineno} except {name}"
                    for name in caught_names(node)
                    if error_mapped_by_hand(module, name) and (path, name) not in PAGES_THAT_CATCH
                ]
    assert not offenders, "map domain errors in apps.core.api.exception_handler:\n" + "\n".join(
        offenders
    )


def admin_checks(path, tree):
    """Every way `path` asks "is this user an admin" other than calling user_is_admin."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "is_admin" in node.name:
            yield f"{path}:{node.lineno} def {node.name}"
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "is_superuser"
            and isinstance(node.ctx, ast.Load)
        ):
            yield f"{path}:{node.lineno} reads .is_superuser"
        elif isinstance(node, ast.Compare) and "Role.ADMIN" in ast.unparse(node):
            yield f"{path}:{node.lineno} compares with Role.ADMIN"


def test_one_admin_check():
    checks = [
        check
        for path, tree in modules("apps", "propmgmt", "tasks")
        for check in admin_checks(path, tree)
    ]
    elsewhere = [check for check in checks if not check.startswith(f"{ROLES}:")]
    assert not elsewhere, "ask apps.core.roles.user_is_admin instead:\n" + "\n".join(elsewhere)
    assert any(check.endswith("def user_is_admin") for check in checks)


@pytest.mark.parametrize(
    "source",
    [
        "def is_admin(user): return user.role == 'admin'",
        "def f(user): return user.is_superuser",
        "def f(user): return user.role in (Role.MANAGER, Role.ADMIN)",
    ],
)
def test_an_admin_check_of_its_own_is_found(source):
    assert list(admin_checks("apps/x.py", ast.parse(source)))


def test_one_role_rule_style():
    """Permission classes live in the policy module; views set `role_rules`."""
    found = []
    for path, tree in modules("apps"):
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and path != POLICY:
                bases = [ast.unparse(base) for base in node.bases]
                found += [
                    f"{path}:{node.lineno} {node.name}({b})" for b in bases if "Permission" in b
                ]
                found += [
                    f"{path}:{node.lineno} {node.name}.authorize"
                    for statement in node.body
                    if isinstance(statement, ast.Assign)
                    for target in statement.targets
                    if isinstance(target, ast.Name) and target.id == "authorize"
                ]
    assert not found, found
