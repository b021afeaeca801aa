"""Reads the General Assembly's roll calls from their real files into one release's facts.

Two layouts: an `unvotes` release folder (the R package's three tables, `un_votes.rda`, `un_roll_calls.rda`,
`un_roll_call_issues.rda`) and Voeten's own `UNVotesPublished.RData` (one row per country per roll call, vote
codes 1/2/3/8/9, countries by Correlates of War code). R data files are read with `pyreadr` (the `unga` extra):
it parses them in C through librdata, about twenty times faster than the pure-Python `rdata` on these files, into
polars frames (a third faster than pandas here, and a lighter install), which the reader works on whole columns
at a time: the 870,109 votes are never a Python loop.

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
from typing import TYPE_CHECKING, Any

from domain.parties import PartyRegistry
from domain.releases import ReleaseFacts, RollCallFacts
from domain.values import Body, Issue, Precision, Source, Vote
from seeds.successions import History, load_history

if TYPE_CHECKING:  # numpy and polars come with the `unga` extra: imported where a release is read
    import polars as pl

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


def _read_r(path: Path, name: str | None = None) -> pl.DataFrame:
    """One data frame of an R data file (the one named `name`, or the only one)."""
    try:
        import pyreadr
    except ImportError:
        raise ReleaseUnreadable(str(path), "reading R data files needs the `unga` extra: "
                                "pip install 'diplomatic-timeline[unga]'") from None
    if not path.is_file():
        raise ReleaseUnreadable(str(path), "no such file")
    try:
        frames = pyreadr.read_r(str(path), output_format="polars")
    except Exception as error:  # pyreadr raises its own errors, and librdata's, for a damaged file
        raise ReleaseUnreadable(str(path), f"not a readable R data file ({type(error).__name__}: {error})") from None
    if name is not None:
        if name not in frames:
            raise ReleaseUnreadable(str(path), f"holds no data frame named {name!r} (it holds {sorted(frames)})")
        frame: pl.DataFrame = frames[name]
        return frame
    if len(frames) != 1:
        raise ReleaseUnreadable(str(path), f"expected one data frame, found {sorted(frames)}")
    only: pl.DataFrame = next(iter(frames.values()))
    return only


def _columns(frame: pl.DataFrame, needed: tuple[str, ...], where: str) -> None:
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
    for row, (rcid, session, important, held, unres, amend, para, short, descr) in enumerate(calls.select(
            "rcid", "session", "importantvote", "date", "unres", "amend", "para", "short", "descr").iter_rows(),
            start=1):
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
    for row, (rcid, code) in enumerate(issues.select("rcid", "short_name").iter_rows(), start=1):
        where = f"{where_issues} row {row}"
        number = _int(rcid, f"{where} (rcid)")
        if number not in by_rcid:
            raise ReleaseUnreadable(where, f"issue for rcid {number}, which is not a roll call of this release")
        text = _text(code)
        if text not in ISSUE_CODES:
            raise ReleaseUnreadable(where, f"unknown issue code {code!r}")
        by_rcid[number]["issues"].add(text)

    labels = Labels(registry, history.labels.get("unvotes", {}))
    codes, countries = votes["country_code"], votes["country"]

    def describe(row: int) -> str:
        return f"country {countries[row]!r} (code {codes[row]!r})"

    keys = (codes.fill_null("\x00") + "\x01" + countries.fill_null("\x00")).rename("label")
    label_index, distinct = _dense(keys)
    bases = []
    for key in distinct:
        code, _, country = key.partition("\x01")
        bases.append(labels.base(None if code == "\x00" else code, None if country == "\x00" else country))
    choice = _vote_index(votes["vote"], {"yes": Vote.YES, "no": Vote.NO, "abstain": Vote.ABSTAIN}, where_votes)
    _assign(by_rcid, _whole_numbers(votes["rcid"], where_votes, "rcid"), (label_index, bases), labels, choice,
            where_votes, describe)
    if progress:
        progress("grouped")
    provenance = _provenance(folder, "unvotes", name)
    facts = [_facts(rcid, call) for rcid, call in sorted(by_rcid.items())]
    return ReleaseFacts(dataset=provenance.dataset, name=name, sources=provenance.sources, rollcalls=facts,
                        published_on=provenance.published_on, rows=len(votes))


def read_voeten(file: Path, registry: PartyRegistry, *, release: str | None = None,
                history: History | None = None, progress: Callable[[str], None] | None = None) -> ReleaseFacts:
    """Voeten's `UNVotesPublished.RData` (absences and non-members recorded, countries by COW code)."""
    import numpy as np
    import polars as pl
    history = history or load_history()
    frame = _read_r(file)
    if progress:
        progress("read")
    where = str(file)
    _columns(frame, ("rcid", "session", "vote", "ccode", "importantvote", "date", "unres", "year", *VOETEN_ISSUES),
             where)
    try:
        from countrycode import countrycode
    except ImportError:
        raise ReleaseUnreadable(where, "Voeten's layout names countries by Correlates of War code; reading it "
                                "needs the `cow` extra (the countrycode library): "
                                "pip install 'diplomatic-timeline[unga,cow]'") from None
    labels = Labels(registry, history.labels.get("voeten", {}))
    rcids = _whole_numbers(frame["rcid"], where, "rcid")
    unrecorded: Counter[str] = Counter()
    # A roll call's details are on each of its rows: the first row of each gives them.
    firsts = np.unique(rcids, return_index=True)[1]
    by_rcid: dict[int, dict[str, Any]] = {}
    details = frame.select("session", "importantvote", "date", "unres", "year", *VOETEN_ISSUES)
    for index in sorted(firsts.tolist()):
        session, important, held, unres, year, *flags = details.row(index)
        at = f"{where} row {index + 1}"
        precision = Precision.DAY.value
        if _blank(held) and not _blank(year):
            # One roll call of the file (rcid 4592) has its year and no date: it is dated to its year.
            held, precision = date(_int(year, f"{at} (year)") or 1, 1, 1), Precision.YEAR.value
            unrecorded["roll calls dated to the year only"] += 1
        by_rcid[int(rcids[index])] = {
            "session": _int(session, f"{at} (session)"), "date": _day(held, f"{at} (date)"), "precision": precision,
            "resolution": _text(unres), "title": None, "description": None,
            "important": _flag(important, f"{at} (importantvote)"), "amendment": None, "paragraph": None,
            "issues": {code for code, flag in zip(VOETEN_ISSUES, flags, strict=True) if _flag(flag, f"{at} ({code})")},
            "votes": {},
        }
    codes = _whole_numbers(frame["vote"], where, "vote")
    member = codes != VOETEN_NOT_MEMBER
    unrecorded["not a member"] = int((~member).sum())
    kept = frame.filter(pl.Series(member))
    choice = _vote_index(kept["vote"].cast(pl.Int64),
                         {code: vote for code, vote in VOETEN_VOTES.items()}, where, rows=np.flatnonzero(member))
    ccodes = _whole_numbers(kept["ccode"], where, "ccode", rows=np.flatnonzero(member))
    distinct = np.unique(ccodes)
    iso = dict(zip(distinct.tolist(), countrycode(distinct.tolist(), origin="cown", destination="iso2c"),
                   strict=True))
    bases = [labels.by_cow.get(c) or (labels.base(iso[c], None) if iso.get(c) else None) for c in distinct.tolist()]
    label_index = np.searchsorted(distinct, ccodes)
    kept_rows = np.flatnonzero(member)

    def describe(row: int) -> str:
        return f"Correlates of War code {ccodes[row]}"

    _assign(by_rcid, rcids[member], (label_index, bases), labels, choice, where, describe, rows=kept_rows)
    if progress:
        progress("grouped")
    name = release or file.stem
    provenance = _provenance(file, "voeten", name)
    facts = [_facts(rcid, call) for rcid, call in sorted(by_rcid.items())]
    return ReleaseFacts(dataset=provenance.dataset, name=name, sources=provenance.sources, rollcalls=facts,
                        published_on=provenance.published_on, rows=len(frame), unrecorded=dict(unrecorded))


