"""H3C Comware V7 (S6800/S6850/S9850 and kin)."""

CAPABILITIES = {
    "listen_limit": "warn",  # no limit command was found in the command references
}
FILES = {"configs/{name}.cfg": "h3c_comware/config.j2"}
