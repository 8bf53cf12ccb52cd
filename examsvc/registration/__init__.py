"""Candidate registration (考生报名): the pure core.

ID numbers (``identity``), eligibility rules per certificate level (``eligibility``), exam fees
against the national caps (``fees``) and the Excel roster (``roster_format``). No Flask or
SQLAlchemy here: the services and pages build on these modules.
"""
