"""The report table: its columns, their validation, and the footer.

``catalog`` declares every column once; ``validation`` builds the pandera model from it
and checks a merged table; ``footer`` writes the project metadata into the Parquet footer
and reads a report back (``api.load``).
"""
