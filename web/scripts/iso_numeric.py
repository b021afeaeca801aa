"""Writes src/generated/iso-numeric.json: ISO 3166-1 numeric code -> alpha-2, from pycountry.

world-atlas names each country shape by its ISO numeric code ("250"); the API names parties by alpha-2 ("FR").
Run from the repository root after upgrading pycountry:  .venv/bin/python web/scripts/iso_numeric.py
tests/browser/test_page_data.py checks that the shipped file still matches pycountry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pycountry

TARGET = Path(__file__).resolve().parent.parent / "src" / "generated" / "iso-numeric.json"
# Natural Earth draws a few shapes without an ISO numeric code; name them by their shape's name.
BY_NAME = {"Kosovo": "XK"}


def mapping() -> dict[str, object]:
    numeric = {country.numeric: country.alpha_2 for country in sorted(pycountry.countries, key=lambda c: c.numeric)}
    return {"generated_by": "web/scripts/iso_numeric.py from pycountry", "numeric": numeric, "by_name": BY_NAME}


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(mapping(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
