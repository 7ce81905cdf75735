"""server_config: the files each server needs, rendered from the project's settings and the deploy root."""
