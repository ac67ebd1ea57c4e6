"""Readers' labels: a reported text stands for what the audit says it stands for."""

import pandas as pd
from caserepro.intervals import printed
from caserepro.labels import codebook, reported_interval


def test_reported_interval_reads_printed_values_as_the_audit_does(tables):
    meanings = codebook(tables).meanings  # qualifiers.csv: 'more than' means '>'
    reported = pd.Series(["more than 505", "505", "[1.6385, 1.6468]", "less than 10", "48-53"])
    stands_for, decimals = reported_interval(reported, pd.Series([0, 0, 1, 0, 0]), meanings)
    audit = printed(pd.Series([505.0, 505.0]), pd.Series([0, 0]), pd.Series([">", None]))
    assert stands_for.lo.tolist()[:2] == audit.lo.tolist() == [505.0, 504.5]
    assert stands_for.hi.tolist()[:4] == [float("inf"), 505.5, 1.6468, 10.0]
    assert stands_for.lo.iloc[3] == float("-inf") and stands_for.lo.isna().tolist()[4]
    assert decimals.tolist() == [1, 1, 2, 1, 1]


def test_a_word_the_codebook_does_not_know_leaves_the_value_unread(tables):
    meanings = {**codebook(tables).meanings, "under": "<"}  # a paper's own word, as a new row
    reported = pd.Series(["under 10", "roughly 10"])
    stands_for, _ = reported_interval(reported, pd.Series([0, 0]), meanings)
    assert stands_for.lo.iloc[0] == float("-inf") and stands_for.hi.iloc[0] == 10.0
    assert stands_for.lo.isna().iloc[1] and stands_for.hi.isna().iloc[1]
