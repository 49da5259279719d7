"""Suggestions: NLP and learning, pure (no database). The vendored spaCy pipeline
(`pipeline`), the suggesters (`suggesters`: rules and the TF-IDF model, one small contract),
and `batch`, which parses and suggests in this process, a process pool or on Dask."""
