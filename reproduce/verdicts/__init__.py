"""Verdicts on finished results: the archival check (against the paper), the reference check
(against the shipped reference) and REPORT.md."""
