"""Reliability statistics against published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from kyphoangle.agreement import (
    MIN_CASES,
    AgreementError,
    TooFewCasesError,
    bland_altman,
    icc_2_1,
    minimal_detectable_change,
    sem_agreement,
    two_way_anova,
)

# Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability.
# Psychol Bull 1979;86:420-428, Table 2: six targets rated by four judges.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_shrout_fleiss_table_2_anova() -> None:
    # Table 3 of the paper: BMS 11.24, JMS 32.49, EMS 1.02.
    anova = two_way_anova(SHROUT_FLEISS)
    assert anova.ms_rows == pytest.approx(11.24, abs=0.005)
    assert anova.ms_columns == pytest.approx(32.49, abs=0.005)
    assert anova.ms_error == pytest.approx(1.02, abs=0.005)


def test_shrout_fleiss_icc_2_1_and_its_interval() -> None:
    # The paper gives ICC(2,1) = .29; R psych::ICC on the same data gives the 95% CI .019 to .76.
    result = icc_2_1(SHROUT_FLEISS)
    assert result.icc == pytest.approx(0.29, abs=0.005)
    assert result.ci_low == pytest.approx(0.019, abs=0.001)
    assert result.ci_high == pytest.approx(0.76, abs=0.005)


def test_perfect_agreement_gives_one() -> None:
    values = [[1.0, 1.0], [5.0, 5.0], [9.0, 9.0], [3.0, 3.0], [4.0, 4.0]]
    result = icc_2_1(values)
    assert result.icc == 1.0 and result.ci_low == 1.0 and result.ci_high == 1.0


# The constant-offset table of the test below, put through pingouin 0.7.0 (intraclass_corr, ICC(A,1),
# CI95 unrounded): ICC 0.8746962860118016, CI [0.00698915, 0.97637977]. Its residual mean square is
# zero up to rounding, so the interval is McGraw & Wong's at its limit (k - 1 degrees of freedom).
OFFSET_TRUTH = np.linspace(0.0, 30.0, 20)
OFFSET_TABLE = np.column_stack([OFFSET_TRUTH, OFFSET_TRUTH + 5.0])


def test_no_residual_error_keeps_a_real_interval_as_pingouin() -> None:
    result = icc_2_1(OFFSET_TABLE)
    assert result.anova.ms_error == pytest.approx(0.0, abs=1e-12)
    assert result.icc == pytest.approx(0.8746962860118016, abs=1e-12)
    assert result.ci_low == pytest.approx(0.00698915, abs=5e-8)
    assert result.ci_high == pytest.approx(0.97637977, abs=5e-8)


def test_the_limit_is_continuous_with_a_tiny_residual_error() -> None:
    # the same table with a residual error of 1e-6 degree: the interval barely moves
    noisy = OFFSET_TABLE + np.array([[1e-6, -1e-6] if i % 2 else [-1e-6, 1e-6] for i in range(20)])
    exact, near = icc_2_1(OFFSET_TABLE), icc_2_1(noisy)
    assert near.anova.ms_error > 0
    assert near.ci_low == pytest.approx(exact.ci_low, abs=1e-4)
    assert near.ci_high == pytest.approx(exact.ci_high, abs=1e-4)


def test_a_constant_column_matches_pingouin() -> None:
    # pingouin 0.7.0 on wine judge A of its `icc` data set against a judge who always says 5:
    # ICC(A,1) 0.0, CI [-0.83882249, 0.69498677]
    judge_a = [1.0, 1.0, 3.0, 6.0, 6.0, 7.0, 8.0, 9.0]
    result = icc_2_1(np.column_stack([judge_a, np.full(8, 5.0)]))
    assert result.icc == pytest.approx(0.0, abs=1e-12)
    assert result.ci_low == pytest.approx(-0.83882249, abs=5e-8)
    assert result.ci_high == pytest.approx(0.69498677, abs=5e-8)


def test_every_column_constant_has_no_interval() -> None:
    # no subject differs from another: ICC 0 and, as in pingouin, no interval
    result = icc_2_1(np.column_stack([np.full(8, 3.0), np.full(8, 5.0)]))
    assert result.icc == 0.0
    assert not result.ci_estimable


def test_too_few_cases_are_refused_by_the_statistics_themselves() -> None:
    rows = [[1.0, 2.0], [2.0, 3.5], [4.0, 4.5], [6.0, 7.0]]
    assert len(rows) == MIN_CASES - 1
    for compute in (lambda: icc_2_1(rows), lambda: bland_altman(*zip(*rows, strict=True))):
        with pytest.raises(
            TooFewCasesError, match=r"too few cases for reliability statistics \(4; 5 or more\)"
        ):
            compute()
    # incomplete rows do not count
    with pytest.raises(TooFewCasesError, match=r"\(4; 5"):
        icc_2_1([*rows, [None, 1.0]])
    assert icc_2_1([*rows, [8.0, 8.0]]).anova.n_subjects == MIN_CASES


def test_constant_offset_lowers_absolute_agreement() -> None:
    truth = np.linspace(0.0, 30.0, 20)
    result = icc_2_1(np.column_stack([truth, truth + 5.0]))
    assert 0.5 < result.icc < 1.0  # consistency would be 1, absolute agreement is not


def test_incomplete_rows_are_dropped_and_small_tables_refused() -> None:
    anova = two_way_anova([[1.0, 2.0], [None, 3.0], [4.0, 4.5], [6.0, 7.0]], min_cases=2)
    assert anova.n_subjects == 3
    with pytest.raises(TooFewCasesError, match="too few cases"):
        icc_2_1([[1.0, 2.0], [None, 3.0]], min_cases=2)
    with pytest.raises(AgreementError, match="identical"):
        icc_2_1([[2.0, 2.0], [2.0, 2.0]], min_cases=2)


def test_bland_altman_hand_computed() -> None:
    first = [10.0, 12.0, 14.0, 16.0]
    second = [11.0, 12.0, 16.0, 17.0]  # differences 1, 0, 2, 1: mean 1, SD sqrt(2/3)
    result = bland_altman(first, second, min_cases=4)
    sd = math.sqrt(2.0 / 3.0)
    assert (result.n_pairs, result.bias, result.sd_difference) == (4, pytest.approx(1.0), pytest.approx(sd))
    assert result.lower_limit == pytest.approx(1.0 - 1.959964 * sd, abs=1e-5)
    assert result.upper_limit == pytest.approx(1.0 + 1.959964 * sd, abs=1e-5)
    with pytest.raises(AgreementError):
        bland_altman([1.0], [2.0], min_cases=1)


def test_sem_and_mdc() -> None:
    anova = two_way_anova(SHROUT_FLEISS)
    sem = sem_agreement(anova)
    assert sem == pytest.approx(math.sqrt((32.49 - 1.02) / 6 + 1.02), abs=0.01)
    assert minimal_detectable_change(sem) == pytest.approx(1.959964 * math.sqrt(2) * sem)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=3, max_value=30), st.integers(min_value=0, max_value=10_000))
def test_icc_lies_in_its_interval(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.normal(10.0, 8.0, n)
    table = np.column_stack([truth + rng.normal(0, 2.0, n), truth + rng.normal(1.0, 2.0, n)])
    result = icc_2_1(table, min_cases=3)
    assert result.ci_low <= result.icc <= result.ci_high
    assert result.ci_high <= 1.0  # the lower bound may fall below -1 for tiny n, as in R


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=12), st.integers(min_value=0, max_value=100_000))
def test_an_interval_never_excludes_its_estimate(n: int, seed: int) -> None:
    # little between-subject spread and much error: estimates near or below zero, where the
    # McGraw & Wong interval can fail for tiny n
    rng = np.random.default_rng(seed)
    truth = rng.normal(10.0, 1.0, n)
    table = np.column_stack([truth + rng.normal(0, 3.0, n), truth + rng.normal(1.0, 3.0, n)])
    try:
        result = icc_2_1(table, min_cases=2)
    except AgreementError:
        assume(False)  # a table the ICC cannot be computed on is not an example of this property
        raise
    if result.ci_estimable:
        assert result.ci_low <= result.icc <= result.ci_high
    else:
        # only a negative estimate from few subjects makes the interval fail (up to n = 7 seen)
        assert math.isnan(result.ci_low) and math.isnan(result.ci_high) and result.icc < 0


def test_a_failed_interval_is_reported_as_not_estimable() -> None:
    # two subjects, a negative estimate: the formula gives bounds that do not contain it
    result = icc_2_1([[6.8, 12.7], [10.6, 9.5]], min_cases=2)
    assert result.icc < 0
    assert not result.ci_estimable


def test_reports_state_how_the_statistics_are_computed() -> None:
    from kyphoangle.agreement_report import AgreementReport, text_lines

    text = "\n".join(text_lines(AgreementReport("C1", ())))
    assert "ICC(2,1)" in text and "McGraw & Wong" in text and "too few cases" in text
    assert "SEM = sqrt((MSC - MSE) / n + MSE)" in text and "MDC95 = 1.96 * sqrt(2) * SEM" in text


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=5, max_value=40),
    st.integers(min_value=2, max_value=5),
    st.integers(min_value=0, max_value=10_000),
)
def test_without_residual_error_the_interval_is_mcgraw_wong_at_its_limit(n: int, k: int, seed: int) -> None:
    # raters differing by constants only: MSE = 0, Satterthwaite's degrees of freedom tend to k - 1
    rng = np.random.default_rng(seed)
    truth = rng.normal(10.0, 5.0, n)
    offsets = rng.normal(0.0, 2.0, k)
    result = icc_2_1(truth[:, None] + offsets[None, :])
    msr, msc = result.anova.ms_rows, result.anova.ms_columns
    f_upper = float(stats.f.ppf(0.975, n - 1, k - 1))
    f_lower = float(stats.f.ppf(0.975, k - 1, n - 1))
    assert result.ci_low == pytest.approx(n * msr / (f_upper * k * msc + n * msr), rel=1e-6)
    assert result.ci_high == pytest.approx(n * f_lower * msr / (k * msc + n * f_lower * msr), rel=1e-6)
    assert result.ci_low < result.icc < result.ci_high < 1.0
