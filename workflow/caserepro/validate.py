"""Validate all raw tables together and return them typed, or raise one report of every problem."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from caserepro import codebook, schemas
from caserepro.codes import combined_key, distinct
from caserepro.errors import Problem, RawDataError, shorten
from caserepro.intervals import printed_decimals, printed_number
from caserepro.io import write_table
from caserepro.paths import RAW_TABLES, raw_file
from caserepro.raw import (
    FIRST_DATA_LINE,
    HEADER_LINE,
    RawTable,
    empty_coded,
    line_of,
    read_raw_table,
)
from caserepro.relations import (
    DETAILS,
    ENRICHERS,
    NEEDS,
    as_text,
    converted,
    per_value,
    timepoint_sequence,
    unit_conversions,
)

#: Pandera's check names, said in words a data curator reads at once.
_FRIENDLY = [
    (
        r"^column_in_schema$",
        "is an expected column (unexpected columns, e.g. names or e-mails, are refused)",
    ),
    (r"^column_in_dataframe$", "required column is present"),
    (r"^not_nullable$", "is not blank"),
    (r"^coerce_dtype\('int64'\)$", "is a whole number"),
    (r"^coerce_dtype\('Int64'\)$", "is a whole number or blank"),
    (r"^coerce_dtype\('float64'\)$", "is a number (dot as decimal mark, no thousands separator)"),
    (r"^field_uniqueness$", "is unique"),
    (r"^multiple_fields_uniqueness$", "is not a duplicate (same key as another row)"),
    (
        re.escape(f"str_matches('{schemas.PRINTED_NUMBER}')"),
        "is a number as printed (dot as decimal mark, no thousands separator)",
    ),
    (
        re.escape(f"str_matches('{schemas.MONTH_OR_YEAR}')"),
        "is a YYYY-MM or YYYY date (month precision at most)",
    ),
    (
        re.escape(f"str_matches('{schemas.CODE}')"),
        "is a lower-case code (letters, digits, underscores)",
    ),
    (
        re.escape(f"str_matches('{schemas.CASE_ID}')"),
        "is a case code (letters, digits, -_. ; no spaces)",
    ),
    (r"^isin\((.*)\)$", r"is one of the allowed values \1"),
    (r"^greater_than_or_equal_to\((.*)\)$", r"is at least \1"),
    (r"^less_than_or_equal_to\((.*)\)$", r"is at most \1"),
    (r"^greater_than\((.*)\)$", r"is greater than \1"),
    (r"^less_than\((.*)\)$", r"is less than \1"),
]


def _friendly(check: str) -> str:
    for pattern, words in _FRIENDLY:
        if re.search(pattern, check):
            return re.sub(pattern, words, check)
    return check


def _blank(value: object) -> bool:
    """True for None, NaN and pd.NA (and False for any container, unlike pd.isna)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _cell(frame: pd.DataFrame, index: object, column: str) -> str:
    """A cell as the report shows it: its text quoted, or `blank`; key columns joined by '+'."""
    values = [frame.at[index, c] for c in column.split("+") if c in frame.columns]
    shown = ["" if pd.isna(v) else str(v) for v in values]
    if all(pd.isna(v) for v in values):
        return "blank"
    return repr(shorten("+".join(shown)))


