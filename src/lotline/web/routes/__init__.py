"""Console routes, one module per screen; each route declares its permission with ``need``."""
