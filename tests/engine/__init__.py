"""Tests of racecheck's foundation (issue 2); importable as ``engine`` so process workers find the targets."""
