"""Printable and downloadable reports built from what services return: documents, not pages.

A report takes a service's result (a dataclass), renders it (HTML from templates/reports/
through Jinja, then PDF through WeasyPrint; or CSV through the csv module) and returns the
bytes or text. Reports read nothing themselves and change nothing.
"""
