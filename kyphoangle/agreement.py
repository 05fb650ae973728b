"""Reliability statistics: ICC(2,1) with its 95% CI, Bland-Altman limits, SEM and minimal detectable change.

Definitions (written here because the statisticians will ask):
- ICC(2,1): two-way random effects, absolute agreement, single measures (Shrout & Fleiss 1979, case 2;
  McGraw & Wong 1996, ICC(A,1)) from the two-way ANOVA of an n-subjects x k-raters table:
  `(MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)`. The 95% CI is McGraw & Wong's (1996, case 2A)
  with Satterthwaite's degrees of freedom, as in R's `psych::ICC` and `irr::icc`.
- Bland-Altman (1986): bias = mean of (rater 2 - rater 1); 95% limits of agreement = bias +/- 1.96 SD.
- SEM for absolute agreement (de Vet et al. 2006): `sqrt(rater variance + error variance)`, that is
  `sqrt((MSC - MSE) / n + MSE)` with a negative rater variance set to zero.
- Minimal detectable change (95%): `1.96 * sqrt(2) * SEM`.
Only complete rows (every rater measured the subject) enter the computation, and every statistic
needs at least `MIN_CASES` of them: with fewer it raises `TooFewCasesError`, whose message says so.

At the boundaries the interval follows McGraw & Wong's formulas to their limit instead of collapsing:
with no residual error (MSE = 0, the raters differ by constants only) Satterthwaite's degrees of
freedom tend to k - 1 and the bounds stay finite, as pingouin and R's psych give them; with no
between-subject variance (every column constant) the ICC is 0 and its interval is not estimable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from kyphoangle.errors import KyphoangleError

Z_95 = float(stats.norm.ppf(0.975))

MIN_CASES = 5
"""Fewest complete rows (cases) a reliability statistic is computed from.

With fewer, the F quantiles behind the ICC's interval have one to three degrees of freedom and the
limits of agreement rest on one to three differences: numbers a statistician could not use.
(Koo & Li, J Chiropr Med 2016;15:155, advise 30 or more for a reliability study.)
"""


class AgreementError(KyphoangleError):
    """A reliability statistic cannot be computed from these values."""


class TooFewCasesError(AgreementError):
    """Fewer complete rows than `MIN_CASES` (or the caller's minimum)."""

    def __init__(self, n_cases: int, minimum: int) -> None:
        super().__init__(f"too few cases for reliability statistics ({n_cases}; {minimum} or more)")
        self.n_cases = n_cases
        self.minimum = minimum


@dataclass(frozen=True, slots=True)
class TwoWayAnova:
    """Mean squares of a subjects x raters table without replication."""

    n_subjects: int
    k_raters: int
    ms_rows: float
    ms_columns: float
    ms_error: float


@dataclass(frozen=True, slots=True)
class IccResult:
    """ICC(2,1) with its 95% confidence interval and the ANOVA behind it."""

    icc: float
    ci_low: float
    """NaN when the interval is not estimable (see `icc_2_1`)."""
    ci_high: float
    """NaN when the interval is not estimable (see `icc_2_1`)."""
    anova: TwoWayAnova

    @property
    def ci_estimable(self) -> bool:
        """Whether the confidence interval could be estimated."""
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)


@dataclass(frozen=True, slots=True)
class BlandAltman:
    """Bias (second minus first) and 95% limits of agreement, in the measurement's unit."""

    n_pairs: int
    bias: float
    sd_difference: float
    lower_limit: float
    upper_limit: float


