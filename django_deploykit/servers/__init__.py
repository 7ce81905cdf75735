"""The application servers: reloading them (gunicorn, uWSGI, systemd, a command) and asking them over HTTP
which revision they serve. Used by deploy_pull (the stage server) and swap_live (both); depends only on the
deploy root below it."""
