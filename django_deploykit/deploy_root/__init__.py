"""The deploy root: its layout, lock, history, stage logs, the run skeleton every deploying command shares,
and running commands in a slot.

Capability packages (deploy_pull, swap_live, deploy, deploy_check) build on this package and never on each
other; commands stay on top (docs/architecture.md). Nothing is imported here, so that a settings module can
import the layout while it loads.
"""
