"""The model stage: the fabric YAML read (source), checked against the schema and
the cross-field rules (schema, checks) into a validated `Model` (load); `fabric
init`'s starter models (starter)."""

from pathlib import Path

DEFAULT_MODEL = Path("inventory/fabric.yaml")
