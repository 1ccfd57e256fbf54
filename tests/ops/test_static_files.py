"""`make run` collects the static files with the production storage before anything starts.

whitenoise's manifest storage rewrites every reference a CSS or JS file makes (including a
`sourceMappingURL` comment) and refuses a file whose reference is missing, which stopped
`make run` on a fresh clone; this collects with that storage as `make run` does.
"""

from django.core.management import call_command

from propmgmt import settings as production_settings


def test_collectstatic_with_the_production_storage_succeeds(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = production_settings.STORAGES
    assert "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]

    call_command("collectstatic", interactive=False, verbosity=0)

    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "reporting/vendor/chart.js-4.6.1/chart.umd.min.js" in manifest
    assert "admin/css/base.css" in manifest
