"""The installed wheel serves /docs as a checkout does: the bundled Swagger UI is package data of `api`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from api.docs_ui import ASSETS, SERVED

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_file_that_docs_serves(tmp_path: Path) -> None:
    leftover = ROOT / "build"  # setuptools builds in the tree; a build/ left there could go stale into a later wheel
    existed = leftover.exists()
    try:
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w",
                                str(tmp_path)], capture_output=True, text=True, timeout=300, check=False)
    finally:
        if not existed:
            shutil.rmtree(leftover, ignore_errors=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("diplomatic_timeline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in SERVED:
            inside = f"api/static/swagger-ui/{name}"
            assert inside in names, f"{inside} is not in the wheel"
            assert archive.read(inside) == (ASSETS / name).read_bytes()
        assert "api/static/swagger-ui/LICENSE" in names
