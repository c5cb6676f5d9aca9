"""The ``cns`` command line (Typer + Rich). Commands parse, call the service layer and print."""
