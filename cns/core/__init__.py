"""The pure core of CNS: the SNO data model. No I/O happens in this package."""
