"""Grading and results (issue 7) as pure rules: scoring, marking, results, statistics, charts."""
