"""Leads: prospects' contact details, scored by the server, merged per email and tenant, worked on the lead desk.

Pure core: `ids` (LEAD- ids), `documents` (request bodies into submissions, the stored lead and its contract
view), `merge` (repeat submissions into one lead), `scoring` (the server's score and tier), `status` (the
pipeline machine), `emails` (notification and prospect email templates) and `export` (the streamed CSV).
"""
