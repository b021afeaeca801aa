"""Turns a results file into the table of docs/benchmarks.md: every figure beside its floor, as a ratio.

    python -m bench.report bench/results/quick.json                 # print the table
    python -m bench.report bench/results/quick.json --update docs/benchmarks.md

`--update` replaces what stands between `<!-- results:<mode>:begin -->` and `<!-- results:<mode>:end -->`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str, str, str, str]


def _n(value: float | None, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "-"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def _share(value: float | None, floor: float | None) -> str:
    """A speed as a share of the floor's (1 = as fast as the floor)."""
    if not value or not floor:
        return "-"
    return f"{value / floor:.3f}"


def _times(value: float | None, floor: float | None) -> str:
    """A duration as a multiple of the floor's (1 = as quick as the floor)."""
    if not value or not floor:
        return "-"
    return f"{value / floor:.2f}x"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


def rows_for(run: dict[str, Any], smallest: dict[str, Any] | None, code_rss: float | None) -> list[Row]:
    b, label = run["backend"], run["label"]
    where = f"{b}, {label}"
    rows: list[Row] = []
    imp, floor = run["import_service"], run["import_floor"]
    method = max((k for k, v in floor.items() if isinstance(v, dict) and "rows_per_s" in v),
                 key=lambda k: floor[k]["rows_per_s"])
    ratio = imp["events_per_s"] / floor["floor_rows_per_s"]
    what = ("bulk import: `diplo import` of a command file (decided by the service's rules, one transaction)"
            if "file_mib" in imp else "bulk import through the service (one transaction per command)")
    rows.append((what, where, _n(imp["events_per_s"], "events/s"),
                 f"{_n(floor['floor_rows_per_s'], 'rows/s')} ({method})", f"{ratio:.4f}", ">= 0.25 of floor",
                 _met(ratio >= 0.25)))
    one = run.get("import_one_by_one")
    if one:
        rows.append(("  for context: the same commands one transaction each, as the API writes", where,
                     _n(one["events_per_s"], "events/s"), _n(one["floor"]["floor_rows_per_s"], "rows/s"),
                     f"{one['ratio']:.4f}", "", ""))
    di = run.get("diplo_import")
    if di and "events_per_s" in di:
        rows.append(("restore: `diplo import` of a backup (check, then insert by 1,000)", where,
                     _n(di["events_per_s"], "events/s"), f"{_n(di['floor']['floor_rows_per_s'], 'rows/s')}",
                     f"{di['ratio']:.4f}", ">= 0.25 of floor", _met(di["ratio"] >= 0.25)))
        rows.append(("  same, the insert alone", where, _n(di["insert_events_per_s"], "events/s"),
                     _n(di["floor"]["floor_rows_per_s"], "rows/s"),
                     _share(di["insert_events_per_s"], di["floor"]["floor_rows_per_s"]), "", ""))
    rb, rf = run["rebuild"], run["rebuild_floor"]
    ratio = rb["events_per_s"] / rf["floor_events_per_s"]
    how = "`diplo project` from 0" if "how" in rb else "Projector.catch_up in process"
    rows.append((f"projection rebuild ({how})", where, _n(rb["events_per_s"], "events/s"),
                 f"{_n(rf['floor_events_per_s'], 'events/s')} (raw SELECT)", f"{ratio:.4f}", ">= 0.333 of floor",
                 _met(ratio >= 1 / 3)))
    rows.append(("  same, against select_notifications pages", where, _n(rb["events_per_s"], "events/s"),
                 _n(rf["notification_pages"]["events_per_s"], "events/s"),
                 _share(rb["events_per_s"], rf["notification_pages"]["events_per_s"]), "", ""))
    pp = run.get("projector_process")
    if pp and "how" not in rb:
        ratio = pp["events_per_s"] / rf["floor_events_per_s"]
        rows.append(("  same, `diplo project` process from 0", where, _n(pp["events_per_s"], "events/s"),
                     _n(rf["floor_events_per_s"], "events/s"), f"{ratio:.4f}", ">= 0.333 of floor",
                     _met(ratio >= 1 / 3)))
    st = run["stance_in_process"]
    so, raw = st["stances_of"], st["floor_raw_sql"]
    one, one_naive = st["one_pair_read_model"], st["one_pair_naive_fold"]
    one_raw = st.get("one_pair_floor_raw_sql")
    if one_raw:  # results since stance_of (the engine asks the one-pair question in SQL)
        rows.append(("stance of a party on a declaration at a date, in process, p50 (stance_of)", where,
                     _n(one["p50_ms"], "ms", 3), f"{_n(one_raw['p50_ms'], 'ms', 3)} (same SQL, bare driver)",
                     _times(one["p50_ms"], one_raw["p50_ms"]), "< 1 ms", _met(one["p50_ms"] < 1)))
        rows.append(("  same, p99", where, _n(one["p99_ms"], "ms", 3), _n(one_raw["p99_ms"], "ms", 3),
                     _times(one["p99_ms"], one_raw["p99_ms"]), "< 1 ms", _met(one["p99_ms"] < 1)))
        rows.append(("  naive: fold the declaration's events per question, p50", where,
                     _n(one_naive["p50_ms"], "ms", 3), f"{_n(one['p50_ms'], 'ms', 3)} (stance_of)",
                     _times(one_naive["p50_ms"], one["p50_ms"]), "",
                     "answers agree" if st.get("one_pair_answers_agree") else "**answers differ**"))
    rows.append(("stance of a party on every declaration at a date, p50 (stances_of)", where,
                 _n(so["p50_ms"], "ms", 3), f"{_n(raw['p50_ms'], 'ms', 3)} (same SQL, bare driver)",
                 _times(so["p50_ms"], raw["p50_ms"]), "< 1 ms", _met(so["p50_ms"] < 1)))
    rows.append(("  same, p99", where, _n(so["p99_ms"], "ms", 3), _n(raw["p99_ms"], "ms", 3),
                 _times(so["p99_ms"], raw["p99_ms"]), "< 1 ms", _met(so["p99_ms"] < 1)))
    naive = st["all_declarations_naive_fold"]
    rows.append(("  naive: fold every declaration per question, p50", where, _n(naive.get("p50_ms"), "ms", 1),
                 f"{_n(so['p50_ms'], 'ms', 3)} (stances_of)", _times(naive.get("p50_ms"), so["p50_ms"]), "", ""))
    if smallest is not None and smallest is not run:
        base_one = smallest["stance_in_process"]["one_pair_read_model"]["p50_ms"]
        growth = one["p50_ms"] / base_one
        rows.append((f"stance flat in size (one pair): p50 at {label} / p50 at {smallest['label']}", b,
                     _n(one["p50_ms"], "ms", 3), _n(base_one, "ms", 3), f"{growth:.2f}x", "<= 1.5x",
                     _met(growth <= 1.5)))
        base = smallest["stance_in_process"]["stances_of"]["p50_ms"]
        rows.append((f"  every declaration: p50 at {label} / p50 at {smallest['label']} (the answer grows)", b,
                     _n(so["p50_ms"], "ms", 3), _n(base, "ms", 3), f"{so['p50_ms'] / base:.2f}x", "", ""))
    http = run.get("http")
    if http:
        lat = http["stance_latency"]
        rows.append(("stance over HTTP, p50 (one request at a time)", where, _n(lat["api"]["p50_ms"], "ms", 2),
                     f"{_n(lat['bare']['p50_ms'], 'ms', 2)} (bare FastAPI)",
                     _times(lat["api"]["p50_ms"], lat["bare"]["p50_ms"]), "", ""))
        rows.append(("stance over HTTP, p99", where, _n(lat["api"]["p99_ms"], "ms", 2),
                     _n(lat["bare"]["p99_ms"], "ms", 2),
                     _times(lat["api"]["p99_ms"], lat["bare"]["p99_ms"]), "", ""))
        rps = http["requests_per_second"]
        bare = rps["bare"]
        labels = {"stances": "a party on every declaration", "signatories": "a declaration's signatories",
                  "one_pair": "a party on one declaration",
                  "one_pair_standard_handler": "a party on one declaration, FastAPI's standard handler (A/B)"}
        same = rps.get("bare_same_answers", {})
        measured = bare.get("generator") == "wrk"  # a Python generator saturates before the bare endpoint
        floor_of = rps.get("floor_of", {})
        for name in ("one_pair", "one_pair_standard_handler", "stances", "signatories"):
            if name not in rps:
                continue
            got = rps[name]
            # Each read against the bare endpoint of its shape (round 4 on): `async def` for a read answered on
            # the event loop, else the plain `def` of every earlier run; the other, and a bare endpoint sending the
            # engine's very answers as ready bytes, beside it.
            shape = floor_of.get(name.removesuffix("_standard_handler"), "bare")
            floor = rps.get(shape, bare)
            share = got["ok_per_s"] / floor["ok_per_s"] if got.get("ok_per_s") and floor.get("ok_per_s") else None
            errors = f"; {got['non_2xx']} error answers" if got.get("non_2xx") else ""
            floors = [f"{_n(bare.get('ok_per_s'), 'req/s')} (bare FastAPI, def)"]
            if rps.get("bare_async"):
                floors.append(f"{_n(rps['bare_async'].get('ok_per_s'), 'req/s')} (async def)")
            ready = same.get(name.removesuffix("_standard_handler"), {}).get("ok_per_s")
            if ready:
                floors.append(f"{_n(ready, 'req/s')} (def sending our answers as ready bytes)")
            judged = "async def" if shape == "bare_async" else "def"
            ratio_text = "-" if not (share and measured) else (f"{share:.3f} of the {judged}" if rps.get("bare_async")
                                                               else f"{share:.3f}")
            standard = name.endswith("standard_handler")
            rows.append((f"HTTP reads/s, {labels[name]} ({got['generator']}, {got['connections']} conn.)", where,
                         f"{_n(got.get('ok_per_s'), 'ok/s')}{errors}", "; ".join(floors), ratio_text,
                         "" if standard else ">= 0.5 of floor",
                         "" if standard else _met(share >= 0.5 if share is not None else None) if measured
                         else "not measured (no wrk: the load generator sets the pace)"))
        sse = http["sse_fanout"]
        api, bare_sse = sse["api"], sse["bare"]
        for q in ("p50", "p99"):
            rows.append((f"one act to {api.get('subscribers')} SSE subscribers, {q}", where,
                         _n(api.get(f"{q}_ms"), "ms", 1), f"{_n(bare_sse.get(f'{q}_ms'), 'ms', 1)} (bare FastAPI SSE)",
                         _times(api.get(f"{q}_ms"), bare_sse.get(f"{q}_ms")),
                         "p99 <= 250 ms" if q == "p99" else "",
                         _met(api["p99_ms"] <= 250) if q == "p99" and "p99_ms" in api else ""))
        mem = http["peak_rss_mib"]
        rows.append(("peak RSS of the API (after the load above)", where, _n(mem["api"], "MiB", 1),
                     f"{_n(mem['bare'], 'MiB', 1)} (bare FastAPI)", _times(mem["api"], mem["bare"]), "", ""))
    if pp and pp.get("peak_rss_mib"):
        rows.append(("peak RSS of `diplo project` (catching up from 0)", where, _n(pp["peak_rss_mib"], "MiB", 1),
                     f"{_n(code_rss, 'MiB', 1)} (same code loaded, no data)", _times(pp["peak_rss_mib"], code_rss),
                     "", ""))
    return rows


