"""``python -m streamwise`` runs the CLI."""

from streamwise.cli import app

app()
