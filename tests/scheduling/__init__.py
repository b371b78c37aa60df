"""Tests of racecheck's controlled scheduling (issue 5)."""
