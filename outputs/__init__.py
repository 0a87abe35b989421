"""Outputs: spreadsheets and charts, read and written in one place."""
