"""Huawei VRP8 (CloudEngine CE series): two-stage commit."""

CAPABILITIES = {
    "dynamic_neighbors": "yes",
    "listen_limit": "yes",
    "md5_dynamic": "yes",
    "bmp": "yes",
    "route_reflector": "yes",
}
FILES = {"configs/{name}.cfg": "huawei_vrp/config.j2"}
