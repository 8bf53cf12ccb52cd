"""Exam sites (考核站点) and rooms (考场) with their seat maps."""
