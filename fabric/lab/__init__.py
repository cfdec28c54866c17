"""The local lab: the model's fabric as real FRR and GoBGP speakers in network
namespaces on this machine, never connected to the host's network."""
