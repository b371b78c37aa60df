"""The fault kinds, one module each; racecheck.faults.registry lists them."""
