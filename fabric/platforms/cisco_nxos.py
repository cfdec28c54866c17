"""Cisco NX-OS: no peer groups; `template peer` + prefix peering."""

CAPABILITIES = {
    "dynamic_neighbors": "yes",
    "listen_limit": "yes",
    "md5_dynamic": "yes",
    "bmp": "yes",
    "route_reflector": "yes",
}
FILES = {"configs/{name}.cfg": "cisco_nxos/config.j2"}
