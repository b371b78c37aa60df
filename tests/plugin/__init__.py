"""Tests of racecheck's pytest plugin."""
