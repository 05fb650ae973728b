"""Exports for the statisticians' tools: the wide CSV, its REDCap data dictionary, an Excel workbook."""
