"""Who may do what in the console: three permissions, granted through Django's auth to users and groups.

``view`` shows the pages; ``push`` starts deploys, rollbacks, maintenance and checks, and holds CI tokens;
``edit`` changes the run-time settings (notification targets, maintenance defaults). Push and edit each
include view: nobody acts on a console they cannot see. Superusers have all three, as everywhere in Django.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from django.contrib.auth import get_user_model

APP_LABEL: Final = "django_deploykit"
Right = Literal["view", "push", "edit"]

# (codename, name) for the permissions' Meta; the codenames are what has_perm checks. The names stay within 50
# characters: auth.0001 makes the column that long, and post_migrate writes them after any auth migration.
PERMISSIONS: Final = (
    ("view_deploys", "Can view deploys in the deploy console"),
    ("push_deploys", "Can deploy, roll back and run maintenance"),
    ("edit_deploys", "Can change the deploy console's settings"),
)
CODENAMES: Final[dict[Right, str]] = {"view": "view_deploys", "push": "push_deploys", "edit": "edit_deploys"}


def permission(right: Right) -> str:
    """The permission string Django's ``has_perm`` takes, e.g. ``django_deploykit.push_deploys``."""
    return f"{APP_LABEL}.{CODENAMES[right]}"


def has_right(user: Any, right: Right) -> bool:
    """Whether ``user`` (a Django user, maybe anonymous) has ``right``; push and edit include view."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if right == "view":
        return any(user.has_perm(permission(each)) for each in ("view", "push", "edit"))
    return bool(user.has_perm(permission(right)))


def user_named(username: str) -> Any:
    """The active user whose username (``USERNAME_FIELD``) is ``username``, or None: whom a CI token or a queued
    request names. Raises the database's error when it does not answer."""
    model = get_user_model()
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    return user if user is not None and user.is_active else None


def rights_of(user: Any) -> dict[str, bool]:
    """What the templates ask: ``rights.push`` shows the buttons only to those who may press them."""
    return {right: has_right(user, right) for right in ("view", "push", "edit")}
