"""Theme matrices from a tidy codings frame (Project.codings_frame): pure pandas, no store.

Used by the app's themes page, the exports and notebooks. Codes are rows in codebook order when
a codebook is given; columns are cases or attribute values.
"""

import pandas as pd

from ..records import count_words

MISSING = "(missing)"  # the label of a case with no value for an attribute

MATRIX_VALUES = ("count", "presence", "words", "percent")
COOCCURRENCE_MODES = ("turn", "overlap")


def code_frequencies(frame, codebook=None):
    """Per code: codings, documents and cases it appears in."""
    columns = ["code", "code_name", "codings", "documents", "cases"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    table = frame.groupby("code").agg(code_name=("code_name", "first"),
                                      codings=("coding_id", "count"),
                                      documents=("document", "nunique"),
                                      cases=("case", "nunique")).reset_index()
    return _in_codebook_order(table.set_index("code"), codebook).reset_index()[columns]


def code_by_case(frame, value="count", cases=None, case_words=None, codebook=None):
    """Codes x cases. value: 'count' (codings), 'presence' (0/1), 'words' (words coded, each
    word once per code even where codings overlap) or 'percent' (words coded as a % of the
    case's participant words; needs case_words {case: words})."""
    if value not in MATRIX_VALUES:
        raise ValueError(f"value must be one of {', '.join(MATRIX_VALUES)}")
    if value in ("words", "percent"):
        cells = _coded_words(frame)
    else:
        cells = frame.groupby(["code", "case"]).size() if not frame.empty else pd.Series()
    matrix = cells.unstack("case", fill_value=0) if len(cells) else pd.DataFrame()
    if cases is not None:
        matrix = matrix.reindex(columns=list(cases), fill_value=0)
    matrix = _in_codebook_order(matrix, codebook).fillna(0)
    if value == "presence":
        matrix = (matrix > 0).astype(int)
    elif value == "percent":
        if case_words is None:
            raise ValueError("percent needs case_words (participant words per case)")
        totals = pd.Series({c: case_words.get(c, 0) for c in matrix.columns}, dtype=float)
        matrix = (matrix.div(totals.where(totals > 0), axis=1) * 100).fillna(0).round(2)
    else:
        matrix = matrix.astype(int)
    matrix.columns.name, matrix.index.name = "case", "code"
    return matrix


def code_by_attribute(frame, attribute, codebook=None, values=None):
    """Codes x values of a case attribute: codings and the number of cases with the code.
    `values` (every value the cases have) adds columns of zeros for values no coding has, as
    code_by_case keeps every case. Returns (codings matrix, cases matrix)."""
    if frame.empty or attribute not in frame.columns:
        raise ValueError(f"no case attribute '{attribute}' in the codings")
    data = frame.assign(_value=value_labels(frame[attribute]))
    codings = data.groupby(["code", "_value"]).size().unstack("_value", fill_value=0)
    cases = data.groupby(["code", "_value"])["case"].nunique().unstack("_value", fill_value=0)
    result = []
    for matrix in (codings, cases):
        if values is not None:
            matrix = matrix.reindex(columns=list(dict.fromkeys([*values, *matrix.columns])),
                                    fill_value=0)
        matrix = _in_codebook_order(matrix, codebook).fillna(0).astype(int)
        matrix.columns.name, matrix.index.name = attribute, "code"
        result.append(matrix)
    return tuple(result)


def attribute_values(cases, attribute):
    """The values of a case attribute as code_by_attribute labels them: numbers in numeric
    order (3 before 11), then text, then "(missing)"."""
    return sorted(set(value_labels(cases[attribute])), key=_label_order)


def _label_order(label):
    if label == MISSING:
        return (2, 0, label)
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0, label)


def value_labels(series):
    """Attribute values as every table labels them: text, whole numbers without ".0" (a
    column with a missing value stores 40 as 40.0), and "(missing)" for no value."""
    return series.astype(object).map(_value_label)


def _value_label(value):
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return MISSING
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cooccurrence(frame, mode="turn", codebook=None):
    """Codes x codes: in how many turns both codes appear (mode 'turn'), or how many pairs of
    their codings overlap in the text (mode 'overlap'). The diagonal counts turns (or codings)
    with the code."""
    if mode not in COOCCURRENCE_MODES:
        raise ValueError(f"mode must be one of {', '.join(COOCCURRENCE_MODES)}")
    codes = _order(sorted(frame["code"].unique()) if not frame.empty else [], codebook)
    matrix = pd.DataFrame(0, index=codes, columns=codes, dtype=int)
    if frame.empty:
        return matrix
    if mode == "turn":  # turns x codes presence, then presence' presence counts pairs of codes
        presence = (pd.crosstab([frame["document"], frame["turn"]], frame["code"]) > 0)
        presence = presence.reindex(columns=codes, fill_value=False).astype(int)
        matrix = presence.T.dot(presence)
    else:
        position = {code: i for i, code in enumerate(codes)}
        counts = matrix.to_numpy().copy()
        for _, group in frame.groupby("document"):
            rows = group.sort_values("start")[["code", "start", "end"]].to_numpy().tolist()
            for i, (code_a, _, end_a) in enumerate(rows):
                a = position[code_a]
                counts[a, a] += 1
                for code_b, start_b, _ in rows[i + 1:]:
                    if start_b >= end_a:
                        break
                    if code_b != code_a:
                        b = position[code_b]
                        counts[a, b] += 1
                        counts[b, a] += 1
        matrix = pd.DataFrame(counts, index=codes, columns=codes)
    matrix.index.name = matrix.columns.name = "code"
    return matrix


