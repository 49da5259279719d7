"""Analysis: pandas and statistics over the codings frame, no database. Theme matrices
(`matrices`, whose names this package also offers: `analysis.code_by_case(...)`), inter-coder
agreement (`agreement`) and the evaluation metrics of suggesters (`evaluation`)."""

from .matrices import (
                       COOCCURRENCE_MODES,
                       MATRIX_VALUES,
                       MISSING,
                       attribute_column,
                       attribute_values,
                       code_by_attribute,
                       code_by_case,
                       code_frequencies,
                       cooccurrence,
                       exemplar_quotes,
                       framework_matrix,
                       quotes_for,
                       themes,
                       value_labels,
                       )

__all__ = [
    "MISSING", "MATRIX_VALUES", "COOCCURRENCE_MODES", "code_frequencies", "code_by_case",
    "code_by_attribute", "attribute_values", "value_labels", "cooccurrence", "attribute_column",
    "quotes_for", "themes", "framework_matrix", "exemplar_quotes"]
