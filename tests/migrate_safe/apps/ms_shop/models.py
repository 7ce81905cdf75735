from __future__ import annotations

from django.db import models


class Product(models.Model):
    """The final state of the 'expand' graph; other graphs only use their migrations' state."""

    name = models.CharField(max_length=50)
    colour = models.CharField(max_length=20, null=True)  # noqa: DJ001 - as the migrations have it
    size = models.IntegerField(db_default=1)

    def __str__(self) -> str:
        return self.name
