"""Exam plans (考核计划): sessions, rooms, seating, staff, tickets and exports."""
