"""Expand/contract migrations: the logic of the ``migrate_safe`` command.

``rules`` (with ``field_changes``) judges each operation and ``classify`` applies the rules
along a migration; ``verdicts`` gives each migration its phase, with the override layers;
``planning`` splits a plan into the additive and destructive phases; ``applying`` runs a phase;
``locks``, ``timeouts`` and ``journal`` keep real databases safe; ``report`` prints.
"""
