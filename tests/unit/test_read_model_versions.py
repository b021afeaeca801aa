"""A read model's tables may change only with its version: a store built by an earlier release is then
replayed from the log at start (Projector.setup), instead of being read through tables it no longer matches.

The fingerprints below are of each model's DDL. When a change to a model's tables makes this test fail, bump
the model's `version` and record the new fingerprint with it. A change to what a model writes for an event,
with the same tables, needs the bump too; no fingerprint can see that, so the reviewer must.
"""

from __future__ import annotations

import hashlib

from projections.projector import default_read_models

BUILT = {
    "event_log": (3, "d8146c6b5cf10d7a"),
    "catalogue": (1, "fa1f9fc4dd150f36"),
    "timeline": (1, "d7e89d228f4d8202"),
    "stance_history": (1, "7a698850eb7dc8a1"),
    "votes": (2, "2a96ab9182db428e"),
}


def fingerprint(ddl: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()[:16]


def test_every_read_model_has_a_recorded_version_and_fingerprint() -> None:
    assert {model.name for model in default_read_models()} == set(BUILT)


def test_no_read_model_changed_its_tables_without_a_new_version() -> None:
    for model in default_read_models():
        version, recorded = BUILT[model.name]
        if fingerprint(model.ddl) != recorded:
            assert model.version != version, (
                f"{model.name}'s tables changed but its version is still {version}: bump {type(model).__name__}"
                f".version so stores built before are replayed, and record ({version + 1}, "
                f"{fingerprint(model.ddl)!r}) here")
            raise AssertionError(f"record {model.name}'s new version and fingerprint here: "
                                 f"({model.version}, {fingerprint(model.ddl)!r})")
        assert model.version == version, f"{model.name} is at version {model.version}; record it here"
