"""Reads the General Assembly's roll calls from their real files into one release's facts.

Two layouts: an `unvotes` release folder (the R package's three tables, `un_votes.rda`, `un_roll_calls.rda`,
`un_roll_call_issues.rda`) and Voeten's own `UNVotesPublished.RData` (one row per country per roll call, vote
codes 1/2/3/8/9, countries by Correlates of War code). R data files are read with `pyreadr` (the `unga` extra):
it parses them in C through librdata, about twenty times faster than the pure-Python `rdata` on these files.

Every row is read, and every vote is recorded under the party that cast it then: a data set's label is first
named as a party (its ISO code, or the rule in seeds/data/successions.json for the labels without one), then
walked back along the continuation links to the day of the roll call (the package's `RU` of 1950 is the USSR).
A row that cannot be read so — an unknown country, a vote that is not one, a duplicate — refuses the release,
naming the file and the row; nothing of it is stored.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from domain.parties import PartyRegistry
from domain.releases import ReleaseFacts, RollCallFacts
from domain.values import Body, Issue, Precision, Source, Vote
from seeds.successions import History, load_history

DATA = Path(__file__).parent / "data" / "unga"
UNVOTES_FILES = ("un_votes.rda", "un_roll_calls.rda", "un_roll_call_issues.rda")
VOETEN_VOTES = {1: Vote.YES, 2: Vote.ABSTAIN, 3: Vote.NO, 8: Vote.ABSENT}
VOETEN_NOT_MEMBER = 9
VOETEN_ISSUES = ("me", "nu", "di", "hr", "co", "ec")
ISSUE_CODES = frozenset(i.value for i in Issue)


class ReleaseUnreadable(Exception):
    """A release's files cannot be read, or a row breaks a rule; nothing of the release is stored."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == "" or \
        type(value).__name__ in ("NAType", "NaTType")


def _text(value: Any) -> str | None:
    """Missing and empty texts mean the same."""
    if _blank(value):
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any, where: str) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, str):
        # Voeten's file has `0\\"` for the `ec` flag of one roll call (rcid 1429): a stray escape of the CSV
        # it was made from, not a value. Quotes and backslashes around a flag are dropped.
        value = value.strip().strip('\\"')
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ReleaseUnreadable(where, f"expected 0, 1 or nothing, got {value!r}") from None
    if number not in (0.0, 1.0):
        raise ReleaseUnreadable(where, f"expected 0, 1 or nothing, got {value!r}")
    return number == 1.0


def _int(value: Any, where: str) -> int | None:
    if _blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ReleaseUnreadable(where, f"expected a whole number, got {value!r}") from None
    if not number.is_integer():
        raise ReleaseUnreadable(where, f"expected a whole number, got {value!r}")
    return int(number)


def _read_r(path: Path, name: str | None = None) -> Any:
    """One data frame of an R data file (the one named `name`, or the only one)."""
    try:
        import pyreadr
    except ImportError:
        raise ReleaseUnreadable(str(path), "reading R data files needs the `unga` extra: "
                                "pip install 'diplomatic-timeline[unga]'") from None
    if not path.is_file():
        raise ReleaseUnreadable(str(path), "no such file")
    try:
        frames = pyreadr.read_r(str(path))
    except Exception as error:  # pyreadr raises its own errors, and librdata's, for a damaged file
        raise ReleaseUnreadable(str(path), f"not a readable R data file ({type(error).__name__}: {error})") from None
    if name is not None:
        if name not in frames:
            raise ReleaseUnreadable(str(path), f"holds no data frame named {name!r} (it holds {sorted(frames)})")
        return frames[name]
    if len(frames) != 1:
        raise ReleaseUnreadable(str(path), f"expected one data frame, found {sorted(frames)}")
    return next(iter(frames.values()))


def _columns(frame: Any, needed: tuple[str, ...], where: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns))
        raise ReleaseUnreadable(where, f"missing column(s) {', '.join(missing)} (has {have})")


@dataclass(frozen=True)
class Provenance:
    dataset: str
    release: str
    published_on: date | None
    sources: list[Source]


