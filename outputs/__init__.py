"""Outputs: spreadsheets and charts, read and written in one place.

- ``spreadsheets``: reading CSV/XLSX safely (limits, defusedxml, header row found) and writing
  them without live formulas; every import and export goes through it.
- ``cooperatives``, ``events``, ``reports``: the files of each feature (import, export).
- ``charts``: the 12-month chart of the monthly reports.
- ``progress``: progress on a terminal, and where exports go by default (``var/exports/``).
"""
