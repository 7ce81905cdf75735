"""Every setting of django-deploykit, declared once with its default.

Values are read from ``django.conf.settings`` on each access, so ``override_settings``
works without signal handlers. Settings needed while the settings themselves are being
imported (the deploy root, the slot of the running code) cannot live here: see
``django_deploykit.slots`` and ``django_deploykit.settings``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

from django.conf import settings

T = TypeVar("T")


class Setting(Generic[T]):
    """A ``DEPLOYKIT_*`` setting with its default."""

    def __init__(self, default: T, doc: str) -> None:
        self.default = default
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.name = "DEPLOYKIT_" + attribute

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> T | Setting[T]:
        if instance is None:
            return self
        value: T = getattr(settings, self.name, self.default)
        return value


class DeployKitSettings:
    ROOT: Setting[str | None] = Setting(
        None,
        "Path of the deploy root. None finds it from the DEPLOYKIT_ROOT variable or the "
        "'.deploykit-root' marker above the running code.",
    )
    SLOT_NAMES: Setting[tuple[str, str]] = Setting(
        ("blue", "green"), "Names of the two slot directories; the deploy root's marker file wins."
    )
    SETTINGS_CHOICE: Setting[dict[str, Any] | None] = Setting(
        None, "Written by the settings dispatcher: which mode and module were chosen, and why."
    )
    REQUIRE_DISPATCHER: Setting[bool] = Setting(
        True, "Warn (django_deploykit.W001) under 'check --deploy' when the dispatcher was not used."
    )

    # Revision endpoint and swap_live.
    REVISION_TOKEN: Setting[str | None] = Setting(
        None, "A token that lets non-local clients read the revision endpoint (header X-Deploykit-Token)."
    )

    REPORT_PACKAGES: Setting[list[str]] = Setting(
        ["django", "django-deploykit"],
        "Distributions whose installed versions the revision endpoint reports.",
    )
    PROJECT_SUBDIR: Setting[str | None] = Setting(
        None,
        "The project's folder inside a slot (where manage.py is); None derives it from the running code.",
    )
    RELOAD: Setting[dict[str, dict[str, Any]]] = Setting(
        {}, "Reload adapter per link, e.g. {'live': {'adapter': 'gunicorn', 'pidfile': 'run/live.pid'}}."
    )
    LIVE_URL: Setting[str | None] = Setting(
        None, "The revision endpoint as served by the live server, polled after a swap to verify it."
    )
    STAGE_URL: Setting[str | None] = Setting(None, "The revision endpoint as served by the stage server.")
    STAGE_HEALTH_URL: Setting[str | None] = Setting(
        None, "A URL of the stage server that must answer 200 before a swap (the gate's HTTP probe)."
    )
    VERIFY_CONSECUTIVE: Setting[int] = Setting(
        3, "How many answers in a row must report the new revision for a swap to count as verified."
    )
    FORCE_JOURNAL: Setting[bool] = Setting(
        False, "Exchange the links with the journalled pair of renames even where RENAME_EXCHANGE works."
    )

    # Maintenance (the maintenance command and MaintenanceMiddleware).
    MAINTENANCE_STATE_FILE: Setting[str | None] = Setting(
        None,
        "Path of the host-scope maintenance state file. None puts 'maintenance.json' in the deploy root's "
        "shared/ folder when one is found (from DEPLOYKIT_ROOT or BASE_DIR), else in BASE_DIR.",
    )
    MAINTENANCE_CACHE_ALIAS: Setting[str | None] = Setting(
        None,
        "Cache alias (Redis, never LocMem, File or Database) holding the shared-scope state; None disables "
        "the shared scope.",
    )
    MAINTENANCE_CACHE_KEY: Setting[str] = Setting(
        "django_deploykit:maintenance",
        "Key of the shared-scope state, used without the alias's KEY_PREFIX so that every slot agrees.",
    )
    MAINTENANCE_STALENESS: Setting[float] = Setting(
        1.0, "Seconds a worker may keep the state in memory before reading it again (0 to 1)."
    )
    MAINTENANCE_READ_ERROR_POLICY: Setting[str] = Setting(
        "last-good",
        "What the middleware does when the state cannot be read: 'last-good' keeps the last state read "
        "(none: serve normally), 'open' serves normally, 'closed' answers 503.",
    )
    MAINTENANCE_EXEMPT_PATHS: Setting[tuple[str, ...]] = Setting(
        (), "Path prefixes always served during maintenance, such as health checks ('/healthz')."
    )
    MAINTENANCE_TRUSTED_PROXIES: Setting[tuple[str, ...]] = Setting(
        (),
        "CIDRs of the reverse proxies whose X-Forwarded-For is believed; empty means REMOTE_ADDR is the "
        "client. None may be wider than a /8 (IPv4) or a /16 (IPv6).",
    )
    MAINTENANCE_DEFAULT_WARN: Setting[int] = Setting(
        900, "Seconds the banner is shown before a scheduled start when 'maintenance on --at' has no --warn."
    )
    MAINTENANCE_DEFAULT_RETRY_AFTER: Setting[int] = Setting(
        300, "Retry-After seconds of an active window with no known end and '--retry-after auto'."
    )
    MAINTENANCE_RETRY_AFTER_FORMAT: Setting[str] = Setting(
        "seconds", "How an automatic Retry-After is written: 'seconds' or 'http-date'."
    )
    MAINTENANCE_COOKIE_NAME: Setting[str] = Setting(
        "deploykit_maintenance_bypass", "Name of the signed cookie set by the secret bypass URL."
    )
    MAINTENANCE_COOKIE_MAX_AGE: Setting[int] = Setting(12 * 3600, "Seconds the bypass cookie stays valid.")
    MAINTENANCE_STAFF_BYPASS: Setting[bool] = Setting(
        False,
        "Let staff users through an active window. Needs MaintenanceStaffMiddleware after "
        "AuthenticationMiddleware, so sessions and usually the database.",
    )
    ENDPOINTS_PREFIX: Setting[str] = Setting(
        "/-/deploykit/",
        "URL path prefix of the package's own endpoints (bypass URL, revision check); during maintenance "
        "only those endpoints are served under it, not every path.",
    )

    # The deploy console.
    CONSOLE_LOGIN_URL: Setting[str | None] = Setting(
        None,
        "Where the deploy console sends a visitor who is not signed in; None is the console's own sign-in page "
        "(set it to the project's login URL, e.g. a single sign-on one).",
    )
    CONSOLE_RUNNER: Setting[str] = Setting(
        "detached",
        "How the deploy console starts a command: 'detached' (from the web worker, as its user, in a session of "
        "its own) or 'queue' (a request in shared/console/queue/ that 'manage.py console_runner' runs, started "
        "by the systemd path unit server_config renders: needed when the servers restart through systemd).",
    )

    # server_config.
    SERVERS: Setting[dict[str, Any]] = Setting(
        {},
        "What server_config renders: app_server ('gunicorn', 'uwsgi', 'mod_wsgi'), web_server ('nginx', 'apache', "
        "None), user, group, server_name, stage_server_name, listen, stage_listen, live_bind, stage_bind, workers, "
        "timeout, robots_txt, client_max_body_size, name, install (rendered file name -> installed path), and "
        "deploy_user (who the deploy console's runner service runs as).",
    )

    # deploy_pull, deploy, deploy_log and deploy_check.
    REQUIREMENTS_FILE: Setting[str | None] = Setting(
        "requirements.txt",
        "The requirements file, relative to the slot's checkout, that deploy_pull installs into the slot's "
        "virtualenv; None (or a missing file) skips the dependencies stage.",
    )
    WHEELHOUSE: Setting[str] = Setting(
        "wheelhouse",
        "The folder of wheels, relative to the slot's checkout, that 'deploy_pull --offline' installs from.",
    )
    OFFLINE: Setting[bool] = Setting(
        False, "Always install dependencies from the wheelhouse, as if --offline were given."
    )
    PULL_REF: Setting[str] = Setting(
        "main", "The branch, tag or commit deploy_pull fetches when --ref is not given."
    )
    PULL_REMOTE: Setting[str] = Setting("origin", "The git remote deploy_pull fetches from.")
    TEST_SETTINGS: Setting[str | None] = Setting(
        None,
        "Settings module of the project's tests, e.g. 'mysite.settings.test'; when set, deploy_pull runs "
        "'manage.py test' with it in the stage slot (never with the production settings). None skips the tests.",
    )
    STAGE_TIMEOUT: Setting[float] = Setting(
        1800.0, "Seconds any one stage of deploy_pull or deploy may run before it is stopped and fails."
    )
    DEPLOY_PIPELINE: Setting[list[Any] | None] = Setting(
        None,
        "The stages of 'deploy', in order: built-in stage names, {'name', 'command', 'args', 'slot'} for a "
        "management command, {'name', 'argv'} for a program, {'name', 'callable'} or a Python callable. "
        "None is the built-in pipeline (see docs/deploy.md).",
    )
    LOG_KEEP: Setting[int] = Setting(
        100, "How many runs' stage-log folders deploy_pull and deploy keep under the deploy root's logs/."
    )
    NOTIFICATIONS: Setting[list[dict[str, Any]]] = Setting(
        [],
        "Where deploy's notify stage posts the start, success and failure of a deploy: a list of "
        "{'url', 'format': 'slack' | 'json' | 'sentry', 'events', 'name', 'token_env', 'projects'} "
        "(see docs/notifications.md); the console's saved targets are added to them.",
    )

    # migrate_safe: expand/contract migrations
    MIGRATION_PHASES: Setting[dict[str, str]] = Setting(
        {},
        "Phase of migrations you cannot mark, e.g. third-party ones: {'app_label.migration_name': "
        "'additive' | 'destructive'}. A Migration.deploy_phase marker wins over it.",
    )
    REVIEWED_MIGRATIONS: Setting[str] = Setting(
        "reviewed_migrations.toml",
        "The reviewed-phases file 'migrate_safe --review' writes and migrate_safe reads: phases and reasons "
        "for migrations no rule can judge. A relative path is taken from BASE_DIR (beside manage.py), or "
        "from the current directory when the settings have no BASE_DIR.",
    )
    MIGRATE_LOCK_TIMEOUT: Setting[str] = Setting(
        "5s",
        "PostgreSQL lock_timeout (MySQL/MariaDB lock_wait_timeout) for every migration migrate_safe runs.",
    )
    MIGRATE_STATEMENT_TIMEOUT: Setting[str] = Setting(
        "0", "PostgreSQL statement_timeout for every migration migrate_safe runs; '0' means no limit."
    )
    MIGRATE_RETRIES: Setting[int] = Setting(
        3, "How often migrate_safe retries an atomic migration that hit the lock timeout (PostgreSQL)."
    )
    MIGRATE_RETRY_DELAY: Setting[float] = Setting(
        1.0, "Seconds before the first retry; each further retry waits twice as long."
    )

    @classmethod
    def declared(cls) -> dict[str, Setting[Any]]:
        """Every setting, by its full name."""
        return {s.name: s for s in vars(cls).values() if isinstance(s, Setting)}


conf = DeployKitSettings()