def _provenance(path: Path, dataset: str, release: str) -> Provenance:
    """The release's own provenance.json if it has one; otherwise a source naming the files."""
    file = (path if path.is_dir() else path.parent) / "provenance.json"
    if file.is_file():
        data = json.loads(file.read_text(encoding="utf-8"))
        published = data.get("published_on")
        return Provenance(data.get("dataset", dataset), release,
                          date.fromisoformat(published) if published else None,
                          [Source.from_dict(s) for s in data["sources"]])
    home = {"unvotes": "https://github.com/dgrtwo/unvotes",
            "voeten": "https://dataverse.harvard.edu/dataset.xhtml?persistentId=hdl:1902.1/12379"}[dataset]
    return Provenance(dataset, release, _date_in(release),
                      [Source(title=f"{dataset} release {release} ({path.name})", url=home, outlet=dataset)])


def _date_in(name: str) -> date | None:
    for start in range(len(name) - 9):
        try:
            return date.fromisoformat(name[start:start + 10])
        except ValueError:
            continue
    return None


class Labels:
    """Names the party a data set's label meant on a day."""

    def __init__(self, registry: PartyRegistry, rules: dict[str, dict[str, str]]) -> None:
        self.registry = registry
        self.by_code = {k.upper(): v for k, v in rules.get("by_code", {}).items()}
        self.by_name = dict(rules.get("by_name", {}))
        self.by_cow = {int(k): v for k, v in rules.get("by_cow", {}).items()}
        # Parties with a line of predecessors: only their labels need the day to be named.
        self._lined = {s.successor for s in registry.successions}
        self._base: dict[Any, str | None] = {}

    def base(self, code: str | None, name: str | None) -> str | None:
        """The party a label names, before walking back to the day (None: unknown)."""
        key = (code, name)
        if key not in self._base:
            found = None
            if code and code.upper() in self.by_code:
                found = self.by_code[code.upper()]
            elif name and name in self.by_name:
                found = self.by_name[name]
            elif code:
                party = self.registry.find(code)
                found = party.code if party is not None else None
            self._base[key] = found
        return self._base[key]

    def lined(self, base: str) -> bool:
        """Whether the party has predecessors, so that a label naming it depends on the day."""
        return base in self._lined

    def on(self, base: str, day: date) -> str:
        return self.registry.successions.resolve(base, day) if base in self._lined else base


def read_unvotes(folder: Path, registry: PartyRegistry, *, release: str | None = None,
                 history: History | None = None, progress: Callable[[str], None] | None = None) -> ReleaseFacts:
    """An `unvotes` release folder as one release's facts."""
    history = history or load_history()
    if not folder.is_dir():
        raise ReleaseUnreadable(str(folder), "not a folder (an unvotes release is a folder of three .rda files)")
    missing = [f for f in UNVOTES_FILES if not (folder / f).is_file()]
    if missing:
        raise ReleaseUnreadable(str(folder), f"not an unvotes release: missing {', '.join(missing)}")
    name = release or folder.name
    calls = _read_r(folder / "un_roll_calls.rda", "un_roll_calls")
    votes = _read_r(folder / "un_votes.rda", "un_votes")
    issues = _read_r(folder / "un_roll_call_issues.rda", "un_roll_call_issues")
    if progress:
        progress("read")
    where_calls, where_votes, where_issues = (f"{folder / f}" for f in ("un_roll_calls.rda", "un_votes.rda",
                                                                        "un_roll_call_issues.rda"))
    _columns(calls, ("rcid", "session", "importantvote", "date", "unres", "amend", "para", "short", "descr"),
             where_calls)
    _columns(votes, ("rcid", "country", "country_code", "vote"), where_votes)
    _columns(issues, ("rcid", "short_name"), where_issues)

    by_rcid: dict[int, dict[str, Any]] = {}
    for row, (rcid, session, important, held, unres, amend, para, short, descr) in enumerate(zip(
            calls["rcid"].tolist(), calls["session"].tolist(), calls["importantvote"].tolist(),
            calls["date"].tolist(), calls["unres"].tolist(), calls["amend"].tolist(), calls["para"].tolist(),
            calls["short"].tolist(), calls["descr"].tolist(), strict=True), start=1):
        where = f"{where_calls} row {row}"
        number = _int(rcid, f"{where} (rcid)")
        if number is None:
            raise ReleaseUnreadable(where, "a roll call without an rcid")
        if number in by_rcid:
            raise ReleaseUnreadable(where, f"rcid {number} appears twice")
        by_rcid[number] = {
            "session": _int(session, f"{where} (session)"), "date": _day(held, f"{where} (date)"),
            "resolution": _text(unres), "title": _text(short), "description": _text(descr),
            "important": _flag(important, f"{where} (importantvote)"), "amendment": _flag(amend, f"{where} (amend)"),
            "paragraph": _flag(para, f"{where} (para)"), "issues": set(), "votes": {},
        }
    for row, (rcid, code) in enumerate(zip(issues["rcid"].tolist(), issues["short_name"].tolist(), strict=True),
                                       start=1):
        where = f"{where_issues} row {row}"
        number = _int(rcid, f"{where} (rcid)")
        if number not in by_rcid:
            raise ReleaseUnreadable(where, f"issue for rcid {number}, which is not a roll call of this release")
        text = _text(code)
        if text not in ISSUE_CODES:
            raise ReleaseUnreadable(where, f"unknown issue code {code!r}")
        by_rcid[number]["issues"].add(text)

    labels = Labels(registry, history.labels.get("unvotes", {}))
    rows = len(votes)
    rcids = _whole_numbers(votes["rcid"], where_votes, "rcid")
    choice = {"yes": Vote.YES, "no": Vote.NO, "abstain": Vote.ABSTAIN}

    def name_label(index: int) -> str:
        code, country = votes["country_code"].iloc[index], votes["country"].iloc[index]
        return f"country {None if _blank(country) else country!r} (code {None if _blank(code) else code!r})"

    _assign(by_rcid, rcids, _labels_of(votes["country_code"], votes["country"], labels), labels,
            _choices(votes["vote"], choice, where_votes), where_votes, name_label)
    if progress:
        progress("grouped")
    provenance = _provenance(folder, "unvotes", name)
    facts = [_facts(rcid, call) for rcid, call in sorted(by_rcid.items())]
    return ReleaseFacts(dataset=provenance.dataset, name=name, sources=provenance.sources, rollcalls=facts,
                        published_on=provenance.published_on, rows=rows)


