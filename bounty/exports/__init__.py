"""Downloadable finance files built from what services return: CSV (streamed) and XLSX.

`csv_stream` writes CSV in bounded chunks of bytes, for a Flask streaming response or a file;
`xlsx` writes typed workbooks with openpyxl; `statements` turns the finance statements, the
trial balance, the journal and organisation activity into both. The rules of every file
(encoding, dates, amounts, CSV-injection neutralisation) are in docs/finance.md.
Exports read nothing themselves and change nothing.
"""
