"""H3C Comware V7 (S6800/S6850/S9850 and kin)."""

CAPABILITIES = {
    "dynamic_neighbors": "yes",
    "listen_limit": "warn",  # no limit command was found in the command references
    "md5_dynamic": "yes",
    "bmp": "yes",
    "route_reflector": "yes",
}
FILES = {"configs/{name}.cfg": "h3c_comware/config.j2"}
