"""Restore only what was backed up: a forged backup (its checksum recomputed) is refused by its signature and by
the head hash kept apart from it, and a restore killed half-way leaves a store that neither the server nor
`diplo verify` accepts. Real `diplo` processes, SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import psycopg

from projections.backup import GENESIS, chain_link
from seeds.loader import seed
from storage.chain import genesis, link
from tests.live.support import DIPLO, REPO, Store, bulk_log, free_port, kill_process, new_store, run_diplo

KEY = "a-backup-key-kept-apart-from-the-store"


def backed_up(store: Store, out: Path, **env: str) -> str:
    """`diplo export --all --out OUT`; the head hash it printed."""
    done = run_diplo(store, "export", "--all", "--out", str(out), **env)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"head hash ([0-9a-f]{64})", done.stderr)
    assert found, done.stderr
    return found.group(1)


def forge(source: Path, target: Path, old: str, new: str) -> None:
    """What someone who can edit the file does: change an event, recompute the checksum and the head hash."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, events, end = lines[0], lines[1:-1], json.loads(lines[-1])
    changed = [line.replace(old, new) for line in events]
    assert changed != events
    head = GENESIS
    for line in changed:
        fields = json.loads(line)
        state = json.dumps(fields["state"], separators=(",", ":"), ensure_ascii=False).encode()
        head = chain_link(head, fields["position"], fields["originator_id"], fields["originator_version"],
                          fields["topic"], state)
    end["sha256"] = hashlib.sha256("".join(changed).encode()).hexdigest()
    end["head_hash"] = head.hex()
    target.write_text(header + "".join(changed) + json.dumps(end) + "\n", encoding="utf-8")


def head_of(store: Store) -> int:
    """The last position in a store's log, read directly (0 when empty or not yet made)."""
    with contextlib.suppress(sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        if store.postgres:
            with psycopg.connect(store.database_url) as conn:
                row = conn.execute(f'SELECT max(notification_id) FROM "{store.schema}".diplo_events').fetchone()
        else:
            with contextlib.closing(sqlite3.connect(store.data_dir / "events.sqlite3")) as conn:
                row = conn.execute("SELECT max(rowid) FROM stored_events").fetchone()
        return int(row[0] or 0) if row else 0
    return 0


def test_the_backups_own_chain_link_is_the_chains() -> None:
    state = b'{"text":"x"}'
    assert genesis(0) == GENESIS
    assert chain_link(GENESIS, 7, "0b6c4d5e-0000-4000-8000-000000000001", 3, "diplo:X", state) == \
        link(GENESIS, 7, "0b6c4d5e-0000-4000-8000-000000000001", 3, "diplo:X", state)


def test_a_forged_backup_is_refused_by_its_signature_and_by_the_head_kept_apart(
    backend: str, store: Store, tmp_path: Path
) -> None:
    with store.record() as app:
        seed(app)
    genuine, forged = tmp_path / "backup.jsonl", tmp_path / "forged.jsonl"
    head = backed_up(store, genuine, backup_key=KEY)
    forge(genuine, forged, "Vance", "Vanse")

    for name, args, env, refusal in (
        ("signed", [], {"backup_key": KEY}, "signature does not match DIPLO_BACKUP_KEY"),
        ("head", ["--expect-head", head], {}, f"not to the expected {head}"),
    ):
        with new_store(backend, tmp_path / f"target-{name}") as target:
            done = run_diplo(target, "import", str(forged), *args, **env)
            assert done.returncode == 2, done.stdout + done.stderr
            assert refusal in done.stderr, done.stderr
            assert head_of(target) == 0  # refused before anything was inserted

    with new_store(backend, tmp_path / "target-genuine") as target:
        done = run_diplo(target, "import", str(genuine), "--expect-head", head, backup_key=KEY)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"restored head hash {head}" in done.stderr and "= --expect-head" in done.stderr
        verified = run_diplo(target, "verify", "--strict")
        assert verified.returncode == 0 and head in verified.stdout, verified.stdout

    with new_store(backend, tmp_path / "target-unsigned") as target:
        unsigned = tmp_path / "unsigned.jsonl"
        backed_up(store, unsigned)
        done = run_diplo(target, "import", str(unsigned), backup_key=KEY)
        assert done.returncode == 2 and "not signed" in done.stderr, done.stderr


def test_a_restore_killed_half_way_is_refused_by_the_server_and_by_verify(
    backend: str, store: Store, tmp_path: Path
) -> None:
    with store.record() as app:
        total = bulk_log(app, 100)
    backup = tmp_path / "backup.jsonl"
    backed_up(store, backup)
    with new_store(backend, tmp_path / "target") as target:
        importing = subprocess.Popen([*DIPLO, "import", str(backup), "--batch-size", "10"], cwd=REPO,
                                     env=target.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 120
            while head_of(target) == 0:
                assert importing.poll() is None, importing.communicate()[0]
                assert time.monotonic() < deadline, "the import inserted nothing within 120 s"
                time.sleep(0.005)
        finally:
            kill_process(importing)
            if importing.stdout is not None:
                importing.stdout.close()
        restored = head_of(target)
        assert 0 < restored < total, f"killed after {restored} of {total} events"

        verified = run_diplo(target, "verify", "--strict")
        # A store that cannot be served is an error: on standard error (issue 13, item 13).
        assert verified.returncode == 1 and "incomplete restore" in verified.stderr, verified.stdout + verified.stderr

        port = free_port()
        serving = subprocess.run([*DIPLO, "serve", "--port", str(port)], cwd=REPO, env=target.env(),
                                 capture_output=True, text=True, timeout=120, check=False)
        assert serving.returncode != 0
        assert "incomplete restore" in serving.stdout + serving.stderr

        again = run_diplo(target, "import", str(backup))
        assert again.returncode == 2 and "incomplete restore" in again.stderr, again.stderr
    print(f"\nrestore killed after {restored:,} of {total:,} events: verify exit 1, serve exit "
          f"{serving.returncode}, import again refused")
