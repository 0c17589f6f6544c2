"""``python -m releasetag`` runs the CLI."""

from releasetag.cli.main import run

run()
