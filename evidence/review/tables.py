"""Tables formatted for reading: what a student sees in the notebooks and on the site.

:func:`format_table` turns a results frame (one of :mod:`evidence.review`'s tables, a result's
``to_frame()``) into a :class:`Table` that shows it the way a journal would: no pandas row
index, readable column names, numbers rounded by what they are (2 decimals for effects, 3 for
tau^2, whole percent for I^2, ``<0.001`` for small p values), a confidence interval in one
column, missing values as an em dash, risk of bias in one vocabulary, and odds ratios on the
odds-ratio scale. Column headers explain themselves on hover and link to the glossary page of
the site. The numbers themselves are never changed except by the named transformations
(rounding; ``exp`` for ``scale="OR"``).
"""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "Table",
    "format_table",
    "format_rob",
    "format_p",
    "readable",
    "COLUMN_LABELS",
    "GLOSSARY",
    "FORMAT_CODES",
]

#: Rendered for a missing value.
MISSING = "\u2014"

#: Glossary anchor -> one-line definition (the tooltip of a column header). The site's glossary
#: page (docs/glossary.md) has a section with each anchor; a test checks that they agree.
GLOSSARY = {
    "hedges-g": "Hedges' g: standardized mean difference corrected for small samples; "
    "positive favours PDT",
    "odds-ratio": "Odds ratio: odds of the better outcome with PDT over the comparator; "
    "above 1 favours PDT",
    "confidence-interval": "95% confidence interval of the pooled (average) effect",
    "prediction-interval": "95% prediction interval: where the effect of a new, similar trial "
    "is expected to fall",
    "tau2": "tau-squared: variance of the true effects between trials",
    "i2": "I-squared: share of the variability in effects due to real differences, not chance",
    "q": "Cochran's Q: test of whether the trials share one true effect",
    "knapp-hartung": "Knapp-Hartung: t-based test and CI that account for uncertainty in tau^2",
    "equivalence-margin": "Equivalence margin: smallest difference in g that would matter",
    "k": "k: number of trial comparisons pooled",
    "rstudent": "Studentized deleted residual: how far a trial lies from the pooled effect of "
    "the others",
    "dffits": "DFFITS: how much the pooled effect moves when this trial is left out",
    "cooks-distance": "Cook's distance: overall influence of a trial on the fitted model",
    "covariance-ratio": "Covariance ratio: change in the precision of the pooled effect when "
    "the trial is left out (below 1: the trial makes the estimate more precise)",
    "hat": "Hat value (leverage): the weight of a trial relative to the others",
    "risk-of-bias": "Risk of bias as the source database rates it (RoB 2 judgement or RoB 1 "
    "criteria met)",
    "tost": "Two one-sided tests: equivalence is shown when the 90% CI lies inside the margins",
}

