"""The deploy console's pages, actions and CI API (URLs in ``console_urls``; the logic in ``console/``).

Every view checks its right (``console.access``) before it reads anything: an anonymous visitor is sent to
sign in, a signed-in user without the right gets 403, on pages and forged POSTs alike. Actions are POST
only, CSRF-protected, confirmed on a second page, audited, and start the same commands a user runs.
No view answers 500 for a problem of the deploy root: it says what is wrong on the page.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from django_deploykit.conf import conf
from django_deploykit.console import access, actions, audit, history_page, overview, runs, tokens
from django_deploykit.console.access import Right
from django_deploykit.console.forms import (
    COMMAND_FORMS,
    RECORDED,
    ActionForm,
    DeployForm,
    MaintenanceForm,
    RollbackForm,
)
from django_deploykit.deploy_root import locate, progress, runtime_settings
from django_deploykit.deploy_root.layout import LAUNCH_LOG_NAME, DeployRoot
from django_deploykit.maintenance.client_ip import client_ip, parse_networks

View = Callable[..., HttpResponse]
NAMESPACE = "deploykit_console"


class _NoRoot(Exception):
    pass


# Rights are read from the database; when it does not answer, the page says so (503), not a 500.
_NO_DATABASE = "The database does not answer now, so your rights cannot be checked; try again in a moment."


# The deploy root and the project's folder in it, per settings: found once per worker, not on every poll.
_FOUND: dict[tuple[str | None, str | None, str], tuple[DeployRoot, Path]] = {}


def _root() -> tuple[DeployRoot, Path]:
    key = (conf.ROOT, conf.PROJECT_SUBDIR, str(locate.project_dir()))
    if key in _FOUND:
        return _FOUND[key]
    try:
        root = locate.deploy_root()
        found = root, locate.project_subdir(root)
    except locate.DeployRootNotFound as exc:
        raise _NoRoot(str(exc)) from exc
    _FOUND[key] = found
    return found


def _client(request: HttpRequest) -> str:
    try:
        proxies = parse_networks(conf.MAINTENANCE_TRUSTED_PROXIES, "A trusted proxy")
    except ValueError:
        proxies = ()
    address = client_ip(request.META, proxies)
    return str(address) if address is not None else ""


def console_view(right: Right) -> Callable[[View], View]:
    """Sign in first, then ``right``, then a deploy root; the view gets ``root`` and ``subdir``."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        @never_cache
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                # The user is loaded from the database here, and the rights with it.
                signed_in = request.user.is_authenticated
                allowed = signed_in and access.has_right(request.user, right)
            except DatabaseError:
                # A page of its own: the usual header asks for the user again.
                return render(
                    request,
                    "django_deploykit/console/no_database.html",
                    {"problem": _NO_DATABASE},
                    status=503,
                )
            if not signed_in:
                return redirect_to_login(request.get_full_path(), _login_url())
            try:
                root, subdir = _root()
            except _NoRoot as exc:
                root = None
                problem = str(exc)
            if not allowed:
                if request.method == "POST" and root is not None:
                    entry = actions.audited(
                        root, request.user.get_username(), view.__name__, _client(request)
                    )
                    entry.result, entry.message = "refused", f"needs the console's {right} right"
                    audit.record(root, entry)
                return _page(request, "forbidden.html", {"right": right}, status=403)
            if root is None:
                return _page(request, "no_root.html", {"problem": problem}, status=503)
            return view(request, root, subdir, *args, **kwargs)

        return wrapper

    return decorate


def _login_url() -> str:
    return conf.CONSOLE_LOGIN_URL or reverse(f"{NAMESPACE}:login")


# The console's own sign-in and sign-out: Django's views with the console's template, defined here so that
# they answer during a maintenance window like the rest of the console.
class _ConsoleLoginView(LoginView):
    template_name = "django_deploykit/console/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        # Without ?next=, the console's own front page (not LOGIN_REDIRECT_URL, a page many projects lack).
        return reverse(f"{NAMESPACE}:overview")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["csp_nonce"] = _csp_nonce(self.request)
        return context


