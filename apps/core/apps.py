from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    """Shared mechanisms (the workflow engine, domain errors, admin and API pieces) and the
    database creation command."""

    name = "apps.core"
    label = "core"


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the propmgmt site: entry by role, an index per role."""

    default = False  # CoreConfig stays the default config of apps.core
    default_site = "apps.core.admin.PropmgmtAdminSite"
