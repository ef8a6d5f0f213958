"""The local stack: the whole system on one machine, on moto, driven by template.yaml."""
