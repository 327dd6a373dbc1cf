"""construct schemas: the one description of every layout headerkit reads and writes."""