def _problems(
    error: SchemaErrors, name: str, frame: pd.DataFrame, unique: list[str] | None = None
) -> list[Problem]:
    """Turn pandera's failure cases into Problems that name file, line, column, check and value."""
    problems = []
    cases = error.failure_cases
    # A column whose text did not convert also fails its dtype and range checks as a whole
    # column; those echoes say nothing more than "is a whole number" on the cell itself.
    uncoerced = set(
        cases.loc[cases["check"].astype("str").str.startswith("coerce_dtype"), "column"]
    )
    for case in cases.itertuples(index=False):
        check = str(case.check)
        if case.column in uncoerced and (check.startswith("dtype(") or _blank(case.index)):
            continue
        column = schemas.RELATION_COLUMNS.get(check)
        if column is None and isinstance(case.column, str) and case.column in frame.columns:
            column = case.column
        if check == "multiple_fields_uniqueness" and unique:
            column = "+".join(unique)
        if column is None and isinstance(case.failure_case, dict):
            # A cell-wise table check: pandera gives {column: value} for each failing row.
            column = "+".join(c for c in case.failure_case if c in frame.columns) or None
        index = case.index
        has_row = not _blank(index) and index in frame.index
        if check in ("column_in_schema", "column_in_dataframe"):
            column, value = str(case.failure_case), repr(str(case.failure_case))
            line = HEADER_LINE
        elif has_row and column is not None:
            value, line = _cell(frame, index, column), line_of(index)
        else:
            value = "blank" if _blank(case.failure_case) else repr(shorten(str(case.failure_case)))
            line = line_of(index) if has_row else None
        problems.append(Problem(name, line, column, _friendly(check), value))
    return list(dict.fromkeys(problems))


