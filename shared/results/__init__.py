"""Session results: lead score, ROI and cost. Pure models over a stored session; no I/O."""
