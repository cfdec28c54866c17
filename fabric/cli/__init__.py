"""The command line: `fabric` and its subcommands (main)."""

from fabric.cli.main import main, parser

__all__ = ["main", "parser"]
