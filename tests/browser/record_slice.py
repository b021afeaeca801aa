"""Loads a slice of the General Assembly's real record into the store that DIPLO_DATA_DIR names, release by
release, as `diplo seed` would load the whole: the roll-call views in the browser are checked against it.

The sessions are chosen for what they show: 25 to 27 (1970-1972, China's seat changes hands: TW, SUHH, YUCS,
CSHH vote), 44 (1989-1990: the GDR, both Yemens, the USSR and Czechoslovakia still vote), 60 (2005: the 2021
release corrects issues and adds roll calls, so known_at between the releases differs) and 74 (2019: only in
the 2021 release). Run as `python -m tests.browser.record_slice` (the browser fixture does, in a subprocess).
"""

from __future__ import annotations

from dataclasses import replace

from api.bootstrap import bootstrap
from api.settings import Settings
from domain.releases import LoadRelease
from seeds.unga import DATA, read_release

SESSIONS = frozenset({25, 26, 27, 44, 60, 74})
RELEASES = ("release-2017-03-14", "release-2021-03-08")


def main() -> None:
    runtime = bootstrap(Settings(), start_projector=False, follow=False)
    try:
        for name in RELEASES:
            facts = read_release(DATA / "unvotes" / name, runtime.parties)
            facts = replace(facts, rollcalls=[rc for rc in facts.rollcalls if rc.session in SESSIONS])
            runtime.app.handle_all([(1, LoadRelease(facts))])
            runtime.projector.catch_up()
            print(f"{name}: {len(facts.rollcalls)} roll calls of sessions {sorted(SESSIONS)}")
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
