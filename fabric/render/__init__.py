"""The render stage: the intent through each platform's structured config
(context, platforms/<p>/structured.py) into text (engine), review documents and
Kubernetes objects (documents, kubernetes), written into build/ (write), only
what changed (incremental, cache)."""

from pathlib import Path

# Installed from a wheel, the templates are the package `fabric.templates`; in a
# checkout (an editable install too) they are the top-level templates/.
PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = next((d for d in (PACKAGE / "templates", PACKAGE.parent / "templates")
                  if d.is_dir()), PACKAGE / "templates")
