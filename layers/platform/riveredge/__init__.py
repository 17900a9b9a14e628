"""RiverEdge platform layer: the code every domain function stands on."""
