"""One residency rule: which residencies give rights (approved, started, not ended) is
decided once, by residencies_in_force() in apps/properties/selectors.py. Every other
module reads residencies through it (or the selectors built on it), so a recipient list,
a permission or a scope cannot forget a condition (a pending claim once received every
announcement of its property). Read from the source with ast: a query on
`Residency.objects`, a `residencies` related manager or a `residencies__...` lookup
outside the modules below fails here."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Modules that may query residencies directly, and why.
ALLOWED = {
    "apps/properties/selectors.py": "the rule itself",
    "apps/properties/services.py": "writes: the move job stamps residencies as their dates come",
    "apps/registration/services.py": "writes: claims, their approval, invitations",
    "apps/registration/selectors.py": "the claims managers decide on, in every status",
    "apps/ops/management/commands/seed_demo.py": "creates the demo's residencies",
    "apps/registration/admin.py": "the admin's users: a claimant too, for the managers to decide",
}


def direct_queries(path):
    """Lines of `path` that query residencies without the rule."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and (
            (node.attr == "objects" and getattr(node.value, "id", None) == "Residency")
            or node.attr == "residencies"
        ):
            found.append(node.lineno)
        elif isinstance(node, ast.keyword) and (node.arg or "").startswith("residencies__"):
            found.append(node.value.lineno)
        elif isinstance(node, ast.Constant) and str(node.value).startswith("residencies__"):
            found.append(node.lineno)
    return sorted(found)


def test_the_check_sees_a_direct_query(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "Residency.objects.filter(status='approved')\nunit.residencies.first()\n"
        "User.objects.filter(residencies__unit=u)\nQ(**{'residencies__unit': u})\n"
    )
    assert direct_queries(module) == [1, 2, 3, 4]


def test_residencies_are_read_through_the_rule():
    offenders = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "apps").rglob("*.py"))
        if "migrations" not in path.parts and str(path.relative_to(ROOT)) not in ALLOWED
        for line in direct_queries(path)
    }
    assert not offenders, "query residencies through residencies_in_force(): " + ", ".join(
        sorted(offenders)
    )
