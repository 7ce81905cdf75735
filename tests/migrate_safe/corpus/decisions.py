"""The corpus project's decisions for migrations no rule can decide: the one place they live.

Each entry is what a user of these packages writes in ``DEPLOYKIT_MIGRATION_PHASES`` after reading
the migration: every migration here runs Python (RunPython, or wagtail's custom
BootstrapTranslatableModel) that deploykit cannot judge. Migrations blocked only by schema
operations are deliberately absent: the issue's target is that they need no override, and the test
counts them. A decision covers the whole migration, so where a migration also holds a schema
operation the rules refuse, the comment says so.

The phases: a data migration that only adds rows or fills new columns the old code ignores
(permissions, initial data, back-fills) runs before the swap, "additive"; one that rewrites data
the old code reads, or comes with a tightening schema change, runs after it, "destructive".
"""

from __future__ import annotations

MIGRATION_PHASES: dict[str, str] = {
    # Django's own: shipped verdicts cover contrib apps; listed in case the rules leave it unknown.
    "auth.0011_update_proxy_permissions": "additive",
    # Replaces unique_together (username, ip) with a wider one after deleting duplicates: tightening.
    "axes.0007_alter_accessattempt_unique_together": "destructive",
    # Adds date_created (NOT NULL, Python default: refused by the rules) and back-fills it.
    "django_celery_results.0006_taskresult_date_created": "destructive",
    # Hashes existing client secrets: the old code compares them in clear text.
    "oauth2_provider.0006_alter_application_client_secret": "destructive",
    # token_checksum added, filled, then made NOT NULL and unique: the contract step decides.
    "oauth2_provider.0012_add_token_checksum": "destructive",
    "oauth2_provider.0015_refreshtoken_token_checksum": "destructive",
    # Adds registration_source (NOT NULL), copies dcr_created into it, drops dcr_created.
    "oauth2_provider.0019_application_registration_source": "destructive",
    # wagtail's squashed initial migrations create tables, then insert the root page and collection.
    "wagtailcore.0001_squashed_0016_change_page_url_path_to_text_field": "additive",
    "wagtailimages.0001_squashed_0021": "additive",
    # Initial data, permissions and back-fills of columns the old code does not read.
    "wagtailcore.0025_collection_initial_data": "additive",
    "wagtailadmin.0001_create_admin_access_permissions": "additive",
    "wagtailcore.0027_fix_collection_path_collation": "additive",
    "wagtailcore.0036_populate_page_last_published_at": "additive",
    "wagtailcore.0045_assign_unlock_grouppagepermission": "additive",
    "wagtailcore.0048_add_default_workflows": "additive",
    "wagtailcore.0054_initial_locale": "additive",
    "wagtailcore.0056_page_locale_fields_populate": "additive",
    "wagtailcore.0059_apply_collection_ordering": "additive",
    "wagtailcore.0066_collection_management_permissions": "additive",
    "wagtailcore.0068_log_entry_empty_object": "additive",
    "wagtailcore.0071_populate_revision_content_type": "additive",
    "wagtailcore.0075_populate_latest_revision_and_revision_object_str": "additive",
    "wagtailcore.0081_populate_workflowstate_content_type": "additive",
    "wagtailcore.0086_populate_grouppagepermission_permission": "additive",
    "wagtaildocs.0002_initial_data": "additive",
    "wagtaildocs.0006_copy_document_permissions_to_collections": "additive",
    "wagtaildocs.0011_add_choose_permissions": "additive",
    "wagtailembeds.0007_populate_hash": "additive",
    "wagtailimages.0023_add_choose_permissions": "additive",
    "wagtailsearchpromotions.0006_reset_query_sequence": "additive",
    # Adds draft_title (NOT NULL, Python default: refused by the rules) and fills it from title.
    "wagtailcore.0040_page_draft_title": "destructive",
    # Renames PageRevision to Revision (refused by the rules) around its data migration.
    "wagtailcore.0070_rename_pagerevision_revision": "destructive",
    # Rewrites log entries' JSON the old code reads, with a column change.
    "wagtailcore.0088_fix_log_entry_json_timestamps": "destructive",
    "wagtailcore.0089_log_entry_data_json_null_to_object": "destructive",
    # On MySQL/MariaDB only, RunSQL adds NOT NULL columns and a full-text index (PostgreSQL: AddField).
    "wagtailsearch.0006_customise_indexentry": "destructive",
}

# Decisions for migrations that run code on one backend only: on the others the same migration is
# schema operations alone, and the test counts it as such (its override hides a refusal there).
ONLY_ON: dict[str, str] = {"wagtailsearch.0006_customise_indexentry": "mariadb"}


# Historic migrations still blocked by schema operations alone when each is judged as the deploy that
# brought it (tests/migrate_safe/corpus/analysis.py HISTORY), and why that verdict is the right one:
# each breaks the old code or the new code whichever side of the swap it runs on. The value's second
# item names the only backend where it is blocked (None: every backend).
STILL_BLOCKED: dict[str, tuple[str, str | None]] = {
    "auditlog.0015_alter_logentry_changes": (
        "adds a column the new code writes and turns a column the old code writes as text into JSON, "
        "in one migration: the first half is needed before the swap, the second breaks the old code",
        None,
    ),
    "otp_email.0002_sidechanneldevice_email": (
        "adds the columns the new code needs and drops one the old code reads, in one migration",
        None,
    ),
    "wagtailcore.0050_workflow_rejected_to_needs_changes": (
        "recreates a partial unique constraint over more rows: the old code may write rows it rejects, "
        "and the new code needs the old one gone",
        None,
    ),
    "wagtailcore.0060_fix_workflow_unique_constraint": ("as 0050: a unique constraint recreated wider", None),
    "wagtailcore.0067_alter_pagerevision_content_json": (
        "renames a column: the old code breaks after it, the new code before it",
        None,
    ),
    "wagtailcore.0069_log_entry_jsonfield": ("renames two columns (and changes their type)", None),
    "wagtailcore.0079_rename_taskstate_page_revision": ("renames a column", None),
    "wagtailcore.0080_generic_workflowstate": ("renames a column (page to object_id) among others", None),
    "wagtailcore.0087_alter_grouppagepermission_unique_together_and_more": (
        "adds a CHECK and a unique constraint the old code may violate beside a relaxing change",
        None,
    ),
    "wagtailcore.0090_remove_grouppagepermission_permission_type": (
        "drops constraints the new code needs gone, then a column, and makes another NOT NULL",
        None,
    ),
    "wagtaildocs.0005_document_collection": (
        "a NOT NULL foreign key whose default is a function querying the database: no DB default "
        "stands for it, and the old code's INSERTs leave it out",
        None,
    ),
    "wagtailembeds.0008_allow_long_urls": (
        "makes a column unique and another NOT NULL beside widenings the new code needs",
        None,
    ),
    "wagtailsearch.0006_customise_indexentry": (
        "NOT NULL search-vector columns without a default on a table the old code writes",
        "postgresql",
    ),
}
