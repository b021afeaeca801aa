"""What pyproject.toml cannot say: the built web page goes into the wheel.

`make web` builds the page into web/dist, outside any Python package; the wheel carries a copy as `api/web_dist`,
where `api/routes/web.py` looks when there is no checkout beside it, so an installed wheel serves `/` as a checkout
does. Without a built page the wheel is still made (the API works without it) and the build says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEB_DIST = Path(__file__).resolve().parent / "web" / "dist"


class BuildWithThePage(build_py):
    """build_py, then web/dist copied to api/web_dist in the build (not for an editable install, which serves
    web/dist from the checkout itself)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "api" / "web_dist"
        shutil.rmtree(target, ignore_errors=True)  # a page left by an earlier build must not outlive its sources
        if not (WEB_DIST / "index.html").is_file():
            self.announce("web/dist is not built (make web): the wheel's server will say how to build the page", 3)
            return
        shutil.copytree(WEB_DIST, target)


setup(cmdclass={"build_py": BuildWithThePage})