def _whole_numbers(column: pl.Series, where: str, name: str, rows: Any = None) -> Any:
    """A column of whole numbers as int64, or the first row that is not one, named (`rows`: the file's row of
    each value, when the column is a filtered one)."""
    import numpy as np
    import polars as pl
    values = column.cast(pl.Float64).to_numpy()
    bad = ~np.isfinite(values) | (values != np.floor(values))
    if bad.any():
        at = int(np.argmax(bad))
        row = int(rows[at]) if rows is not None else at
        raise ReleaseUnreadable(f"{where} row {row + 1} ({name})", f"expected a whole number, got {column[at]!r}")
    return values.astype("int64")


def _dense(keys: pl.Series) -> tuple[Any, list[str]]:
    """Each row's key as an index into the distinct keys (sorted), and those keys."""
    import polars as pl
    distinct = keys.unique().sort()
    index = keys.rank("dense").cast(pl.Int64).to_numpy() - 1
    return index, distinct.to_list()


def _vote_index(column: pl.Series, choice: dict[Any, Vote], where: str, rows: Any = None) -> Any:
    """Each row's vote as an index into VOTE_ORDER, or the first row whose vote is none of `choice`, named."""
    import numpy as np
    import polars as pl
    values = column.cast(pl.String) if column.dtype != pl.Int64 else column
    known = {str(k) if column.dtype != pl.Int64 else k: VOTE_ORDER.index(v) for k, v in choice.items()}
    out = values.replace_strict(known, default=-1, return_dtype=pl.Int64).fill_null(-1).to_numpy()
    if (out < 0).any():
        at = int(np.argmax(out < 0))
        row = int(rows[at]) if rows is not None else at
        raise ReleaseUnreadable(f"{where} row {row + 1}", f"vote {column[at]!r} is not "
                                f"{' or '.join(str(k) for k in choice)}")
    return out


