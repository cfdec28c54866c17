"""FRR (white-box switches, SONiC, and every switch in the local lab)."""

CAPABILITIES = {
    "dynamic_neighbors": "yes",
    "listen_limit": "yes",
    "md5_dynamic": "yes",   # needs Linux 4.14+ (TCP_MD5SIG with a prefix)
    "bmp": "yes",           # bgpd started with `-M bmp`
    "route_reflector": "yes",
}
FILES = {"configs/{name}.cfg": "frr/frr.conf.j2"}
