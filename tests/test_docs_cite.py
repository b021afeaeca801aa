"""The documents cite only files the repository has: a reader who follows `DESIGN.md` or `docs/x.md` finds it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def cited(text: str) -> set[str]:
    """Every Markdown file named in a document: `docs/semantics.md`, semantics.md, DESIGN.md, …"""
    return set(re.findall(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.md)\b", text))


def found(name: str, document: Path) -> bool:
    """Named from the repository's root, beside the document, or (a bare name) in docs/."""
    return any((base / name).is_file() for base in (ROOT, document.parent, ROOT / "docs"))


def test_every_markdown_file_the_documents_cite_is_in_the_repository() -> None:
    missing = {f"{document.relative_to(ROOT)}: {name}" for document in DOCUMENTS
               for name in cited(document.read_text(encoding="utf-8")) if not found(name, document)}
    assert not missing, sorted(missing)
