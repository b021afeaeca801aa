"""The routers are matched busiest first (api/app.py, MATCHED_IN_ORDER): safe only while no path one router serves
can be matched by another router's route. Each route's template, filled in, is matched by its own router alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from api.app import MATCHED_IN_ORDER, TAGS, create_app
from api.settings import Settings


def _routes(router: Any) -> Iterator[Any]:
    for route in router.routes:
        included = getattr(route, "original_router", None)
        yield from _routes(included) if included is not None else [route]


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", path)


def test_no_router_matches_a_path_of_another() -> None:
    routed = [(module.__name__, route) for module in MATCHED_IN_ORDER for route in _routes(module.router)
              if getattr(route, "path_regex", None) is not None]
    assert len(routed) > 30
    for owner, route in routed:
        sample = _sample(route.path)
        others = {name for name, other in routed if name != owner and other.path_regex.match(sample)
                  and (route.methods or set()) & (other.methods or set())}
        assert not others, f"{route.path} ({owner}) is also matched by {others}"


def test_every_router_is_included_and_the_docs_keep_their_order(tmp_path: Any) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    schema = app.openapi()
    assert [t["name"] for t in schema["tags"]] == [t["name"] for t in TAGS]
    used = {tag for operations in schema["paths"].values() for op in operations.values() for tag in op["tags"]}
    assert used == {t["name"] for t in TAGS}
    served = {route.path for route in _routes(app.router) if getattr(route, "path_regex", None) is not None}
    assert served >= {route.path for module in MATCHED_IN_ORDER for route in _routes(module.router)
                      if getattr(route, "path_regex", None) is not None}
