"""The intent stage: what every speaker must do (types), the route policy every
rack and core applies (policy), built from the model and the allocation (build).
Nothing after this stage reads the model or the allocation."""