_login_view = _ConsoleLoginView.as_view()
_logout_view = LogoutView.as_view(next_page=reverse_lazy(f"{NAMESPACE}:login"))


def login_page(request: HttpRequest) -> HttpResponseBase:
    return _login_view(request)


def logout_page(request: HttpRequest) -> HttpResponseBase:
    return _logout_view(request)


def _page(request: HttpRequest, name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("rights", access.rights_of(request.user))
    return _render(request, name, context, status)


def _render(request: HttpRequest, name: str, context: dict[str, Any], status: int) -> HttpResponse:
    context.setdefault("csp_nonce", _csp_nonce(request))
    return render(request, f"django_deploykit/console/{name}", context, status=status)


def _csp_nonce(request: HttpRequest) -> str:
    """The request's Content-Security-Policy nonce, for the page's one <style> and <script>: django-csp's
    ``request.csp_nonce`` or Django 6's ``request._csp_nonce``, both lazy; using it puts it in the header."""
    nonce = getattr(request, "csp_nonce", None)
    if nonce is None:
        nonce = getattr(request, "_csp_nonce", None)
    return str(nonce) if nonce is not None else ""


# Pages.


@require_GET
@console_view("view")
def overview_page(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    settings_problem = ""
    try:
        defaults = runtime_settings.read(root).maintenance
    except runtime_settings.RuntimeSettingsError as exc:
        defaults, settings_problem = {}, str(exc)
    state = overview.overview(root)
    return _page(
        request,
        "overview.html",
        {
            "state": state,
            # Two forms on one page, with fields of the same names: each its own element ids.
            "deploy_form": DeployForm(
                initial={"ref": conf.PULL_REF, **_maintenance_initial(defaults)}, auto_id="deploy_%s"
            ),
            "maintenance_form": MaintenanceForm(
                initial=_maintenance_initial(defaults), auto_id="maintenance_%s"
            ),
            "settings_problem": settings_problem,
        },
    )


@require_GET
@console_view("view")
def history_list(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    filters = history_page.Filters.from_query(request.GET.dict())
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = history_page.page_of(root, filters, number)
    return _page(request, "history.html", {"page": page, "results": history_page.RESULTS})


@require_GET
@console_view("view")
def run_page(request: HttpRequest, root: DeployRoot, subdir: Path, run_id: str) -> HttpResponse:
    state = runs.state_of(root, run_id)
    if state is None:
        raise Http404("No such run in the deploy history or its logs.")
    logs = []
    for stage in state.stages:
        name = Path(str(stage.get("log") or "")).name
        chunk = progress.read_log(root, run_id, name, 0, limit=4 * progress.LOG_CHUNK)
        child = runs.state_of(root, str(stage["child"]), with_record=False) if stage.get("child") else None
        logs.append(
            {
                "stage": stage,
                "name": name,
                "text": chunk.text,
                "offset": chunk.offset,
                "child": runs.child_summary(child) if child is not None else None,
            }
        )
    launch = progress.read_log(root, run_id, LAUNCH_LOG_NAME, 0, limit=progress.LOG_CHUNK)
    return _page(
        request,
        "run.html",
        {
            "run": state,
            "logs": logs,
            "launch": launch,
            "poll_url": reverse(f"{NAMESPACE}:run-poll", args=[run_id]),
            "rollback_form": RollbackForm(initial={"mode": "swap-back"}),
        },
    )


@require_GET
@console_view("view")
def run_poll(request: HttpRequest, root: DeployRoot, subdir: Path, run_id: str) -> HttpResponse:
    try:
        offset = int(request.GET.get("offset", "0"))
    except ValueError:
        offset = 0
    document = runs.poll(
        root, run_id, request.GET.get("version", ""), request.GET.get("log", ""), max(offset, 0)
    )
    if document is None:
        return JsonResponse({"error": "No such run."}, status=404)
    return JsonResponse(document)


@require_GET
@console_view("view")
def audit_page(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    return _page(request, "audit.html", {"entries": audit.latest(root)})


# Actions: POST only, CSRF, confirmed, audited.


def _action(request: HttpRequest, root: DeployRoot, form: ActionForm, action: str) -> HttpResponse | None:
    """The confirmation page, or a refusal with the form's errors (400, audited); None when confirmed."""
    user = request.user.get_username()
    if not form.is_valid():
        entry = actions.audited(root, user, action, _client(request), actions.posted_fields(form.data))
        entry.result, entry.message = "refused", "; ".join(form.error_sentences())
        audit.record(root, entry)
        return _page(
            request, "refused.html", {"action": action, "errors": form.error_sentences()}, status=400
        )
    if request.POST.get("confirmed") != "yes":
        return _page(
            request,
            "confirm.html",
            {
                "action": action,
                "describe": form.describe(),
                "fields": form.cleaned_fields(),
                "url": request.path,
            },
        )
    return None


def _refused(request: HttpRequest, root: DeployRoot, entry: audit.AuditEntry, message: str) -> HttpResponse:
    entry.result, entry.message = "refused", message
    audit.record(root, entry)
    return _page(request, "refused.html", {"action": entry.action, "errors": [message]}, status=409)


def _command(request: HttpRequest, root: DeployRoot, subdir: Path, action: str) -> HttpResponse:
    """The actions that start a command: checked, confirmed, audited, started (or queued)."""
    form = COMMAND_FORMS[action](request.POST)
    answer = _action(request, root, form, action)
    if answer is not None:
        return answer
    entry = actions.audited(
        root, request.user.get_username(), action, _client(request), form.cleaned_fields()
    )
    return _start(request, root, subdir, entry, form)


@require_POST
@csrf_protect
@console_view("push")
def deploy_action(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    return _command(request, root, subdir, "deploy")


@require_POST
@csrf_protect
@console_view("push")
def rollback_action(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    return _command(request, root, subdir, "rollback")


@require_POST
@csrf_protect
@console_view("push")
def check_action(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    return _command(request, root, subdir, "deploy_check")


def _start(
    request: HttpRequest, root: DeployRoot, subdir: Path, entry: audit.AuditEntry, form: ActionForm
) -> HttpResponse:
    try:
        if entry.action in RECORDED:
            actions.refuse_if_locked(root)
        run_id = actions.start(root, subdir, username=entry.user, action=entry.action, form=form)
    except actions.ActionRefused as exc:
        return _refused(request, root, entry, str(exc))
    except OSError as exc:
        return _refused(request, root, entry, f"The command could not be started: {exc}.")
    entry.run_id = run_id
    entry.result = "queued" if conf.CONSOLE_RUNNER == actions.QUEUE else "started"
    audit.record(root, entry)
    if run_id is None:
        return _page(
            request,
            "done.html",
            {
                "action": entry.action,
                "describe": f"{form.describe()} The state page shows its findings when it ends.",
            },
        )
    return redirect(f"{NAMESPACE}:run", run_id=run_id)


@require_POST
@csrf_protect
@console_view("push")
def maintenance_action(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    form = MaintenanceForm(request.POST)
    answer = _action(request, root, form, "maintenance")
    if answer is not None:
        return answer
    entry = actions.audited(
        root, request.user.get_username(), "maintenance", _client(request), form.cleaned_fields()
    )
    try:
        document = actions.run_maintenance(root, subdir, username=entry.user, args=form.command_args())
    except actions.ActionRefused as exc:
        entry.result = "failed"
        return _refused(request, root, entry, str(exc))
    entry.result = "done"
    audit.record(root, entry)
    return _page(
        request, "done.html", {"action": "maintenance", "describe": form.describe(), "document": document}
    )


# Run-time settings (edit right) and CI tokens (push right).


@console_view("edit")
@csrf_protect
def settings_page(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    from django_deploykit.console import settings_form

    return settings_form.handle(request, root, _client(request), _page)


@console_view("push")
@csrf_protect
def tokens_page(request: HttpRequest, root: DeployRoot, subdir: Path) -> HttpResponse:
    user = request.user.get_username()
    shown = None
    errors: list[str] = []
    if request.method == "POST":
        entry = actions.audited(root, user, "token", _client(request))
        try:
            if request.POST.get("revoke"):
                revoked = tokens.revoke(root, user, request.POST["revoke"])
                entry.details, entry.result = {"revoked": revoked.id, "name": revoked.name}, "done"
            else:
                stored, shown = tokens.create(root, user, request.POST.get("name", ""))
                entry.details, entry.result = {"created": stored.id, "name": stored.name}, "done"
        except tokens.TokenError as exc:
            entry.result, entry.message = "refused", str(exc)
            errors.append(str(exc))
        audit.record(root, entry)
    try:
        mine = tokens.of_user(root, user)
    except tokens.TokenError as exc:
        mine, errors = [], [*errors, str(exc)]
    return _page(
        request,
        "tokens.html",
        {"tokens": mine, "shown": shown, "errors": errors, "api_url": reverse(f"{NAMESPACE}:api-deploy")},
        status=400 if errors and request.method == "POST" else 200,
    )


# The CI API: a bearer token of a user with the push right; JSON in and out.


def _api_user(request: HttpRequest, root: DeployRoot) -> Any:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    stored = tokens.authenticate(root, header[len("Bearer ") :].strip())
    if stored is None:
        return None
    return access.user_named(stored.user)


def _api_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@never_cache
def api_deploy(request: HttpRequest) -> HttpResponse:
    """POST {"ref": "main"}: start a deploy as the token's user; 202 with the run id and where to poll."""
    if request.method != "POST":
        return _api_error("Start a deploy with POST.", 405)
    try:
        root, subdir = _root()
    except _NoRoot as exc:
        return _api_error(str(exc), 503)
    try:
        user = _api_user(request, root)
        allowed = user is not None and access.has_right(user, "push")
    except DatabaseError:
        return _api_error(_NO_DATABASE, 503)
    if user is None:
        return _api_error("A valid token is needed: 'Authorization: Bearer <token>'.", 401)
    if not allowed:
        return _api_error("This token's user may not deploy (the console's push right).", 403)
    try:
        body = (
            json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
        )
        form = DeployForm({"ref": body.get("ref") or conf.PULL_REF})
    except (ValueError, AttributeError):
        return _api_error('The body must be a JSON object such as {"ref": "main"}.', 400)
    entry = actions.audited(root, user.get_username(), "deploy", _client(request), {"via": "api"})
    if not form.is_valid():
        entry.result, entry.message = "refused", "; ".join(form.error_sentences())
        audit.record(root, entry)
        return _api_error(entry.message, 400)
    entry.details.update(form.cleaned_fields())
    try:
        actions.refuse_if_locked(root)
        run_id = actions.start(root, subdir, username=entry.user, action="deploy", form=form)
    except (actions.ActionRefused, OSError) as exc:
        entry.result, entry.message = "refused", str(exc)
        audit.record(root, entry)
        # 409: another run holds the lock (try later); 503: this server cannot start a command at all.
        return _api_error(str(exc), 409 if isinstance(exc, actions.LockHeld) else 503)
    entry.run_id = run_id
    audit.record(root, entry)
    status_url = request.build_absolute_uri(reverse(f"{NAMESPACE}:api-run", args=[run_id]))
    page_url = request.build_absolute_uri(reverse(f"{NAMESPACE}:run", args=[run_id]))
    return JsonResponse({"run_id": run_id, "status_url": status_url, "page_url": page_url}, status=202)


@never_cache
def api_run(request: HttpRequest, run_id: str) -> HttpResponse:
    """GET: the run's state as JSON, for a token or a signed-in user with the view right."""
    try:
        root, _ = _root()
    except _NoRoot as exc:
        return _api_error(str(exc), 503)
    try:
        user = _api_user(request, root) or request.user
        allowed = access.has_right(user, "view")
    except DatabaseError:
        return _api_error(_NO_DATABASE, 503)
    if not getattr(user, "is_authenticated", False):
        return _api_error("A valid token is needed: 'Authorization: Bearer <token>'.", 401)
    if not allowed:
        return _api_error("This user may not view the deploy console.", 403)
    state = runs.state_of(root, run_id)
    if state is None:
        return _api_error("No such run.", 404)
    return JsonResponse(state.as_dict())


def _maintenance_initial(defaults: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in defaults.items() if key in ("message", "duration", "warn")}