def _complete_table(
    values: Sequence[Sequence[float | None]] | npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    table = np.array(
        [[np.nan if v is None else float(v) for v in row] for row in values], dtype=np.float64, ndmin=2
    )
    if table.size == 0:
        raise AgreementError("no values to compare")
    return table[~np.isnan(table).any(axis=1)]


def two_way_anova(
    values: Sequence[Sequence[float | None]] | npt.NDArray[np.float64], *, min_cases: int = MIN_CASES
) -> TwoWayAnova:
    """Two-way ANOVA of an n x k table (rows: subjects, columns: raters); incomplete rows are dropped.

    Raises TooFewCasesError below `min_cases` complete rows (never fewer than 2, which the ANOVA needs).
    """
    table = _complete_table(values)
    n, k = table.shape
    if k < 2:
        raise AgreementError(f"need at least 2 raters, have {k}")
    if n < max(min_cases, 2):
        raise TooFewCasesError(n, max(min_cases, 2))
    grand = table.mean()
    ss_rows = k * float(((table.mean(axis=1) - grand) ** 2).sum())
    ss_columns = n * float(((table.mean(axis=0) - grand) ** 2).sum())
    ss_error = float(((table - grand) ** 2).sum()) - ss_rows - ss_columns
    return TwoWayAnova(
        n_subjects=n,
        k_raters=k,
        ms_rows=ss_rows / (n - 1),
        ms_columns=ss_columns / (k - 1),
        ms_error=max(ss_error, 0.0) / ((n - 1) * (k - 1)),
    )


def icc_2_1(
    values: Sequence[Sequence[float | None]] | npt.NDArray[np.float64],
    *,
    confidence: float = 0.95,
    min_cases: int = MIN_CASES,
) -> IccResult:
    """ICC(2,1), two-way random, absolute agreement, single measures, with its confidence interval.

    The interval is McGraw & Wong's (1996, case 2A; as in R's psych::ICC). Its Satterthwaite degrees of
    freedom use the estimate itself, and for a few subjects with a clearly negative estimate (seen up to
    seven subjects with error far above the spread between subjects) the interval can come out not
    containing the estimate: it is then reported as not estimable (NaN bounds) rather
    than as a wrong interval. With no residual error the degrees of freedom take their limit, k - 1
    (see the module's docstring); below `min_cases` complete rows it raises TooFewCasesError.
    """
    anova = two_way_anova(values, min_cases=min_cases)
    n, k = anova.n_subjects, anova.k_raters
    msr, msc, mse = anova.ms_rows, anova.ms_columns, anova.ms_error
    denominator = msr + (k - 1) * mse + k * (msc - mse) / n
    if denominator <= 0:
        raise AgreementError("all values are identical: the ICC is undefined")
    icc = (msr - mse) / denominator
    alpha = 1.0 - confidence
    if icc >= 1.0:
        return IccResult(icc, icc, icc, anova)
    if msr == 0.0 and mse == 0.0:
        return IccResult(icc, math.nan, math.nan, anova)
    a = k * icc / (n * (1.0 - icc))
    b = 1.0 + k * icc * (n - 1) / (n * (1.0 - icc))
    if mse == 0.0:
        v = float(k - 1)  # the limit of Satterthwaite's formula as MSE -> 0
    else:
        v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    f_upper = float(stats.f.ppf(1.0 - alpha / 2.0, n - 1, v))
    f_lower = float(stats.f.ppf(1.0 - alpha / 2.0, v, n - 1))
    common = k * msc + (k * n - k - n) * mse
    low = n * (msr - f_upper * mse) / (f_upper * common + n * msr)
    high = n * (f_lower * msr - mse) / (common + n * f_lower * msr)
    if not (math.isfinite(low) and math.isfinite(high) and low <= icc <= high):
        return IccResult(icc, math.nan, math.nan, anova)
    return IccResult(icc, low, high, anova)


def bland_altman(
    first: Sequence[float | None], second: Sequence[float | None], *, min_cases: int = MIN_CASES
) -> BlandAltman:
    """Bias and 95% limits of agreement of `second - first` over complete pairs.

    Raises TooFewCasesError below `min_cases` complete pairs (never fewer than 2).
    """
    if len(first) != len(second):
        raise AgreementError("the two series have different lengths")
    table = _complete_table(list(zip(first, second, strict=True)))
    if len(table) < max(min_cases, 2):
        raise TooFewCasesError(len(table), max(min_cases, 2))
    differences = table[:, 1] - table[:, 0]
    bias = float(differences.mean())
    sd = float(differences.std(ddof=1))
    return BlandAltman(len(table), bias, sd, bias - Z_95 * sd, bias + Z_95 * sd)


def sem_agreement(anova: TwoWayAnova) -> float:
    """Standard error of measurement for absolute agreement: sqrt(rater variance + error variance)."""
    rater_variance = max((anova.ms_columns - anova.ms_error) / anova.n_subjects, 0.0)
    return math.sqrt(rater_variance + anova.ms_error)


def minimal_detectable_change(sem: float) -> float:
    """Smallest change beyond measurement error with 95% confidence: 1.96 * sqrt(2) * SEM."""
    return Z_95 * math.sqrt(2.0) * sem