def read_voeten(file: Path, registry: PartyRegistry, *, release: str | None = None,
                history: History | None = None, progress: Callable[[str], None] | None = None) -> ReleaseFacts:
    """Voeten's `UNVotesPublished.RData` (absences and non-members recorded, countries by COW code)."""
    history = history or load_history()
    frame = _read_r(file)
    if progress:
        progress("read")
    where_file = str(file)
    _columns(frame, ("rcid", "session", "vote", "ccode", "importantvote", "date", "unres", *VOETEN_ISSUES),
             where_file)
    try:
        from countrycode import countrycode
    except ImportError:
        raise ReleaseUnreadable(where_file, "Voeten's layout names countries by Correlates of War code; reading it "
                                "needs the `cow` extra (the countrycode library): "
                                "pip install 'diplomatic-timeline[unga,cow]'") from None
    rules = history.labels.get("voeten", {})
    labels = Labels(registry, rules)
    ccodes = sorted({int(c) for c in frame["ccode"].tolist() if not _blank(c)})
    iso = dict(zip(ccodes, countrycode(ccodes, origin="cown", destination="iso2c"), strict=True))
    unrecorded: Counter[str] = Counter()
    by_rcid: dict[int, dict[str, Any]] = {}
    columns = [frame[c].tolist() for c in ("rcid", "session", "vote", "ccode", "importantvote", "date", "unres",
                                            "year", *VOETEN_ISSUES)]
    rows = 0
    for row, values in enumerate(zip(*columns, strict=True), start=1):
        rows += 1
        rcid, session, vote, ccode, important, held, unres, year, *flags = values
        where = f"{where_file} row {row}"
        number = _int(rcid, f"{where} (rcid)")
        if number is None:
            raise ReleaseUnreadable(where, "a vote without an rcid")
        call = by_rcid.get(number)
        if call is None:
            precision = Precision.DAY.value
            if _blank(held) and not _blank(year):
                # One roll call of the file (rcid 4592) has its year and no date: it is dated to its year.
                held, precision = date(_int(year, f"{where} (year)") or 1, 1, 1), Precision.YEAR.value
                unrecorded["roll calls dated to the year only"] += 1
            call = by_rcid[number] = {
                "session": _int(session, f"{where} (session)"), "date": _day(held, f"{where} (date)"),
                "precision": precision,
                "resolution": _text(unres), "title": None, "description": None,
                "important": _flag(important, f"{where} (importantvote)"), "amendment": None, "paragraph": None,
                "issues": {code for code, flag in zip(VOETEN_ISSUES, flags, strict=True)
                           if _flag(flag, f"{where} ({code})")},
                "votes": {},
            }
        code_number = _int(vote, f"{where} (vote)")
        if code_number == VOETEN_NOT_MEMBER:
            unrecorded["not a member"] += 1
            continue
        choice = VOETEN_VOTES.get(code_number or -1)
        if choice is None:
            raise ReleaseUnreadable(where, f"vote code {vote!r} is not 1, 2, 3, 8 or 9")
        country = _int(ccode, f"{where} (ccode)")
        if country is None:
            raise ReleaseUnreadable(where, "a vote without a country code")
        base = labels.by_cow.get(country) or (labels.base(iso.get(country), None) if iso.get(country) else None)
        if base is None:
            raise ReleaseUnreadable(where, f"Correlates of War code {country} names no known party")
        party = labels.on(base, call["date"])
        if party in call["votes"]:
            raise ReleaseUnreadable(where, f"a second vote of {party} (COW {country}) on rcid {number}")
        call["votes"][party] = choice
    if progress:
        progress("grouped")
    name = release or file.stem
    provenance = _provenance(file, "voeten", name)
    facts = [_facts(rcid, call) for rcid, call in sorted(by_rcid.items())]
    return ReleaseFacts(dataset=provenance.dataset, name=name, sources=provenance.sources, rollcalls=facts,
                        published_on=provenance.published_on, rows=rows, unrecorded=dict(unrecorded))


