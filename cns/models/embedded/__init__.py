"""Building blocks of the ``embedded`` NLI backend (network split and lexical features)."""
