"""LocalProcessSpawner that first gives the server the class's view of the file system.

Where this environment's interpreter lies in a folder other users cannot traverse (pyenv
under /root), the server starts in a mount namespace where that folder shows only the
environment's own paths, read-only (primer/hub/local.py, `class_view`); then
JupyterHub's own code takes the user's id and home, as LocalProcessSpawner always does.
"""
from __future__ import annotations

from jupyterhub.spawner import LocalProcessSpawner

from primer.hub.local import class_view, enter_class_view


class ClassSpawner(LocalProcessSpawner):
    def make_preexec_fn(self, name):
        become_user = super().make_preexec_fn(name)
        view = class_view([self.environment.get("NNLIB_DATA", "")] if
                          self.environment.get("NNLIB_DATA") else [])

        def preexec():
            enter_class_view(view)
            become_user()

        return preexec
