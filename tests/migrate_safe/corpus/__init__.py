"""A corpus of real third-party migration histories: pinned packages, a venv, a generated project."""
