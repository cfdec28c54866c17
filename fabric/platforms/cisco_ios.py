"""Cisco IOS / IOS-XE."""

CAPABILITIES = {
    "dynamic_neighbors": "yes",
    "listen_limit": "yes",
    "md5_dynamic": "yes",
    "bmp": "yes",
    "route_reflector": "yes",
}
FILES = {"configs/{name}.cfg": "cisco_ios/config.j2"}
