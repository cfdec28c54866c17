"""Drivers: how this tool talks to each kind of speaker."""
