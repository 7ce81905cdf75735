"""The deploy console: the web pages and the CI API over the deploy root (floor 4).

What the pages show is read from the deploy root's files (history, progress, logs, links, REVISION) so the
console keeps working while migrations run; what they do is a management command started detached from the
web worker (``actions``), under the deploy lock, recorded in the history with the signed-in user as "who".
The views are ``django_deploykit/console_views.py``; the URLs ``django_deploykit/console_urls.py``.
"""