#: Column name -> (header, glossary anchor or None).
COLUMN_LABELS: dict[str, tuple[str, str | None]] = {
    "group": ("Group", None),
    "condition": ("Condition", None),
    "study": ("Study", None),
    "label": ("Study", None),
    "moderator": ("Moderator", None),
    "comparator": ("Comparator", None),
    "comparator_class": ("Comparator class", None),
    "pdt_variant": ("PDT variant", None),
    "format": ("Format", None),
    "sessions": ("Sessions", None),
    "rob": ("Risk of bias", "risk-of-bias"),
    "instruments": ("Instruments", None),
    "n_comparisons": ("Comparisons", None),
    "n_effects": ("Effects combined", None),
    "k": ("k", "k"),
    "levels": ("Levels", None),
    "se": ("SE", None),
    "df": ("df", None),
    "tau2": ("\u03c4\u00b2", "tau2"),
    "i2": ("I\u00b2 (%)", "i2"),
    "q": ("Q", "q"),
    "q_pvalue": ("p (Q)", "q"),
    "pvalue": ("p", None),
    "vi": ("Variance", None),
    "rstudent": ("rstudent", "rstudent"),
    "dffits": ("DFFITS", "dffits"),
    "cook.d": ("Cook's distance", "cooks-distance"),
    "cov.r": ("Covariance ratio", "covariance-ratio"),
    "tau2.del": ("\u03c4\u00b2 without trial", "tau2"),
    "QE.del": ("Q without trial", "q"),
    "hat": ("Hat", "hat"),
    "weight": ("Weight (%)", None),
    "inf": ("Influential", "cooks-distance"),
    "low": ("Lower margin", "equivalence-margin"),
    "high": ("Upper margin", "equivalence-margin"),
    "p_lower": ("p (lower test)", "tost"),
    "p_upper": ("p (upper test)", "tost"),
    "equivalent": ("Equivalent", "tost"),
    "noninferior": ("Non-inferior", "tost"),
    "egger_z": ("Egger z", None),
    "egger_p": ("Egger p", None),
    "begg_tau": ("Begg \u03c4", None),
    "begg_p": ("Begg p", None),
    "trimfill_k0": ("Trim-and-fill: k added", None),
    "trimfill_side": ("Trim-and-fill: side", None),
    "coefficient": ("Level (vs reference)", None),
    "qm": ("QM", None),
    "qm_pvalue": ("p (QM)", None),
    "r2": ("R\u00b2 (%)", None),
    "note": ("Note", None),
    "k_direct": ("Direct trials", None),
    "k_network": ("Trials in network", None),
    "direct": ("Direct", None),
    "indirect": ("Indirect", None),
    "indirect_method": ("Indirect from", None),
    "direct_share": ("Direct share", None),
    "network": ("Network", None),
    "pvalue_split": ("p (direct vs indirect)", None),
    "cinema": ("Confidence (CINeMA)", None),
    "cinema_reasons": ("Why (CINeMA)", None),
    "g_from_or": ("g from OR", None),
    "year_median": ("Median year", None),
    "year_range": ("Years", None),
    "low_rob_share": ("Share at low risk of bias", None),
    "p_pdt_better": ("P(PDT better)", None),
}
_COUNTS = {"k", "levels", "n_comparisons", "n_effects", "trimfill_k0", "trials", "comparisons"}
_PVALUES = {"pvalue", "q_pvalue", "p_lower", "p_upper", "egger_p", "begg_p", "qm_pvalue"}
_PVALUES |= {"pvalue_split", "p_detached", "p_holm", "p_bh"}
#: Column names that hold whole numbers (counts, years) whatever their dtype: ``k``, ``k_*``,
#: ``n_*``, ``*_k``, ``df*`` and years.
_WHOLE = re.compile(r"(k|n|df)(_\w+)?|\w+_k|studies|trials|year(_median)?|df_\w+")
_THREE = {"tau2", "tau2.del", "hat", "vi", "se"}
_WHOLE_PERCENT = {"i2", "r2", "weight"}
#: Columns on the effect scale (transformed together when ``scale="OR"``).
_EFFECT = {"estimate", "yi", "trimfill_estimate", "ci_low", "ci_high", "pi_low", "pi_high"}
_INTERVALS = (
    ("ci_low", "ci_high", "ci"),
    ("pi_low", "pi_high", "prediction-interval"),
    ("net_low", "net_high", "ci"),
    ("network_low", "network_high", "ci"),
    ("direct_low", "direct_high", "ci"),
    ("indirect_low", "indirect_high", "ci"),
)
_ROB_WORDS = {"low": "low", "some concerns": "some concerns", "unclear": "some concerns"}


