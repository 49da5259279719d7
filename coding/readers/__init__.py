"""Readers: bytes -> records, no database. One module per source: transcripts by format
(`transcripts`, with `text` for decoding and `speakers` for turns), codebook files
(`codebooks`), participants sheets (`participants`), codings files (`codings_file`), the rows
of a spreadsheet (`sheets`), Word comments (`word_comments`) and safe archives (`archive`)."""