def table(document: dict[str, Any]) -> str:
    m = document["machine"]
    runs = document["runs"]
    lines = [
        f"Run `{document['mode']}` of {document['started_at']} on {m['cpu_model']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB; Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}; "
        f"load average {m['load_average_at_start']} at the start, {document.get('load_average_at_end')} at the end.",
        "",
        "| path | backend, acts | figure | floor (same run) | ratio to floor | target (docs/design.md) | |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    smallest: dict[str, dict[str, Any]] = {}
    for run in runs:
        if run["backend"] not in smallest or run["size"] < smallest[run["backend"]]["size"]:
            smallest[run["backend"]] = run
    for run in runs:
        for row in rows_for(run, smallest.get(run["backend"]), document.get("code_only_rss_mib")):
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def update(doc: Path, mode: str, text: str) -> None:
    begin, end = f"<!-- results:{mode}:begin -->", f"<!-- results:{mode}:end -->"
    content = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(content):
        raise SystemExit(f"{doc} has no {begin} ... {end} block")
    doc.write_text(pattern.sub(lambda _: f"{begin}\n{text}{end}", content), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--update", type=Path, help="the markdown file whose results block to replace")
    args = parser.parse_args(argv)
    document = json.loads(args.results.read_text(encoding="utf-8"))
    text = table(document)
    if args.update:
        update(args.update, document["mode"], text)
        print(f"updated {args.update}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
