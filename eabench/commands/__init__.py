"""Subcommands of the ``eabench`` command line (see ``eabench.cli``)."""