def _whole_numbers(column: Any, where: str, name: str) -> Any:
    """A column of whole numbers as int64, or the first row that is not one, named."""
    import numpy as np

    values = column.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(values) | (values != np.floor(values))
    if bad.any():
        row = int(np.argmax(bad))
        raise ReleaseUnreadable(f"{where} row {row + 1} ({name})", f"expected a whole number, got {column.iloc[row]!r}")
    return values.astype("int64")


def _labels_of(codes: Any, names: Any, labels: Labels) -> tuple[Any, list[str | None]]:
    """Each row's label as an index into the distinct labels, and each distinct label's party (None: unknown)."""
    import numpy as np
    import pandas as pd

    code_index, code_values = pd.factorize(codes, use_na_sentinel=True)
    name_index, name_values = pd.factorize(names, use_na_sentinel=True)
    combined = (code_index.astype("int64") + 1) * (len(name_values) + 1) + (name_index.astype("int64") + 1)
    label_index, distinct = pd.factorize(combined)
    bases: list[str | None] = []
    for value in distinct.tolist():
        code_at, name_at = divmod(int(value), len(name_values) + 1)
        code = None if code_at == 0 else _text(code_values[code_at - 1])
        name = None if name_at == 0 else _text(name_values[name_at - 1])
        bases.append(labels.base(code, name))
    return np.asarray(label_index), bases


def _choices(column: Any, choice: dict[Any, Vote], where: str) -> Any:
    """Each row's vote as an index into VOTE_ORDER, or the first row whose vote is none of `choice`, named."""
    import numpy as np
    import pandas as pd

    index, values = pd.factorize(column, use_na_sentinel=True)
    mapped = np.array([VOTE_ORDER.index(choice[v]) if v in choice else -1 for v in values.tolist()] + [-1])
    out = mapped[index]  # the sentinel -1 (missing) takes the last entry, -1
    if (out < 0).any():
        row = int(np.argmax(out < 0))
        raise ReleaseUnreadable(f"{where} row {row + 1}", f"vote {column.iloc[row]!r} is not "
                                f"{' or '.join(str(k) for k in choice)}")
    return out


VOTE_ORDER = (Vote.YES, Vote.NO, Vote.ABSTAIN, Vote.ABSENT)


