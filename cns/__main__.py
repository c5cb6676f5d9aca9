"""``python -m cns`` runs the CLI."""

from cns.cli.main import run

if __name__ == "__main__":
    run()
