from django.apps import AppConfig

from apps.core.roles import Role


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    # Managers see the residents and staff of their properties; only admins change users.
    role_permissions = {Role.MANAGER: ("view_user",)}
