"""Clear one instance's cache keys: the logic behind the ``clear_cache`` command.

* ``namespace``: which keys belong to an instance, and which prefixes are unsafe to clear by.
* ``plan``: what would be done to each alias, decided before anything is deleted.
* ``redis``, ``database``, ``generations``, ``flush``: one module per way of clearing.
* ``run``: carries out the plans and reports what was cleared and what was left alone.
"""
