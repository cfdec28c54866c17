"""The render stage: the intent through each platform's structured config
(context, platforms/<p>/structured.py) into text (engine), review documents and
Kubernetes objects (documents, kubernetes), written into build/ (write)."""
