"""The page names the General Assembly's issues as the domain does: web/src/types.ts ISSUE_NAMES (typed by the
generated `Issue`, so tsc catches a code the page lacks) holds the same names as domain.values.ISSUE_NAMES."""

from __future__ import annotations

import re
from pathlib import Path

from domain.values import ISSUE_NAMES

TYPES = Path(__file__).resolve().parents[2] / "web" / "src" / "types.ts"


def test_the_pages_issue_names_are_the_domains() -> None:
    text = TYPES.read_text(encoding="utf-8")
    block = text[text.index("export const ISSUE_NAMES"):]
    block = block[:block.index("};")]
    named = dict(re.findall(r'^\s*(\w+): "([^"]+)",$', block, flags=re.MULTILINE))
    assert named == {issue.value: name for issue, name in ISSUE_NAMES.items()}