def _assign(by_rcid: dict[int, dict[str, Any]], rcids: Any, labelled: tuple[Any, list[str | None]], labels: Labels,
            choices: Any, where: str, describe: Callable[[int], str]) -> None:
    """Files every row's vote on its roll call under the party that cast it then, all rows at once."""
    import numpy as np
    import pandas as pd

    label_index, bases = labelled
    unknown = [i for i, base in enumerate(bases) if base is None]
    if unknown:
        row = int(np.argmax(np.isin(label_index, unknown)))
        raise ReleaseUnreadable(f"{where} row {row + 1}", f"{describe(row)} names no known party; add a rule for "
                                "it to seeds/data/successions.json")
    known = np.fromiter(by_rcid, dtype="int64", count=len(by_rcid))
    stray = ~np.isin(rcids, known)
    if stray.any():
        row = int(np.argmax(stray))
        raise ReleaseUnreadable(f"{where} row {row + 1}", f"a vote on rcid {rcids[row]}, which is not a roll call "
                                "of this release")
    # The party a label names on the roll call's day: only labels with a line of predecessors depend on the day.
    parties: list[str] = []
    party_of: dict[tuple[int, int], int] = {}
    row_party = np.empty(len(rcids), dtype="int64")
    for label, base in enumerate(bases):
        assert base is not None
        rows = np.flatnonzero(label_index == label)
        if not labels.lined(base):
            row_party[rows] = _index_of(parties, base)
            continue
        for rcid in np.unique(rcids[rows]).tolist():
            key = (label, rcid)
            party_of[key] = _index_of(parties, labels.on(base, by_rcid[rcid]["date"]))
        row_party[rows] = [party_of[(label, r)] for r in rcids[rows].tolist()]
    twice = pd.Series(rcids * (len(parties) + 1) + row_party).duplicated().to_numpy()
    if twice.any():
        row = int(np.argmax(twice))
        raise ReleaseUnreadable(f"{where} row {row + 1}", f"a second vote of {parties[row_party[row]]} "
                                f"({describe(row)}) on rcid {rcids[row]}")
    order = np.argsort(rcids, kind="stable")
    sorted_rcids = rcids[order]
    names = [parties[i] for i in row_party[order].tolist()]
    votes = [VOTE_ORDER[i] for i in choices[order].tolist()]
    starts = np.flatnonzero(np.r_[True, sorted_rcids[1:] != sorted_rcids[:-1]]).tolist()
    for begin, end in zip(starts, [*starts[1:], len(order)], strict=True):
        by_rcid[int(sorted_rcids[begin])]["votes"] = dict(zip(names[begin:end], votes[begin:end], strict=True))


def _index_of(values: list[str], value: str) -> int:
    try:
        return values.index(value)
    except ValueError:
        values.append(value)
        return len(values) - 1


def _day(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        raise ReleaseUnreadable(where, "a roll call without a date")
    for form in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ReleaseUnreadable(where, f"not a date: {value!r}")


def _facts(rcid: int, call: dict[str, Any]) -> RollCallFacts:
    return RollCallFacts(
        slug=f"unga-{rcid}", body=Body.UNGA.value, session=call["session"], date=call["date"],
        precision=call.get("precision", Precision.DAY.value),
        resolution=call["resolution"], title=call["title"], description=call["description"],
        issues=tuple(sorted(call["issues"])), important=call["important"], amendment=call["amendment"],
        paragraph=call["paragraph"], votes=call["votes"],
    )


# The releases `diplo seed` loads, in the order they were published.
SEED_RELEASES = (DATA / "unvotes" / "release-2017-03-14", DATA / "unvotes" / "release-2021-03-08")


def release_identity(path: Path, release: str | None = None) -> tuple[str, str]:
    """The data set and release name a path would load as, without reading its data (to skip one loaded before)."""
    if path.is_dir():
        dataset, name = "unvotes", release or path.name
    elif path.suffix.lower() == ".rdata":
        dataset, name = "voeten", release or path.stem
    else:
        raise ReleaseUnreadable(str(path), "expected an unvotes release folder (three .rda files) or Voeten's .RData "
                                "file")
    return _provenance(path, dataset, name).dataset, name


def read_release(path: Path, registry: PartyRegistry, *, release: str | None = None,
                 progress: Callable[[str], None] | None = None) -> ReleaseFacts:
    """Either layout, told apart by what is there: a folder of .rda files, or Voeten's .RData file."""
    if path.is_dir():
        return read_unvotes(path, registry, release=release, progress=progress)
    if path.suffix.lower() == ".rdata":
        return read_voeten(path, registry, release=release, progress=progress)
    raise ReleaseUnreadable(str(path), "expected an unvotes release folder (three .rda files) or Voeten's .RData file")