def format_p(p: float) -> str:
    """A p value as a journal prints it.

    Examples
    --------
    >>> format_p(0.0000519), format_p(0.04109), format_p(0.5)
    ('<0.001', '0.041', '0.500')
    """
    if p is None or not math.isfinite(float(p)):
        return MISSING
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_rob(value: object) -> str:
    """Risk of bias in one vocabulary: the RoB 2 judgements ``low``, ``some concerns``,
    ``high``, or for a RoB 1 score (Metapsy's depression databases: the number of the four
    criteria sequence generation, allocation concealment, blinded assessment and
    intention-to-treat rated low risk) ``N/4 criteria met``.

    Examples
    --------
    >>> [format_rob(v) for v in ("High", "high risk", "Some concerns", "4.0", "", None)]
    ['high', 'high', 'some concerns', '4/4 criteria met', '—', '—']
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    text = str(value).strip().lower()
    if not text or text == "nan":
        return MISSING
    try:
        score = float(text)
    except ValueError:
        pass
    else:
        return f"{score:g}/4 criteria met"
    text = re.sub(r"\s+risk$", "", text)
    if text.startswith("high"):
        return "high"
    return _ROB_WORDS.get(text, text)


def _number(value: object, decimals: int) -> str:
    if value is None or isinstance(value, str):
        return MISSING if value in (None, "") else str(value)
    x = float(value)
    if not math.isfinite(x):
        return MISSING if math.isnan(x) else ("\u221e" if x > 0 else "-\u221e")
    out = f"{x:.{decimals}f}"
    return "0" + out[2:] if out.startswith("-0") and float(out) == 0 else out


def _cell(name: str, value: object) -> str:
    if name == "rob":
        return format_rob(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, str):
        return readable(value, column=name) if value.strip() else MISSING
    if not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
    if name in _PVALUES:
        return format_p(float(value))
    whole = name in _COUNTS or bool(_WHOLE.fullmatch(str(name))) or name == "sessions"
    if whole or isinstance(value, numbers.Integral):
        return _number(value, 0)
    if name in _WHOLE_PERCENT:
        return _number(value, 0)
    if name in _THREE:
        return _number(value, 3)
    return _number(value, 2)


@dataclass(frozen=True)
class Table:
    """A table ready to read: ``frame`` holds the formatted text cells under readable headers
    (no index); ``_repr_html_`` gives the HTML shown in notebooks and on the site."""

    frame: pd.DataFrame = field(repr=False)
    headers: tuple[tuple[str, str | None], ...]
    caption: str | None = None
    glossary: str | None = "glossary.html"

    def to_frame(self) -> pd.DataFrame:
        """The formatted cells (strings) with readable column names."""
        return self.frame.copy()

    def summary(self) -> str:
        """Plain-text rendering (what ``print`` shows)."""
        text = self.frame.to_string(index=False)
        return f"{text}\n{self.caption}" if self.caption else text

    def __str__(self) -> str:
        return self.summary()

    def _header(self, text: str, anchor: str | None) -> str:
        label = html.escape(text)
        if anchor is None:
            return label
        tip = html.escape(GLOSSARY[anchor], quote=True)
        if self.glossary is None:
            return f'<abbr title="{tip}">{label}</abbr>'
        href = html.escape(f"{self.glossary}#{anchor}", quote=True)
        return f'<a href="{href}" title="{tip}">{label}</a>'

    def _repr_html_(self) -> str:
        numeric = [
            bool(len(col)) and col.str.fullmatch(r"[-<\[\]\d.\u221e\u2014 ,%]+").all()
            for _, col in self.frame.items()
        ]
        head = "".join(f"<th>{self._header(t, a)}</th>" for t, a in self.headers)
        rows = []
        for values in self.frame.itertuples(index=False):
            cells = "".join(
                f'<td class="num">{html.escape(v)}</td>' if num else f"<td>{html.escape(v)}</td>"
                for v, num in zip(values, numeric, strict=True)
            )
            rows.append(f"<tr>{cells}</tr>")
        # a scroll container keeps a wide table inside the page's column (first column fixed);
        # the note follows it (a caption inside would be as wide as the table and scroll away)
        note = f'<p class="table-note">{html.escape(self.caption)}</p>' if self.caption else ""
        return (
            f'<div class="table-wrap"><table class="evidence-table"><thead><tr>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{note}"
        )


def format_table(
    frame: pd.DataFrame,
    *,
    scale: str | None = None,
    ci: str | None = None,
    drop: Sequence[str] = (),
    labels: dict[str, str] | None = None,
    caption: str | None = None,
    glossary: str | None = "glossary.html",
) -> Table:
    """Format a results frame for reading.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table of results. A named or non-default index becomes the first column.
    scale : {None, "g", "OR", "log OR"}, optional
        The scale of the effect columns (``estimate``, ``yi``, CI and PI limits). ``"OR"``
        means they hold log odds ratios and are shown exponentiated, as odds ratios; ``"g"``
        and ``"log OR"`` name the scale in the header; None calls them "Estimate".
    ci : str, optional
        Header of the confidence-interval column. By default the level the frame states: a
        ``ci_level`` column (fraction or percent; used here and not shown), a ``level``
        column (a result's ``to_frame()``) or, for an equivalence test (``alpha`` and
        ``p_lower``), ``1 - 2 alpha``; else ``"95% CI"``.
    drop : sequence of str
        Columns to leave out.
    labels : dict, optional
        Headers for columns (by original name) that replace the built-in ones.
    caption : str, optional
        A note under the table (e.g. the methods used).
    glossary : str or None
        Address of the glossary page that column headers link to; None for tooltips only.

    Returns
    -------
    Table

    Raises
    ------
    ValueError
        When ``scale`` is not one of the names above.

    Examples
    --------
    >>> df = pd.DataFrame(
    ...     {"k": [2, 1], "estimate": [0.17224, -0.34626], "ci_low": [-1.1276, -0.51398],
    ...      "ci_high": [1.47207, -0.17855], "i2": [0.0, float("nan")],
    ...      "pvalue": [0.3412, 5.2e-05]},
    ...     index=pd.Index(["depression", "social anxiety disorder"], name="group"))
    >>> print(format_table(df, scale="g"))
                      Group k     g         95% CI I² (%)      p
                 depression 2  0.17  [-1.13, 1.47]      0  0.341
    social anxiety disorder 1 -0.35 [-0.51, -0.18]      — <0.001
    >>> odds = format_table(pd.DataFrame({"estimate": [0.0, 0.693147]}), scale="OR")
    >>> odds.to_frame()["OR"].tolist()
    ['1.00', '2.00']
    """
    if scale not in (None, "g", "OR", "log OR"):
        raise ValueError(f"scale must be None, 'g', 'OR' or 'log OR'; got {scale!r}")
    df = frame.copy()
    if df.index.name is not None or df.index.names[0] is not None:
        df = df.reset_index()
    elif not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index(names="")
    df = df.drop(columns=[c for c in drop if c in df.columns])
    ci = ci or _ci_header(df)
    df = df.drop(columns=["ci_level"], errors="ignore")
    if scale == "OR":
        for col in _EFFECT & set(df.columns):
            df[col] = pd.to_numeric(df[col], errors="coerce").map(math.exp)
    effect = {None: "Estimate", "g": "g", "OR": "OR", "log OR": "log OR"}[scale]
    names = dict(COLUMN_LABELS)
    names["estimate"] = (effect, _effect_anchor(scale))
    names["yi"] = (effect, _effect_anchor(scale))
    names["trimfill_estimate"] = (f"Trim-and-fill: {effect}", None)
    names["ci"] = (ci, "confidence-interval")
    names["prediction-interval"] = ("95% PI", "prediction-interval")
    for key, text in (labels or {}).items():
        names[key] = (text, names.get(key, (text, None))[1])

    out, headers = {}, []
    columns = list(df.columns)
    done = set()
    for col in columns:
        if col in done:
            continue
        pair = next((p for p in _INTERVALS if col == p[0] and p[1] in columns), None)
        if pair is not None:
            lo, hi, key = pair
            out[lo] = [
                _interval(a, b) for a, b in zip(df[lo].to_numpy(), df[hi].to_numpy(), strict=True)
            ]
            done |= {lo, hi}
            headers.append(names[key])
            continue
        text, anchor = names.get(col, (_capital(str(col).replace("_", " ")), None))
        out[str(col)] = [_cell(col, v) for v in df[col].to_numpy(dtype=object)]
        headers.append((text, anchor))
        done.add(col)
    cells = pd.DataFrame(out, index=pd.RangeIndex(len(df)), dtype=object)
    cells.columns = [h[0] for h in headers]
    return Table(cells, tuple(headers), caption, glossary)


#: Words written in capitals (or mixed case) wherever a header is made from a column name.
_ACRONYMS = {"pdt": "PDT", "cbt": "CBT", "ptsd": "PTSD", "gad": "GAD", "rob": "RoB"}


def _capital(text: str) -> str:
    """A header from a column name: acronyms as written, a leading count ``k`` or ``p`` kept
    lower-case, else the first letter capitalised.

    >>> _capital("pdt vs cbt"), _capital("k direct usual care"), _capital("design by rob")
    ('PDT vs CBT', 'k direct usual care', 'Design by RoB')
    """
    words = [_ACRONYMS.get(w.lower(), w) for w in text.split(" ")]
    out = " ".join(words)
    return out if words[0] in ("k", "p") else out[:1].upper() + out[1:]


def _ci_header(df: pd.DataFrame) -> str:
    """The header of the CI column at the level the frame states (one level), else 95% CI.

    >>> _ci_header(pd.DataFrame({"alpha": [0.05], "p_lower": [0.01]}))
    '90% CI'
    >>> _ci_header(pd.DataFrame({"ci_level": [0.9, 0.9]})), _ci_header(pd.DataFrame({"k": [2]}))
    ('90% CI', '95% CI')
    """
    if "alpha" in df and "p_lower" in df:
        levels = 100 * (1 - 2 * pd.to_numeric(df["alpha"], errors="coerce"))
    elif "ci_level" in df or "level" in df:
        levels = pd.to_numeric(df["ci_level" if "ci_level" in df else "level"], errors="coerce")
        levels = levels.where(levels > 1, 100 * levels)
    else:
        return "95% CI"
    found = {round(float(v), 6) for v in levels.dropna()}
    return f"{found.pop():g}% CI" if len(found) == 1 else "95% CI"


def _effect_anchor(scale: str | None) -> str | None:
    return {"g": "hedges-g", "OR": "odds-ratio", "log OR": "odds-ratio"}.get(scale or "")


def _interval(low: object, high: object) -> str:
    a, b = _cell("ci_low", low), _cell("ci_high", high)
    return MISSING if MISSING in (a, b) else f"[{a}, {b}]"


#: Metapsy's codes of a trial's delivery format (the ``format`` column of the network data).
FORMAT_CODES = {
    "ind": "individual",
    "grp": "group",
    "gsh": "guided self-help",
    "ush": "unguided self-help",
    "tel": "telephone",
    "oth": "other",
    "cpl": "couple",
}

#: A snake_case identifier that is not part of a file name, path or call (``data/arms.csv``).
_IDENTIFIER = re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.(-])")
_CODE_COUNT = re.compile(r"\b([a-z]{3})(?=: \d)")


def _names() -> dict[str, str]:
    from .network_data import NODE_NAMES
    from .vocabulary import COMPARATOR_NAMES, CONDITION_NAMES

    return {**NODE_NAMES, **COMPARATOR_NAMES, **CONDITION_NAMES}


def readable(text: str, *, column: object = None) -> str:
    """A text cell in words: the identifiers of comparator classes, network nodes and conditions
    (``usual_care``, ``generalized_anxiety``) by their names, any other identifier with spaces,
    ``True``/``False`` as yes/no, and in a ``format`` column Metapsy's format codes
    (``gsh: 4; ind: 2``) spelled out.

    Examples
    --------
    >>> readable("behavioural_activation vs usual_care")
    'behavioural activation vs usual care'
    >>> readable("gsh: 4; ind: 2", column="format"), readable("True"), readable("cbt")
    ('guided self-help: 4; individual: 2', 'yes', 'CBT')
    >>> readable("follow_up"), readable("see data/outcomes_reports.csv")
    ('follow up', 'see data/outcomes_reports.csv')
    """
    if text in ("True", "False"):
        return "yes" if text == "True" else "no"
    names = _names()
    if text in names:  # a class, node or condition by its name: ``cbt`` -> ``CBT``
        return names[text]
    out = _IDENTIFIER.sub(lambda m: names.get(m.group(0), m.group(0).replace("_", " ")), text)
    out = out.replace("tau^2", "\u03c4\u00b2")  # prior labels of the engine (log(tau^2) ~ ...)
    if column == "format":
        out = _CODE_COUNT.sub(lambda m: FORMAT_CODES.get(m.group(1), m.group(1)), out)
    return out
