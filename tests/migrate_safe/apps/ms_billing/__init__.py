"""A test app whose migrations come from tests/migrate_safe/graphs via MIGRATION_MODULES."""
