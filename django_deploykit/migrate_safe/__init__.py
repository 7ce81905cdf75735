"""Expand/contract migrations: the ``migrate_safe`` command's logic.

``classify`` judges each operation, ``verdicts`` each migration (with the override layers),
``planning`` splits a plan into the additive and destructive phases, ``applying`` runs a
phase, ``locks``/``timeouts``/``journal`` keep real databases safe, ``report`` prints.
"""
