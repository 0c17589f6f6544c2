"""Schema version 9 (``V9``): source bundles among the debug files.

A source bundle (``debug-files upload --include-sources``) is stored in ``debug_files`` with
``kind = 'sourcebundle'`` (``collector/native_sources.py`` recognises one by its ``SYSB``
header at upload). Bundles uploaded before version 9 were stored without a kind; this step
marks them, so the native resolver no longer takes one for the debug file it reads symbols
and line tables from, and their sources give context to native frames.
"""

from __future__ import annotations

V9 = """
UPDATE debug_files SET kind = 'sourcebundle'
    WHERE kind IS NULL AND substr(data, 1, 4) = X'53595342'
"""