VOTE_ORDER = (Vote.YES, Vote.NO, Vote.ABSTAIN, Vote.ABSENT)


def _assign(by_rcid: dict[int, dict[str, Any]], rcids: Any, labelled: tuple[Any, list[str | None]], labels: Labels,
            choices: Any, where: str, describe: Callable[[int], str], rows: Any = None) -> None:
    """Files every row's vote on its roll call under the party that cast it then, all rows at once (`rows`: the
    file's row of each entry, when only some of the file's rows are votes)."""
    import numpy as np
    label_index, bases = labelled

    def file_row(at: int) -> int:
        return int(rows[at]) + 1 if rows is not None else at + 1

    unknown = [i for i, base in enumerate(bases) if base is None]
    if unknown:
        at = int(np.argmax(np.isin(label_index, unknown)))
        raise ReleaseUnreadable(f"{where} row {file_row(at)}", f"{describe(at)} names no known party; add a rule "
                                "for it to seeds/data/successions.json")
    known = np.fromiter(by_rcid, dtype="int64", count=len(by_rcid))
    stray = ~np.isin(rcids, known)
    if stray.any():
        at = int(np.argmax(stray))
        raise ReleaseUnreadable(f"{where} row {file_row(at)}", f"a vote on rcid {rcids[at]}, which is not a roll "
                                "call of this release")
    # The party a label names on the roll call's day: only labels with a line of predecessors depend on the day.
    parties: list[str] = []
    numbered: dict[str, int] = {}

    def number(party: str) -> int:
        found = numbered.get(party)
        if found is None:
            found = numbered[party] = len(parties)
            parties.append(party)
        return found

    row_party = np.empty(len(rcids), dtype="int64")
    by_label = np.argsort(label_index, kind="stable")
    bounds = np.searchsorted(label_index[by_label], np.arange(len(bases) + 1))
    for label, base in enumerate(bases):
        assert base is not None
        chosen = by_label[bounds[label]:bounds[label + 1]]
        if not len(chosen):
            continue
        if not labels.lined(base):
            row_party[chosen] = number(base)
            continue
        days, inverse = np.unique(rcids[chosen], return_inverse=True)
        on_day = np.array([number(labels.on(base, by_rcid[rcid]["date"])) for rcid in days.tolist()], dtype="int64")
        row_party[chosen] = on_day[inverse]
    keys = rcids * (len(parties) + 1) + row_party
    order = np.argsort(keys, kind="stable")
    repeated = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    if len(repeated):
        at = int(order[repeated + 1].min())  # the first row, in the file's order, that repeats an earlier one
        raise ReleaseUnreadable(f"{where} row {file_row(at)}", f"a second vote of {parties[row_party[at]]} "
                                f"({describe(at)}) on rcid {rcids[at]}")
    # `keys` sorts by roll call, then party: each roll call's votes are one slice, taken whole in C.
    sorted_rcids = rcids[order]
    names = np.array(parties, dtype=object)[row_party[order]].tolist()
    votes = np.array(VOTE_ORDER, dtype=object)[choices[order]].tolist()
    starts = np.flatnonzero(np.r_[True, sorted_rcids[1:] != sorted_rcids[:-1]]).tolist()
    for begin, end in zip(starts, [*starts[1:], len(order)], strict=True):
        by_rcid[int(sorted_rcids[begin])]["votes"] = dict(zip(names[begin:end], votes[begin:end], strict=True))


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
