"""Small target systems the fault tests race, each in a buggy and a correct form.

Importable as ``faults.targets.<module>`` (tests/ is on sys.path, also in spawned workers).
"""
