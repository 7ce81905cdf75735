"""Phases the package ships for Django's own contrib migrations, so a fresh project deploys
without configuration. Every one is additive: Django's own code of any supported version keeps
working after each of them."""

from __future__ import annotations

from typing import Final

from django_deploykit.migrate_safe.phases import ADDITIVE, Phase

_WIDENS_OR_DOCUMENTS = "Django's own migration; it widens a column or changes only Python attributes."

CONTRIB_PHASES: Final[dict[str, tuple[Phase, str]]] = {
    "admin.0001_initial": (ADDITIVE, "Django's own migration; it creates the admin's tables."),
    "admin.0002_logentry_remove_auto_add": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "admin.0003_logentry_add_action_flag_choices": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0001_initial": (ADDITIVE, "Django's own migration; it creates the auth tables."),
    "auth.0002_alter_permission_name_max_length": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0003_alter_user_email_max_length": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0004_alter_user_username_opts": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0005_alter_user_last_login_null": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0006_require_contenttypes_0002": (ADDITIVE, "Django's own migration; it has no operations."),
    "auth.0007_alter_validators_add_error_messages": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0008_alter_user_username_max_length": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0009_alter_user_last_name_max_length": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0010_alter_group_name_max_length": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "auth.0011_update_proxy_permissions": (
        ADDITIVE,
        "Django's own data migration; it moves proxy model permissions to their own content type, "
        "which every supported Django version expects.",
    ),
    "auth.0012_alter_user_first_name_max_length": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "contenttypes.0001_initial": (ADDITIVE, "Django's own migration; it creates the content types table."),
    "contenttypes.0002_remove_content_type_name": (
        ADDITIVE,
        "Django's own migration; no supported Django version reads or writes ContentType.name.",
    ),
    "flatpages.0001_initial": (ADDITIVE, "Django's own migration; it creates the flatpages tables."),
    "redirects.0001_initial": (ADDITIVE, "Django's own migration; it creates the redirects table."),
    "redirects.0002_alter_redirect_new_path_help_text": (ADDITIVE, _WIDENS_OR_DOCUMENTS),
    "sessions.0001_initial": (ADDITIVE, "Django's own migration; it creates the sessions table."),
    "sites.0001_initial": (ADDITIVE, "Django's own migration; it creates the sites table."),
    "sites.0002_alter_domain_unique": (
        ADDITIVE,
        "Django's own migration; every supported Django version already rejects duplicate domains "
        "in its own code.",
    ),
}
