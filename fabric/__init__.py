"""Declarative BGP underlay fabric: model → IPAM → intent → configs → plan/apply/verify."""

__version__ = "0.1.0"
