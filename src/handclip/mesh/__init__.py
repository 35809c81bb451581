"""Hand-mesh topology: template loaders (renderer hand, MANO) and the coarse-to-fine node hierarchy."""
