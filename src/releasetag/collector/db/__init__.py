"""All SQL of the collector: ``store`` (the database, its schema, group commit and the rows
of releases, events, commits, deploys and artifacts), ``issues`` (issues, regressions and
commit references), ``notifications`` (deploy mail records). The modules above it hold the
logic and never write a query."""
