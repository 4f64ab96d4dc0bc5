"""Ingest: read an extract, map it to the canonical model, validate it, load or quarantine every row."""