def attribute_column(frame, attribute):
    """The codings-frame column of a case attribute: a case attribute named like a fixed column
    (`role`) is `case_role` in the frame."""
    prefixed = f"case_{attribute}"
    return prefixed if prefixed in frame.columns else attribute


def quotes_for(frame, code=None, case=None, attribute=None, value=None):
    """The codings behind a matrix cell (or a row or a column), for showing their quotes."""
    selected = frame
    if code is not None:
        selected = selected[selected["code"] == code]
    if case is not None:
        selected = selected[selected["case"] == case]
    if attribute is not None:
        selected = selected[value_labels(selected[attribute]) == str(value)]
    return selected


def _coded_words(frame):
    """Words inside the union of each code's spans, per case."""
    if frame.empty:
        return pd.Series(dtype=int)
    totals = {}
    for (code, case, _), group in frame.groupby(["code", "case", "document"]):
        words, end_seen = 0, -1
        for quote_start, quote_end, quote in sorted(zip(group["start"], group["end"],
                                                        group["quote"])):
            if quote_start < end_seen:  # overlap: count only the part after end_seen
                quote = quote[end_seen - quote_start:] if quote_end > end_seen else ""
            words += count_words(quote)
            end_seen = max(end_seen, quote_end)
        totals[(code, case)] = totals.get((code, case), 0) + words
    series = pd.Series(totals)
    series.index.names = ["code", "case"]
    return series


def _order(codes, codebook):
    if codebook is None:
        return list(codes)
    order = {code.id: i for i, code in enumerate(codebook.walk())}
    return sorted(codes, key=lambda c: (order.get(c, len(order)), c))


def _in_codebook_order(matrix, codebook):
    return matrix.reindex(_order(matrix.index, codebook)) if len(matrix.index) else matrix


def themes(codebook):
    """The top-level codes: the columns of a framework matrix."""
    return [code for code in codebook.codes if code.parent is None]


def framework_matrix(frame, codebook, summaries=None, exemplars=2, cases=None):
    """Cases x themes (top-level codes). Each cell holds the analyst's summary for that case and
    theme (summaries: {(case, theme id): text}) and up to `exemplars` quotes coded with the theme
    or any code under it, participants' words first, longer (up to 80 words) before shorter.
    Returns a DataFrame of cell texts."""
    summaries = summaries or {}
    columns = themes(codebook)
    case_names = list(cases) if cases is not None else sorted(frame["case"].dropna().unique())
    quotes = {}
    if not frame.empty:  # the best quotes of every case and theme, chosen in one pass
        with_theme = frame.assign(theme_id=frame["code_path"].str.split("/").str[0])
        best = exemplar_quotes(with_theme, exemplars, by=["case", "theme_id"])
        for quote in best.itertuples():
            quotes.setdefault((quote.case, quote.theme_id), []).append(
                f"\u201c{' '.join(quote.quote.split())}\u201d "
                f"({quote.document}, turn {quote.turn})")
    rows = {}
    for case in case_names:
        row = {}
        for theme in columns:
            parts = [summaries[(case, theme.id)]] if summaries.get((case, theme.id)) else []
            row[theme.name] = "\n".join(parts + quotes.get((case, theme.id), []))
        rows[case] = row
    matrix = pd.DataFrame.from_dict(rows, orient="index", columns=[t.name for t in columns])
    matrix.index.name = "case"
    return matrix.fillna("")


def exemplar_quotes(codings, n, by=None):
    """The n codings that best show a code (or n per group of the `by` columns): participants
    first, then quotes of 6 to 80 words, then longer before shorter; ties in document order."""
    if codings.empty or n <= 0:
        return codings.head(0)
    words = codings["quote"].map(count_words)
    ranked = codings.assign(
        _participant=(codings["role"] == "participant").astype(int),
        _fits=words.between(6, 80).astype(int),
        _length=words.clip(upper=80))
    ranked = ranked.sort_values(["_participant", "_fits", "_length", "document", "start"],
                                ascending=[False, False, False, True, True])
    ranked = ranked.drop_duplicates(subset=[*(by or []), "document", "start", "end"])
    best = ranked.groupby(by, sort=False).head(n) if by else ranked.head(n)
    return best.drop(columns=["_participant", "_fits", "_length"])