def _check(
    model: type[pa.DataFrameModel] | pa.DataFrameSchema, frame: pd.DataFrame, name: str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    unique = getattr(getattr(model, "Config", None), "unique", None)
    try:
        return model.validate(frame, lazy=True), []
    except SchemaErrors as error:
        return None, _problems(error, name, frame, unique)


def _lenient(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> pd.DataFrame | None:
    """Best-effort typed copy of a table that failed its own checks, so the checks across tables
    still run in the same pass (numbers that do not parse become missing, duplicate keys keep the
    first row); None if a column is missing, as no cross-table check can use the table then."""
    columns = model.to_schema().columns
    if not set(columns) <= set(frame.columns):
        return None
    numeric = [n for n, c in columns.items() if str(c.dtype) in ("int64", "Int64", "float64")]
    lenient = frame.assign(**{n: pd.to_numeric(frame[n], errors="coerce") for n in numeric})
    keys = getattr(model.Config, "unique", None) or [n for n, c in columns.items() if c.unique]
    return lenient.drop_duplicates(subset=keys) if keys else lenient


def _no_value_twice(codes: np.ndarray) -> bool:
    """True if no code occurs on two rows."""
    ordered = np.sort(codes)
    return not (ordered[1:] == ordered[:-1]).any()


def _typed_quickly(model: type[pa.DataFrameModel], raw: RawTable) -> pd.DataFrame | None:
    """The typed table `model.validate` returns if the table passes all its checks, with its text
    columns as categoricals (see `_with_categories`), found without running pandera over every
    row; None if the table may fail (pandera then checks every row).

    Pandera checks each column on its distinct values only: the column checks look at one cell
    at a time, so the column passes them (and coerces the same) exactly when its distinct values
    do. What that cannot show is then checked on every row: that unique columns and keys hold no
    (typed) value twice, and the table's checks of rows. A coerced column takes each cell's typed
    value from its distinct value.
    """
    schema = model.to_schema()
    coded = raw.coded
    if schema.coerce or set(coded.columns) != set(schema.columns):
        return None
    coerced, typed_codes = {}, {}
    for name, column in schema.columns.items():
        codes, values = distinct(coded[name])
        try:
            checked = column.validate(pd.DataFrame({name: values}), lazy=True)[name]
        except (SchemaError, SchemaErrors):  # (a value that does not coerce raises SchemaError)
            return None
        typed_codes[name] = codes, len(values)
        if column.coerce or checked.dtype != values.dtype:
            coerced[name] = pd.Series(checked.array.take(codes), index=coded.index)
            # Texts that differ can coerce to equal values ('5', '+5'): codes of the typed values.
            same, typed_values = pd.factorize(checked, use_na_sentinel=False)
            typed_codes[name] = same[codes], len(typed_values)
    # Missing counts as a value here, which is stricter than pandera: such a table goes to pandera.
    unique = [name for name, column in schema.columns.items() if column.unique]
    if not all(typed_codes[name][1] == len(coded) for name in unique):
        return None
    if schema.unique and not _no_value_twice(
        combined_key([typed_codes[name] for name in schema.unique])
    ):
        return None
    typed = coded.assign(**coerced)
    if all(bool(check(typed).check_passed) for check in schema.checks):
        return typed
    return None


def _with_categories(frame: pd.DataFrame, coded: pd.DataFrame | None = None) -> pd.DataFrame:
    """The frame with its text columns as categoricals (from `coded` when given: the same table,
    read as categoricals), for the checks across tables to work once per distinct value."""
    text = [c for c, dtype in frame.dtypes.items() if dtype == "str"]
    if coded is not None:
        return frame.assign(**{c: coded[c] for c in text})
    return frame.astype(dict.fromkeys(text, "category"))


def _holds(flag: pd.Series) -> bool:
    """True if a rule's flag column says every row keeps the rule."""
    return flag.dtype == bool and bool(flag.all())


def _with_numbers(tables: dict[str, pd.DataFrame], value: pd.Series) -> dict[str, pd.DataFrame]:
    """The tables with what follows from them: each measurement's value as a number in the
    dictionary's unit (`value_num`, `value_high_num`; `unit` is the dictionary's, `unit_given`
    the printed one, `scale` the dictionary units per printed unit), its printed decimals and
    what its qualifier means; each timepoint's place in its case's order (`sequence`); each
    reference range's ends in the dictionary's unit (`low_num`, `high_num`)."""
    m = tables["measurements"]
    units = unit_conversions(m, tables["dictionary"])
    number = per_value(value, printed_number)
    high = per_value(m["value_high"], lambda values: printed_number(values, errors="coerce"))
    q = as_text(tables["qualifiers"])
    means = per_value(
        m["qualifier"],
        lambda v: v.astype("str").map(dict(zip(q["qualifier"], q["means"], strict=True))),
    )
    measurements = m.assign(
        value_num=converted(number, units),
        decimals=per_value(value, printed_decimals),
        value_high_num=converted(high.astype("float64"), units),
        unit_given=m["unit"],
        unit=_as_like(units["dictionary_unit"], m["unit"]),
        scale=units["scale"].astype("float64"),
        qualifier_means=_as_like(means, m["qualifier"]),
    )
    t = tables["timepoints"]
    r = tables["reference_ranges"]
    ranges = unit_conversions(r, tables["dictionary"])
    return tables | {
        "measurements": measurements,
        "timepoints": t.assign(sequence=timepoint_sequence(t)["sequence"]),
        "reference_ranges": r.assign(
            low_num=converted(printed_number(as_text(r)["low"]), ranges),
            high_num=converted(printed_number(as_text(r)["high"]), ranges),
        ),
    }


def _as_like(values: pd.Series, like: pd.Series) -> pd.Series:
    """Text `values` as categoricals when `like` is one (validation's tables), else as text."""
    if isinstance(like.dtype, pd.CategoricalDtype):
        return values.astype("category")
    return values.astype("str")


def _with_details(problems: list[Problem], enriched: pd.DataFrame) -> list[Problem]:
    """Problems of rules that say what they expected, with that said after the value."""
    out = []
    for p in problems:
        flag = schemas.RELATION_DETAILS.get(p.check)
        if flag is not None and p.line is not None:
            detail = DETAILS[flag](enriched, p.line - FIRST_DATA_LINE)
            p = Problem(p.file, p.line, p.column, p.check, f"{p.value} ({detail})")
        out.append(p)
    return out


def _each_table(
    raw: dict[str, RawTable], names: dict[str, str], text_as_categories: bool
) -> tuple[list[Problem], dict[str, pd.DataFrame], dict[str, pd.DataFrame], set[str]]:
    """Every table checked alone (`raw` emptied as each is): its problems, the typed tables (as
    text unless `text_as_categories`), the tables usable for the checks across tables (a broken
    table read leniently, if it can be) and the names of the broken tables."""
    problems: list[Problem] = []
    typed: dict[str, pd.DataFrame] = {}
    usable: dict[str, pd.DataFrame] = {}
    broken: set[str] = set()
    for table in list(raw):
        read = raw.pop(table)
        model = schemas.TABLE_SCHEMAS[table]
        found: list[Problem] = []
        if (result := _typed_quickly(model, read)) is None:
            checked, found = _check(model, read.frame, names[table])
            result = None if checked is None else _with_categories(checked, read.coded)
        problems += found
        if result is not None:
            if not text_as_categories:
                typed[table] = as_text(result)
            usable[table] = result
        else:
            broken.add(table)
            if (lenient := _lenient(model, read.frame)) is not None:
                usable[table] = _with_categories(lenient)
    return problems, typed, usable, broken


def _across_tables(
    usable: dict[str, pd.DataFrame],
    names: dict[str, str],
    reported: set[tuple[str, int | None, str | None]],
    broken: set[str],
) -> list[Problem]:
    """The problems of the checks across tables, less the echoes: on a cell already `reported`,
    or of a check against a `broken` table."""
    problems: list[Problem] = []
    for table, enrich in ENRICHERS.items():
        if table in usable and all(need in usable for need in NEEDS[table]):
            enriched = enrich(usable)
            if all(_holds(enriched[rule.flag]) for rule in schemas.RELATIONS[table]):
                continue
            _, found = _check(schemas.relation_schema(table), enriched, names[table])
            problems += [
                p
                for p in _with_details(found, enriched)
                if (p.file, p.line, p.column) not in reported
                and not broken & set(schemas.RELATION_SOURCES.get(p.check, ()))
            ]
    return problems


def validate_tables(
    raw: dict[str, RawTable],
    names: dict[str, str],
    text_as_categories: bool = False,
    meanwhile: Callable[[dict[str, pd.DataFrame]], object] | None = None,
    unreadable: list[Problem] | None = None,
    origins: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """Check every table alone, then the tables together; raise RawDataError listing all problems.

    Both layers run in one pass even when a table fails alone, so one run reports every problem;
    a cross-table problem is left out when it could be a mere echo: on a cell already reported,
    or when the table it checks against (e.g. cases.csv for a case_id) is itself broken.
    `raw` is emptied table by table as each is checked. `text_as_categories` returns text columns
    as categoricals (the same values, each held once), which `io.write_table` writes without
    hashing every cell; each table's text is then freed as soon as it is checked. `meanwhile`,
    if given, is called on a second thread with the validated tables as soon as every table
    passed its own checks, while the checks across tables run (to write them out early, say);
    its errors are raised here. `unreadable`: problems of files that could not be read at all
    (they are reported with the rest; the checks that need those tables are skipped).
    `origins`: the file and line of each row of a table merged from several files (its problems
    are reported there).
    """
    problems, typed, usable, broken = _each_table(raw, names, text_as_categories)
    validated = None
    folder = os.path.dirname(next(iter(names.values()))) if names else None
    if not problems and not unreadable:
        chosen = usable if text_as_categories else typed
        validated = _with_numbers(chosen, usable["measurements"]["value"])
    with ThreadPoolExecutor(max_workers=1) as helper:
        early = helper.submit(meanwhile, validated) if meanwhile and validated else None
        reported = {(p.file, p.line, p.column) for p in [*(unreadable or []), *problems]}
        problems += _across_tables(usable, names, reported, broken)
        if early is not None:
            early.result()
    if problems or unreadable or validated is None:
        # A problem on a table merged from several files is placed where its row is written.
        located = [codebook.located(p, origins or {}, names) for p in problems]
        located = [*(unreadable or []), *located]
        elsewhere = any(os.path.dirname(p.file) != folder for p in located)
        raise RawDataError(located, None if elsewhere else folder)
    return validated


def load_raw(
    raw_dir: str | Path,
    display_dir: str | None = None,
    text_as_categories: bool = False,
    meanwhile: Callable[[dict[str, pd.DataFrame]], object] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read and validate every raw table in `raw_dir`; raise RawDataError with all problems found
    (`text_as_categories` and `meanwhile`: see `validate_tables`)."""
    shown = display_dir or str(raw_dir)
    names = {table: f"{shown.rstrip('/')}/{table}.csv" for table in RAW_TABLES}
    raw, problems, origins = read_raw_folder(raw_dir, names)
    return validate_tables(raw, names, text_as_categories, meanwhile, problems, origins)


def read_raw_folder(
    raw_dir: str | Path, names: dict[str, str]
) -> tuple[dict[str, RawTable], list[Problem], dict[str, pd.DataFrame]]:
    """Every raw table that can be read (an optional one absent or header-only as no rows, with
    its optional columns added blank; a codebook table after the rows of the folders it builds
    on, see `caserepro.codebook`), the problems of the files that cannot, and the file and line
    of each row of the tables merged from several files."""
    raw: dict[str, RawTable] = {}
    problems: list[Problem] = []
    origins: dict[str, pd.DataFrame] = {}
    try:
        inherits = bool(codebook.base_folders(raw_dir))
    except RawDataError as error:
        inherits, problems = False, error.problems
    for table in RAW_TABLES:
        path = raw_file(raw_dir, table)
        optional = table in schemas.OPTIONAL_TABLES
        if inherits and table in codebook.INHERITED:
            read, origins[table], found = codebook.read_inherited(raw_dir, table, names[table])
            problems += found
            if read is not None:
                raw[table] = _with_optional_columns(table, read)
                continue
        if not path.exists():
            if optional:
                columns = list(schemas.TABLE_SCHEMAS[table].to_schema().columns)
                raw[table] = RawTable(empty_coded(columns))
            else:
                inheritable = table in codebook.INHERITED
                where = " (or in a folder builds_on.csv names)" if inheritable else ""
                problems.append(Problem(names[table], None, None, f"file exists{where}", "missing"))
            continue
        try:
            read = read_raw_table(path, names[table], allow_empty=optional)
        except RawDataError as error:
            problems += error.problems
            continue
        raw[table] = _with_optional_columns(table, read)
    return raw, problems, origins


def _with_optional_columns(table: str, read: RawTable) -> RawTable:
    """The table with each optional column it leaves out added, blank (see OPTIONAL_COLUMNS)."""
    absent = [c for c in schemas.OPTIONAL_COLUMNS.get(table, ()) if c not in read.coded.columns]
    if not absent:
        return read
    blank = pd.Categorical.from_codes(
        np.full(len(read.coded), -1), dtype=pd.CategoricalDtype(pd.Index([], dtype="str"))
    )  # added to the table without copying its other columns (a concat would)
    return RawTable(read.coded.assign(**dict.fromkeys(absent, blank)))


def write_validated(
    raw_dir: str | Path, outputs: Mapping[str, str | Path]
) -> dict[str, pd.DataFrame]:
    """Validate the raw tables in `raw_dir` and write each to `outputs[table]` as Parquet; on bad
    input raise RawDataError, leaving no output written.

    Once every table has passed its own checks, the tables are written (two at a time: Arrow's
    writer releases the GIL) while the checks across tables still run: first beside their
    outputs (`<output>.checking`), then renamed into place only when every check has passed."""
    targets = {table: Path(outputs[table]) for table in RAW_TABLES}
    staged = {table: path.with_name(path.name + ".checking") for table, path in targets.items()}

    def write_staged(tables: dict[str, pd.DataFrame]) -> None:
        largest_first = sorted(tables, key=lambda table: -len(tables[table]))
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda table: write_table(staged[table], tables[table]), largest_first))

    try:
        tables = load_raw(raw_dir, text_as_categories=True, meanwhile=write_staged)
        for table, path in targets.items():
            os.replace(staged[table], path)
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)
    return tables
