"""Automatic sizing of amplifier topologies in sky130: port roles, testbenches, measurements,
gm/Id tables, matching groups and a multi-objective search (see ``eda topo size``)."""
